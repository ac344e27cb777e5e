package indexer

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/bulktest"
	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/libs/service"
)

// storm429 is how long TestFault06_PerItem429Storm's long variant answers
// 429 to every item. The default outlasts the retry budget the indexer
// once had (10 retries, about a minute in production); FAULTS row 6 asks
// for two minutes: go test -run PerItem429Storm -storm429 2m.
var storm429 = flag.Duration("storm429", 70*time.Second, "duration of the per-item 429 storm in TestFault06_PerItem429Storm")

// TestFault06_PerItem429Storm (FAULTS row 6): the search engine answers 429
// to every item for longer than any retry budget. Nothing is
// dead-lettered, the indexer's live heap stays flat while Kafka holds the
// backlog, and every document is indexed once the storm passes.
func TestFault06_PerItem429Storm(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
	}{
		{"short", 3 * time.Second},
		{"longer than the old retry budget", *storm429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, bulktest.WithDiscard())
			const n, size = 3000, 1024
			ids := e.produce(0, n, size)
			accepted := make(map[string]int, n)
			for _, id := range ids {
				accepted[id] = 0
			}
			// The storm starts with the first item the engine sees, so that
			// a slow start-up cannot eat into it.
			var (
				refused   int
				stormOnce sync.Once
				stormed   = make(chan struct{})
				until     time.Time
			)
			e.es.SetItemHook(func(it bulktest.Item) (int, string, string) {
				stormOnce.Do(func() { until = time.Now().Add(tt.d); close(stormed) })
				if time.Now().Before(until) {
					refused++
					return 429, "es_rejected_execution_exception", "rejected execution of primary operation [test]"
				}
				accepted[it.ID]++
				return 0, "", ""
			})
			heap := watchHeap(t, 250*time.Millisecond)
			r := e.start(e.cfg, nil)
			select {
			case <-stormed:
			case <-time.After(time.Minute):
				t.Fatal("no bulk request within a minute of the start")
			}
			// Flat: from a third into the storm to its end, the live heap
			// does not grow although every round is refused again.
			time.Sleep(tt.d / 3)
			during := watchHeap(t, 250*time.Millisecond)
			time.Sleep(time.Until(until))
			during.Stop()
			waitFor(t, tt.d+60*time.Second, func() bool { return e.es.Count() >= n }, "%d documents after the storm (have %d)", n, e.es.Count())
			heap.Stop()
			if err := r.stop(context.Canceled); err != nil {
				t.Fatal(err)
			}
			if got := len(e.dlqRecords(0)); got != 0 {
				t.Fatalf("%d dead letters after %v of 429s, want none", got, tt.d)
			}
			for id, c := range accepted {
				if c != 1 {
					t.Fatalf("document %s accepted %d times", id, c)
				}
			}
			c := r.ix.Stats(context.Background()).Counters
			if c["documents_retried"] < n || c["dead_letters"] != 0 {
				t.Fatalf("counters do not show the storm: %v", c)
			}
			// The backlog (3 MiB) waits in Kafka; the indexer holds one
			// round (256 KiB) and the client's fetch buffers.
			const heapCeiling, flatCeiling = 16 << 20, 4 << 20
			t.Logf("%v of 429s: %d item refusals, live heap growth %d KiB overall, %d KiB during the storm's last two thirds",
				tt.d, refused, heap.Growth()>>10, during.Growth()>>10)
			if g := heap.Growth(); g > heapCeiling {
				t.Fatalf("live heap grew by %d MiB, above %d MiB", g>>20, heapCeiling>>20)
			}
			if g := during.Growth(); g > flatCeiling {
				t.Fatalf("live heap grew by %d KiB during the storm, above %d KiB: it is not flat", g>>10, flatCeiling>>10)
			}
		})
	}
}

// TestStaticMembershipRestart (FAULTS row 32): one of two indexer replicas,
// both static members, is killed. The other's partitions keep flowing, and
// the killed one, restarted with the same instance ID, gets its partitions
// back in seconds — not after the session timeout, left at its 45 s
// default.
func TestStaticMembershipRestart(t *testing.T) {
	e := newEnv(t)
	cfgA, cfgB := e.cfg, e.cfg
	cfgA.Kafka.InstanceID, cfgB.Kafka.InstanceID = "indexer-a", "indexer-b"
	a := e.start(cfgA, nil)
	b := e.start(cfgB, nil)
	waitFor(t, 30*time.Second, func() bool {
		return a.ix.ownedCount() > 0 && b.ix.ownedCount() > 0 && a.ix.ownedCount()+b.ix.ownedCount() == 4
	}, "both replicas to hold partitions")
	first := e.produceByPartition(0, 200)
	waitFor(t, 30*time.Second, func() bool { return e.es.Count() == 200 }, "the first documents")
	_ = first

	bParts := b.ix.Owned()[parsedTopic]
	if err := a.stop(service.ErrAbort); err != nil {
		t.Fatal(err)
	}
	parts := e.produceByPartition(200, 400)
	var onB int
	for p, ids := range parts {
		if slices.Contains(bParts, p) {
			onB += len(ids)
		}
	}
	if onB == 0 || onB == 400 {
		t.Fatalf("%d of 400 documents on the surviving replica's partitions %v; want some on each", onB, bParts)
	}
	waitFor(t, 15*time.Second, func() bool { return e.es.Count() >= 200+onB }, "the surviving replica's %d documents while the other is down", onB)
	// A static member that dies keeps its partitions until the session
	// timeout (a dynamic one would have left, handing them over at once):
	// they wait for the restart.
	time.Sleep(2 * time.Second)
	if n := b.ix.ownedCount(); n != len(bParts) {
		t.Fatalf("the surviving replica holds %d partitions after the kill, want its own %d: the killed one was not a static member", n, len(bParts))
	}
	if n := e.es.Count(); n != 200+onB {
		t.Fatalf("%d documents indexed while the killed replica's partitions should wait, want %d", n, 200+onB)
	}

	start := time.Now()
	e.start(cfgA, nil)
	waitFor(t, 40*time.Second, func() bool { return e.es.Count() == 600 }, "every document after the restart (have %d)", e.es.Count())
	took := time.Since(start)
	t.Logf("restarted replica resumed its partitions in %v", took)
	if took > 15*time.Second {
		t.Fatalf("restarted static member took %v to resume; want well under the 45s session timeout", took)
	}
}

// produceByPartition writes n documents (ids docID(from..)) and returns
// their ids by the partition they landed on.
func (e *env) produceByPartition(from, n int) map[int32][]string {
	e.tb.Helper()
	cl := e.kc.Client(kgo.DefaultProduceTopic(parsedTopic))
	var recs []*kgo.Record
	for i := from; i < from+n; i++ {
		recs = append(recs, &kgo.Record{
			Key:   record.Key("shop", fmt.Sprintf("web-%d", i%13), "web"),
			Value: docSource(i, 200),
			Headers: []kgo.RecordHeader{
				{Key: record.HeaderID, Value: []byte(docID(i))},
				{Key: record.HeaderIndex, Value: []byte(testIndex)},
			},
		})
	}
	res := cl.ProduceSync(context.Background(), recs...)
	if err := res.FirstErr(); err != nil {
		e.tb.Fatalf("producing: %v", err)
	}
	out := map[int32][]string{}
	for _, r := range res {
		out[r.Record.Partition] = append(out[r.Record.Partition], string(r.Record.Headers[0].Value))
	}
	return out
}

// TestRetryExpiry: with elasticsearch.max_retry_age set (it is off by
// default), a document still refused for a retryable reason after that age
// is dead-lettered with class retryable and reason retry_expired; the
// others are indexed.
func TestRetryExpiry(t *testing.T) {
	e := newEnv(t)
	ids := e.produce(0, 20, 200)
	stuck := ids[7]
	e.es.SetItemHook(func(it bulktest.Item) (int, string, string) {
		if it.ID == stuck {
			return 429, "es_rejected_execution_exception", "rejected execution of primary operation [test]"
		}
		return 0, "", ""
	})
	e.cfg.Elasticsearch.MaxRetryAge = libDuration(300 * time.Millisecond)
	e.start(e.cfg, nil)
	dlq := e.dlqRecords(1)
	if len(dlq) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dlq))
	}
	d := record.ParseDeadLetter(dlq[0])
	if header(dlq[0], record.HeaderID) != stuck || d.Class != "retryable" || d.Status != 429 || !strings.HasPrefix(d.Reason, "retry_expired") {
		t.Fatalf("dead letter %+v", d)
	}
	waitFor(t, 10*time.Second, func() bool { return e.es.Count() == 19 }, "the 19 other documents")
}
