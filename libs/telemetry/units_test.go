package telemetry_test

import (
	"context"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/telemetry"
	"github.com/sluice-io/sluice/libs/telemetrytest"
)

// TestOperatorMetrics pins what a dashboard needs besides the service's
// own counters: the runtime and process collectors, a resource naming the
// service, values in base units, lag per partition, and the delay and
// latency histograms.
func TestOperatorMetrics(t *testing.T) {
	tel := newTel(t, "indexer")
	tel.DurationGauge("retry.backoff", "Current wait before the next retry round.").Set(1500 * time.Millisecond)
	calls := 0
	tel.ObserveLag(func(context.Context) []telemetry.PartitionLag {
		calls++
		return []telemetry.PartitionLag{{Topic: "logs.parsed", Partition: 3, Lag: 42}}
	})
	tel.ObserveLag(func(context.Context) []telemetry.PartitionLag { t.Error("second ObserveLag registered"); return nil })
	now := time.Now()
	d := tel.Delays()
	d.Observe(context.Background(), now, now.Add(-2*time.Second), now.Add(-time.Second))
	d.Observe(context.Background(), now, time.Time{}, now.Add(time.Second)) // skew: recorded as 0
	tel.BulkLatency().Observe(context.Background(), 250*time.Millisecond, "partial")

	mfs := telemetrytest.Scrape(t, tel.Handler())
	for _, name := range []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes",
		"process_cpu_seconds_total", "target_info"} {
		if mfs[name] == nil {
			t.Errorf("%s missing from the scrape", name)
		}
	}
	if _, ok := telemetrytest.Value(mfs, "target_info", map[string]string{"service_name": "sluice-indexer"}); !ok {
		t.Errorf("target_info does not name the service: %v", mfs["target_info"])
	}
	if v, ok := telemetrytest.Value(mfs, "sluice_indexer_retry_backoff_seconds", nil); !ok || v != 1.5 {
		t.Errorf("retry_backoff_seconds = %v, %v; want 1.5", v, ok)
	}
	if v, ok := telemetrytest.Value(mfs, "sluice_indexer_consumer_lag", map[string]string{"topic": "logs.parsed", "partition": "3"}); !ok || v != 42 {
		t.Errorf("consumer_lag = %v, %v; want 42", v, ok)
	}
	for name, want := range map[string]float64{"sluice_indexer_event_delay_seconds": 1, "sluice_indexer_pipeline_delay_seconds": 2} {
		if v, ok := telemetrytest.Value(mfs, name, nil); !ok || v != want {
			t.Errorf("%s count = %v, %v; want %v", name, v, ok, want)
		}
	}
	if v, ok := telemetrytest.Value(mfs, "sluice_indexer_bulk_request_duration_seconds", map[string]string{"outcome": "partial"}); !ok || v != 1 {
		t.Errorf("bulk_request_duration_seconds{outcome=partial} count = %v, %v", v, ok)
	}
	_ = telemetrytest.Scrape(t, tel.Handler())
	if calls != 1 {
		t.Errorf("lag asked %d times for two scrapes within the cache TTL, want 1", calls)
	}
	if got := tel.Snapshot()["retry.backoff_ms"]; got != 1500 {
		t.Errorf("Snapshot retry.backoff_ms = %d", got)
	}
}
