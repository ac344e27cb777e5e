package telemetry_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/kafkatest"
	"github.com/sluice-io/sluice/libs/telemetry"
	"github.com/sluice-io/sluice/libs/telemetrytest"
)

// TestPrometheusScrape checks the names operators' dashboards use: the
// service's own counters, gauges and histograms under sluice_<service>_, and
// kotel's client metrics beside them.
func TestPrometheusScrape(t *testing.T) {
	cluster := kafkatest.New(t, 1, "logs.raw")
	tel := newTel(t, "shipper")
	tel.Counter("lines_read", "Log events read from files.").Add(3)
	tel.Gauge("in_flight_bytes", "Bytes produced and not yet acknowledged.").Set(42)
	h := tel.Histogram("produce.duration", "s", "Produce to acknowledgement.")
	h.Record(context.Background(), 0.003)
	tel.Histogram("batch.size", "{record}", "Records per batch.").Record(context.Background(), 7)

	producer := cluster.Client(tel.KafkaOpts()...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	recs := []*kgo.Record{{Topic: "logs.raw", Value: []byte("one")}, {Topic: "logs.raw", Value: []byte("two")}}
	if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// kgo calls the batch-written hook after it finished the promises, so
	// the record counts can trail ProduceSync by a moment.
	var mfs map[string]*dto.MetricFamily
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mfs = telemetrytest.Scrape(t, tel.Handler())
		if n, _ := telemetrytest.Value(mfs, "sluice_shipper_messaging_kafka_produce_records_count_total", nil); n == 2 {
			break
		}
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64 // -1: any value, present
	}{
		{"sluice_shipper_lines_read_total", nil, 3},
		{"sluice_shipper_in_flight_bytes", nil, 42},
		{"sluice_shipper_produce_duration_seconds", nil, 1},
		{"sluice_shipper_batch_size", nil, 1},
		{"sluice_shipper_messaging_kafka_produce_records_count_total", map[string]string{"topic": "logs.raw"}, 2},
		// kotel declares bytes as unit "by", which the exporter appends as is.
		{"sluice_shipper_messaging_kafka_produce_bytes_count_by_total", map[string]string{"topic": "logs.raw"}, -1},
		{"sluice_shipper_messaging_kafka_connects_count_total", nil, -1},
		{"sluice_shipper_messaging_kafka_request_duration_seconds", map[string]string{"request": "Produce", "outcome": "success"}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := telemetrytest.Value(mfs, tc.name, tc.labels)
			if !ok {
				var names []string
				for n := range mfs {
					names = append(names, n)
				}
				sort.Strings(names)
				t.Fatalf("no %s%v in the scrape; have %v", tc.name, tc.labels, names)
			}
			if tc.want >= 0 && got != tc.want {
				t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

func TestAccountsCardinality(t *testing.T) {
	tel := newTel(t, "shipper")
	acc := tel.Accounts("container", 2)
	if again := tel.Accounts("container", 100); again != acc {
		t.Fatal("Accounts with the same name should return the same accounts")
	}
	acc.Add("shop", "web-0", "nginx", telemetry.LinesTailed, 10)
	acc.Add("shop", "web-0", "nginx", telemetry.BytesTailed, 1000)
	acc.Add("shop", "web-1", "nginx", telemetry.LinesTailed, 5)
	acc.Add("payments", "api-0", "app", telemetry.LinesTailed, 7) // third key: _other
	acc.Add("search", "es-0", "es", telemetry.LinesTailed, 1)     // fourth key: _other
	acc.Add("shop", "web-0", "nginx", telemetry.LinesTailed, -3)  // ignored: counters only grow

	o := telemetry.Other
	want := []telemetry.AccountRow{
		{Namespace: "shop", Pod: "web-0", Container: "nginx", Counts: map[telemetry.Field]int64{telemetry.LinesTailed: 10, telemetry.BytesTailed: 1000}},
		{Namespace: "shop", Pod: "web-1", Container: "nginx", Counts: map[telemetry.Field]int64{telemetry.LinesTailed: 5}},
		{Namespace: o, Pod: o, Container: o, Counts: map[telemetry.Field]int64{telemetry.LinesTailed: 8}},
	}
	if got := acc.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Snapshot =\n%+v\nwant\n%+v", got, want)
	}

	mfs := telemetrytest.Scrape(t, tel.Handler())
	if n := len(mfs["sluice_shipper_container_lines_tailed_total"].GetMetric()); n != 3 {
		t.Errorf("%d lines_tailed series, want 3 (two containers and _other)", n)
	}
	for _, tc := range []struct {
		metric, ns, pod string
		want            float64
	}{
		{"sluice_shipper_container_lines_tailed_total", "shop", "web-0", 10},
		{"sluice_shipper_container_bytes_tailed_total", "shop", "web-0", 1000},
		{"sluice_shipper_container_lines_tailed_total", o, o, 8},
	} {
		got, ok := telemetrytest.Value(mfs, tc.metric, map[string]string{"k8s_namespace_name": tc.ns, "k8s_pod_name": tc.pod})
		if !ok || got != tc.want {
			t.Errorf("%s{%s/%s} = %v (found %v), want %v", tc.metric, tc.ns, tc.pod, got, ok, tc.want)
		}
	}
	if _, ok := mfs["sluice_shipper_container_lines_indexed_total"]; ok {
		t.Error("fields nobody counted should not be exported")
	}

	// Forgetting a container frees its key for a new one.
	acc.Forget("shop", "web-1", "nginx")
	acc.Add("logs", "new-0", "app", telemetry.LinesTailed, 2)
	rows := acc.Snapshot()
	if rows[0].Pod != "new-0" || rows[0].Counts[telemetry.LinesTailed] != 2 {
		t.Errorf("after Forget the new container should have its own row: %+v", rows)
	}
}

func TestAccountsConcurrent(t *testing.T) {
	tel := newTel(t, "parser")
	acc := tel.Accounts("container", 10)
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 1000 {
				acc.Add("ns", fmt.Sprintf("pod-%d", (g+i)%20), "c", telemetry.LinesParsed, 1)
			}
		}()
	}
	for range 8 {
		<-done
	}
	var sum int64
	rows := acc.Snapshot()
	for _, r := range rows {
		sum += r.Counts[telemetry.LinesParsed]
	}
	if sum != 8000 || len(rows) != 11 {
		t.Fatalf("sum %d over %d rows, want 8000 over 11", sum, len(rows))
	}
}

func TestFieldNames(t *testing.T) {
	var names []string
	for _, f := range telemetry.Fields() {
		names = append(names, f.String())
	}
	want := []string{"lines_tailed", "bytes_tailed", "lines_produced", "lines_parsed", "lines_indexed",
		"lines_dead_lettered", "bytes_skipped_rotation", "bytes_skipped_truncation", "lines_oversized", "lines_failed"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("fields %v, want %v", names, want)
	}
}
