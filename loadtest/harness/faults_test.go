package harness

import (
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestFailAll(t *testing.T) {
	produce := kmsg.NewPtrProduceRequest()
	produce.Version = 9
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "logs.raw"
	for _, p := range []int32{0, 3} {
		pp := kmsg.NewProduceRequestTopicPartition()
		pp.Partition = p
		pt.Partitions = append(pt.Partitions, pp)
	}
	produce.Topics = append(produce.Topics, pt)

	fetch := kmsg.NewPtrFetchRequest()
	fetch.Version = 12
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "logs.parsed"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition = 5
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)

	tests := []struct {
		name  string
		req   kmsg.Request
		codes map[int32]int16
	}{
		{"produce", produce, map[int32]int16{0: kerr.NotLeaderForPartition.Code, 3: kerr.NotLeaderForPartition.Code}},
		{"fetch", fetch, map[int32]int16{5: kerr.NotLeaderForPartition.Code}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := failAll(tt.req)
			if resp == nil || resp.GetVersion() != tt.req.GetVersion() {
				t.Fatalf("response %v for version %d", resp, tt.req.GetVersion())
			}
			got := map[int32]int16{}
			switch r := resp.(type) {
			case *kmsg.ProduceResponse:
				for _, t := range r.Topics {
					for _, p := range t.Partitions {
						got[p.Partition] = p.ErrorCode
					}
				}
			case *kmsg.FetchResponse:
				for _, t := range r.Topics {
					for _, p := range t.Partitions {
						got[p.Partition] = p.ErrorCode
					}
				}
			}
			if !reflect.DeepEqual(got, tt.codes) {
				t.Fatalf("error codes %v, want %v", got, tt.codes)
			}
		})
	}
}

func TestChaosRunIsSeeded(t *testing.T) {
	cc := ChaosConfig{Seed: 42, Duration: 4 * time.Second}
	names := func(c Config) []string {
		var out []string
		for _, s := range c.Steps {
			out = append(out, s.Name+"@"+s.At.String())
		}
		return out
	}
	for i := 0; i < 20; i++ {
		a, b := ChaosRun(cc, i), ChaosRun(cc, i)
		if a.Seed != 42+uint64(i) || a.Pods != b.Pods || a.Rate != b.Rate || !reflect.DeepEqual(names(a), names(b)) {
			t.Fatalf("run %d is not reproducible: %+v vs %+v", i, names(a), names(b))
		}
		if len(a.Steps) == 0 || len(a.Steps) > 3 {
			t.Fatalf("run %d has %d faults", i, len(a.Steps))
		}
		for _, s := range a.Steps {
			if s.At <= 0 || s.At >= cc.Duration {
				t.Fatalf("run %d: %s at %s, outside the run", i, s.Name, s.At)
			}
		}
	}
}

func TestScenarios(t *testing.T) {
	base := Config{Duration: 10 * time.Second, Rate: 100, Parsers: 2}
	tests := []struct {
		name      string
		steps     int
		parsers   int
		rotates   bool
		rateTimes int
	}{
		{"steady", 0, 2, false, 1},
		{"burst", 1, 2, false, 1},
		{"broker-outage", 1, 2, false, 1},
		{"search-429", 1, 2, false, 1},
		{"parser-scale", 2, 1, false, 1},
		{"kill-shipper", 1, 2, false, 1},
		{"kill-parser", 1, 2, false, 1},
		{"kill-indexer", 1, 2, false, 1},
		{"rotation", 1, 2, true, 2},
	}
	if len(tests) != len(Scenarios()) {
		t.Fatalf("%d scenarios, %d tested", len(Scenarios()), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := Lookup(tt.name)
			if !ok {
				t.Fatal("not found")
			}
			c := s.Build(base)
			if len(c.Steps) != tt.steps || c.Parsers != tt.parsers || (c.RotateBytes > 0) != tt.rotates || c.Rate != base.Rate*tt.rateTimes {
				t.Fatalf("built %d steps, %d parsers, rotate %d, rate %d", len(c.Steps), c.Parsers, c.RotateBytes, c.Rate)
			}
		})
	}
	smoke := Smoke(base)
	if len(smoke) != 2 || len(smoke[0].Steps) != 0 || len(smoke[1].Steps) != 2 {
		t.Fatalf("smoke is %d runs", len(smoke))
	}
}
