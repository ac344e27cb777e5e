package top

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func sample(at time.Duration, svc string, uptime int64, counters map[string]int64) Sample {
	return Sample{
		Addr:   svc + ":9090",
		At:     t0.Add(at),
		Status: &adminv1.GetStatusResponse{Service: svc, State: "running", UptimeSeconds: uptime},
		Stats:  &adminv1.GetStatsResponse{Counters: counters},
	}
}

func TestCompute(t *testing.T) {
	shipper0 := sample(0, "shipper", 10, map[string]int64{"lines_read": 1000, "lines_produced": 900, "bytes_read": 10_000, "produce_errors": 1})
	shipper1 := sample(2*time.Second, "shipper", 12, map[string]int64{"lines_read": 3000, "lines_produced": 2900, "bytes_read": 30_000, "produce_errors": 5})
	parser1 := sample(2*time.Second, "parser", 12, map[string]int64{"records_consumed": 50, "documents_produced": 40, "parse_failures": 2, "dead_letters": 1})
	parser1.Stats.Lag = []*adminv1.PartitionLag{{Lag: 5}, {Lag: 7}}
	parser1.Stats.InFlightBytes = 2048
	restarted := sample(2*time.Second, "shipper", 1, map[string]int64{"lines_read": 10, "lines_produced": 10, "bytes_read": 100, "produce_errors": 0})
	withRates := parser1
	withRates.Stats = &adminv1.GetStatsResponse{Counters: map[string]int64{"records_consumed": 50}, Rates: map[string]float64{"records_consumed": 12.5}}

	for _, tc := range []struct {
		name      string
		prev, cur Sample
		want      Row
	}{
		{"deltas over two seconds", shipper0, shipper1, Row{
			Addr: "shipper:9090", Service: "shipper", State: "running",
			InPerSec: known(1000), OutPerSec: known(1000), BytesPerSec: known(10_000),
			ErrPerSec: known(2), Errors: known(5), InFlight: known(0),
		}},
		{"first poll: no rates", Sample{}, parser1, Row{
			Addr: "parser:9090", Service: "parser", State: "running",
			Errors: known(3), InFlight: known(2048), Lag: known(12),
		}},
		{"first poll: the service's own rates", Sample{}, withRates, Row{
			Addr: "parser:9090", Service: "parser", State: "running", InPerSec: known(12.5), InFlight: known(0),
		}},
		{"restart resets counters: no rates", shipper0, restarted, Row{
			Addr: "shipper:9090", Service: "shipper", State: "running", Errors: known(0), InFlight: known(0),
		}},
		{"unreachable", shipper0, Sample{Addr: "x:1", At: t0, Problem: "unreachable: connection refused"}, Row{
			Addr: "x:1", State: "unreachable: connection refused", Problem: "unreachable: connection refused",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Compute(tc.prev, tc.cur); got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	rows := []Row{
		{Addr: "10.0.0.9:9090", Problem: "unreachable: connection refused", State: "unreachable: connection refused"},
		{Addr: "10.0.0.3:9090", Service: "indexer", State: "running", InPerSec: known(950), OutPerSec: known(950), InFlight: known(3 << 20), Errors: known(0), ErrPerSec: known(0)},
		{Addr: "10.0.0.1:9090", Service: "shipper", State: "paused", InPerSec: known(12_345), OutPerSec: known(12_000.5), BytesPerSec: known(1.5 * 1024 * 1024), InFlight: known(512), Errors: known(2)},
		{Addr: "10.0.0.2:9090", Service: "parser", State: "running", InPerSec: known(0.5), Lag: known(1_500_000), InFlight: known(0)},
	}
	SortRows(rows)
	var buf bytes.Buffer
	if err := Render(&buf, Frame{Time: t0, Interval: time.Second, Services: rows}); err != nil {
		t.Fatal(err)
	}
	want := `sluicectl top   3/4 services up   every 1s   10:00:00

ADDR           SERVICE  STATE    IN/s   OUT/s  BYTES/s  IN-FLIGHT  LAG   ERR/s  ERRORS
10.0.0.1:9090  shipper  paused   12.3k  12.0k  1.5 MiB  512 B      -     -      2
10.0.0.2:9090  parser   running  0.5    -      -        0 B        1.5M  -      -
10.0.0.3:9090  indexer  running  950    950    -        3.0 MiB    -     0      0
10.0.0.9:9090  -        unreachable: connection refused
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestFrameJSON(t *testing.T) {
	b, err := json.Marshal(Frame{Time: t0, Services: []Row{{Addr: "a:1", State: "running", InPerSec: known(2.5)}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-03-04T10:00:00Z","services":[{"addr":"a:1","state":"running","in_per_sec":2.5,"out_per_sec":null,"bytes_per_sec":null,"errors_per_sec":null,"in_flight_bytes":null,"lag":null,"errors_total":null}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[float64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB", 1 << 60: "1024.0 PiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%v) = %q, want %q", n, got, want)
		}
	}
}
