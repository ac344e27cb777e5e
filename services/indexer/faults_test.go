package indexer

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/bulktest"
	libcfg "github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/libs/service"
	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
)

// The tests below are named after the rows of shared/FAULTS.md they cover,
// with time scaled down: minutes of outage become a second or two.

// TestFault06_429WholeThenPerItem: the engine answers 429 to whole requests
// for a while, then 429 to items. Nothing is lost or sent twice, the
// adaptive limit comes down, and memory stays within the round's budget
// while Kafka holds the backlog.
func TestFault06_429WholeThenPerItem(t *testing.T) {
	e := newEnv(t, bulktest.WithDiscard())
	const n, size = 20000, 1024
	ids := e.produce(0, n, size)
	// Discard mode stores nothing, so the live heap shows what the indexer
	// holds; accepted counts each id the server took (pre-sized so the
	// map does not grow under the heap watch).
	accepted := make(map[string]int, n)
	for _, id := range ids {
		accepted[id] = 0
	}
	itemRejects := 3000
	e.es.SetItemHook(func(it bulktest.Item) (int, string, string) {
		if itemRejects > 0 {
			itemRejects--
			return 429, "es_rejected_execution_exception", "rejected execution of primary operation [test]"
		}
		accepted[it.ID]++
		return 0, "", ""
	})
	// A count, not a time window: a slow start-up cannot let the window
	// pass before the first request.
	e.es.FailRequests(http.StatusTooManyRequests, 12)
	e.cfg.Elasticsearch.MaxRetries = -1
	heap := watchHeap(t, 50*time.Millisecond)
	r := e.start(e.cfg, nil)

	var minLimit atomic.Int64
	minLimit.Store(int64(e.cfg.Batch.Concurrency))
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for e.es.Count() < n {
			if l := r.ix.Stats(context.Background()).Counters["bulk_concurrency_limit"]; l < minLimit.Load() {
				minLimit.Store(l)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	waitFor(t, 60*time.Second, func() bool { return e.es.Count() >= n }, "%d documents (have %d)", n, e.es.Count())
	<-sampled
	heap.Stop()
	if err := r.stop(context.Canceled); err != nil {
		t.Fatal(err)
	}

	for id, c := range accepted {
		if c != 1 {
			t.Fatalf("document %s accepted %d times", id, c)
		}
	}
	if got := len(e.dlqRecords(0)); got != 0 {
		t.Fatalf("%d dead letters, want none", got)
	}
	st := r.ix.Stats(context.Background())
	c := st.Counters
	if c["bulk_request_failures"] == 0 || c["documents_retried"] < 3000 || c["bulk_overloaded"] == 0 {
		t.Fatalf("counters do not show the storm: %v", c)
	}
	if minLimit.Load() >= int64(e.cfg.Batch.Concurrency) {
		t.Errorf("adaptive limit never came down from %d", e.cfg.Batch.Concurrency)
	}
	bound := int64(e.cfg.Batch.MaxBytes) * int64(e.cfg.Batch.Concurrency)
	if peak := c["in_flight_bytes_peak"]; peak > bound+size+64 {
		t.Fatalf("in-flight bytes peaked at %d, above the bound %d", peak, bound)
	}
	// The backlog (about 20 MiB) stayed in Kafka: the indexer's round, the
	// client's fetch buffers (1 MiB per broker) and request bodies fit in
	// a few MiB.
	const heapCeiling = 12 << 20
	t.Logf("in-flight peak %d B (bound %d), live heap growth %d KiB, limit min %d, counters %v",
		c["in_flight_bytes_peak"], bound, heap.Growth()>>10, minLimit.Load(), c)
	if g := heap.Growth(); g > heapCeiling {
		t.Fatalf("live heap grew by %d MiB, above the %d MiB ceiling for a %d MiB backlog", g>>20, heapCeiling>>20, n*size>>20)
	}
}

// TestFault07_MappingErrors: 1% of documents fail with a mapping error.
// Exactly those reach the dead-letter topic, with status, type and reason;
// every other document is indexed.
func TestFault07_MappingErrors(t *testing.T) {
	e := newEnv(t)
	const n = 3000
	ids := e.produce(0, n, 300)
	e.es.RejectFraction(0.01)
	want := map[string]bool{}
	for _, id := range ids {
		if bulktest.Rejects(id, 0.01) {
			want[id] = true
		}
	}
	if len(want) == 0 {
		t.Fatal("no id is rejected; pick other ids")
	}
	r := e.start(e.cfg, nil)
	waitFor(t, 30*time.Second, func() bool { return r.counter("dead_letters") >= int64(len(want)) && e.es.Count() >= n-len(want) },
		"%d indexed and %d dead letters", n-len(want), len(want))
	if err := r.stop(context.Canceled); err != nil {
		t.Fatal(err)
	}
	dl := e.dlqRecords(len(want))
	if len(dl) != len(want) {
		t.Fatalf("%d dead letters, want %d", len(dl), len(want))
	}
	for _, rec := range dl {
		id := header(rec, record.HeaderID)
		if !want[id] {
			t.Fatalf("unexpected dead letter %s", id)
		}
		delete(want, id)
		if header(rec, record.HeaderStage) != "indexer" || header(rec, record.HeaderStatus) != "400" ||
			header(rec, record.HeaderErrorType) != "document_parsing_exception" ||
			!strings.Contains(header(rec, record.HeaderReason), "failed to parse field") ||
			header(rec, record.HeaderTopic) != parsedTopic || header(rec, record.HeaderOffset) == "" ||
			header(rec, record.HeaderIndex) != testIndex {
			t.Fatalf("dead letter headers %v", rec.Headers)
		}
		if !bytes.HasPrefix(rec.Value, []byte(`{"@timestamp"`)) {
			t.Fatalf("dead letter value %q is not the document", rec.Value)
		}
	}
	if got := e.es.Count(); got != n-len(dl) {
		t.Fatalf("indexed %d, want %d", got, n-len(dl))
	}
}

// TestFault08_Conflicts: documents already in the index (a replay) are
// answered 409 and counted as already indexed, not dead-lettered.
func TestFault08_Conflicts(t *testing.T) {
	e := newEnv(t)
	const n = 1000
	ids := e.produce(0, n, 300)
	seeded := 0
	for i, id := range ids {
		if i%3 == 0 {
			e.es.Seed(testIndex, id, []byte(`{"seeded":true}`))
			seeded++
		}
	}
	r := e.start(e.cfg, nil)
	waitFor(t, 30*time.Second, func() bool { return r.counter("documents_already_indexed")+r.counter("documents_indexed") >= n },
		"%d outcomes", n)
	c := r.ix.Stats(context.Background()).Counters
	if c["documents_already_indexed"] != int64(seeded) || c["documents_indexed"] != int64(n-seeded) || c["dead_letters"] != 0 {
		t.Fatalf("counters %v, want %d already indexed", c, seeded)
	}
	if e.es.Count() != n || e.es.Stats().Conflicts != seeded {
		t.Fatalf("server: count %d, stats %+v", e.es.Count(), e.es.Stats())
	}
}

// TestFault09_ConnectionReset: the connection is reset after the server
// read the body, before (store=false) or after (store=true) it indexed the
// documents. Nothing is lost and no document is created twice.
func TestFault09_ConnectionReset(t *testing.T) {
	for _, store := range []bool{false, true} {
		t.Run("stored="+strconv.FormatBool(store), func(t *testing.T) {
			e := newEnv(t)
			const n = 2000
			ids := e.produce(0, n, 300)
			e.es.ResetConnections(6, store)
			r := e.start(e.cfg, nil)
			waitFor(t, 30*time.Second, func() bool { return e.es.Count() >= n }, "%d documents", n)
			waitFor(t, 10*time.Second, func() bool { return r.counter("documents_already_indexed")+r.counter("documents_indexed") >= n }, "outcomes")
			st := e.es.Stats()
			if st.Resets != 6 || st.Created != n {
				t.Fatalf("server stats %+v: want 6 resets and each of %d documents created once", st, n)
			}
			docs := e.es.Docs()
			for _, id := range ids {
				if _, ok := docs[id]; !ok {
					t.Fatalf("document %s lost", id)
				}
			}
			c := r.ix.Stats(context.Background()).Counters
			if c["bulk_request_failures"] < 6 {
				t.Fatalf("counters %v: resets not seen", c)
			}
			if store && c["documents_already_indexed"] == 0 {
				t.Fatalf("documents stored before the reset were not answered 409 on the retry: %v", c)
			}
		})
	}
}

// TestFault10_Latency: the engine takes long to answer (10 s scaled to
// 600ms against a 200ms target). Requests in flight stay within the
// adaptive limit, which comes down to the minimum, and the round's memory
// stays bounded; everything is indexed.
func TestFault10_Latency(t *testing.T) {
	e := newEnv(t, bulktest.WithLatency(600*time.Millisecond))
	e.cfg.Batch.TargetLatency = libcfg.Duration(200 * time.Millisecond)
	const n = 1500
	e.produce(0, n, 300)
	var inFlight, peak atomic.Int64
	e.es.SetHook(func(http.ResponseWriter, *http.Request, []byte) bool { return false })
	s, err := NewSink(context.Background(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	counted := sinkFunc(func(ctx context.Context, docs []bulk.Doc) []bulk.Result {
		v := inFlight.Add(1)
		for p := peak.Load(); v > p && !peak.CompareAndSwap(p, v); p = peak.Load() {
		}
		defer inFlight.Add(-1)
		return s.Index(ctx, docs)
	}, s)
	r := e.start(e.cfg, counted)
	var minLimit atomic.Int64
	minLimit.Store(int64(e.cfg.Batch.Concurrency))
	var wg sync.WaitGroup
	wg.Go(func() {
		for e.es.Count() < n {
			c := r.ix.Stats(context.Background()).Counters
			if c["bulk_concurrency_limit"] < minLimit.Load() {
				minLimit.Store(c["bulk_concurrency_limit"])
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	waitFor(t, 60*time.Second, func() bool { return e.es.Count() >= n }, "%d documents", n)
	wg.Wait()
	c := r.ix.Stats(context.Background()).Counters
	t.Logf("sink calls in flight peak %d, requests in flight peak %d, limit min %d", peak.Load(), c["bulk_requests_in_flight_peak"], minLimit.Load())
	if c["bulk_requests_in_flight_peak"] > int64(e.cfg.Batch.Concurrency) || peak.Load() > int64(e.cfg.Batch.Concurrency) {
		t.Fatalf("requests in flight peaked at %d (sink calls %d), above concurrency %d", c["bulk_requests_in_flight_peak"], peak.Load(), e.cfg.Batch.Concurrency)
	}
	if minLimit.Load() != int64(e.cfg.Batch.MinConcurrency) {
		t.Fatalf("adaptive limit went down to %d, want %d under sustained latency", minLimit.Load(), e.cfg.Batch.MinConcurrency)
	}
	if bound := int64(e.cfg.Batch.MaxBytes) * int64(e.cfg.Batch.Concurrency); c["in_flight_bytes_peak"] > bound+400 {
		t.Fatalf("in-flight bytes peaked at %d, above %d", c["in_flight_bytes_peak"], bound)
	}
}

// sinkFunc wraps a Sink's Index, keeping its Concurrency report.
type wrappedSink struct {
	index func(context.Context, []bulk.Doc) []bulk.Result
	inner Sink
}

func sinkFunc(f func(context.Context, []bulk.Doc) []bulk.Result, inner Sink) Sink {
	return wrappedSink{index: f, inner: inner}
}

func (w wrappedSink) Index(ctx context.Context, docs []bulk.Doc) []bulk.Result {
	return w.index(ctx, docs)
}

func (w wrappedSink) Concurrency() (int, int) {
	if c, ok := w.inner.(concurrencyReporter); ok {
		return c.Concurrency()
	}
	return 0, 0
}

// TestFault03_KillAfterBulkBeforeCommit: the indexer dies (ErrAbort, as
// kill -9) right after a bulk request succeeded and before its offsets were
// committed. The restarted indexer sends those documents again; they are
// answered 409 and no _id is stored twice.
func TestFault03_KillAfterBulkBeforeCommit(t *testing.T) {
	e := newEnv(t)
	const n = 3000
	ids := e.produce(0, n, 300)
	s, err := NewSink(context.Background(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	killed := make(chan struct{})
	var rp atomic.Pointer[runner]
	var once sync.Once
	kill := sinkFunc(func(ctx context.Context, docs []bulk.Doc) []bulk.Result {
		res := s.Index(ctx, docs)
		if calls.Add(1) == 7 {
			// Documents stored, answer in hand, nothing marked yet.
			once.Do(func() { go func() { _ = rp.Load().stop(service.ErrAbort); close(killed) }() })
		}
		return res
	}, s)
	rp.Store(e.start(e.cfg, kill))
	select {
	case <-killed:
	case <-time.After(30 * time.Second):
		t.Fatal("the indexer did not reach the kill point")
	}
	before := e.es.Count()
	if before == 0 || before == n {
		t.Fatalf("%d documents stored at the kill; want some, not all", before)
	}

	r2 := e.start(e.cfg, nil)
	waitFor(t, 30*time.Second, func() bool { return e.es.Count() >= n }, "%d documents", n)
	waitFor(t, 10*time.Second, func() bool {
		return r2.counter("documents_indexed")+r2.counter("documents_already_indexed") >= int64(n-before)
	}, "outcomes")
	st := e.es.Stats()
	if st.Created != n {
		t.Fatalf("%d documents created for %d ids: duplicates", st.Created, n)
	}
	if st.Conflicts == 0 || r2.counter("documents_already_indexed") == 0 {
		t.Fatalf("replay of the uncommitted round gave no 409s: server %+v", st)
	}
	docs := e.es.Docs()
	for _, id := range ids {
		if _, ok := docs[id]; !ok {
			t.Fatalf("document %s lost", id)
		}
	}
	t.Logf("stored at the kill %d, replayed as 409 %d", before, r2.counter("documents_already_indexed"))
}

// TestFault_WholeRequest400: a request refused as a whole with 400 (the
// engine cannot parse one document) is split until the bad document is
// alone; it goes to the dead-letter topic with the reason, the rest are
// indexed. A record the indexer cannot send at all (row 21's poison: an
// empty value) is dead-lettered without reaching the engine, and the
// partition moves on.
func TestFault_WholeRequest400(t *testing.T) {
	e := newEnv(t)
	const n = 500
	e.produce(0, n, 300)
	cl := e.kc.Client()
	poison := []*kgoRecord{
		{id: "poison-400", value: []byte(`{"@timestamp":"2026-02-14T00:00:00Z","message":"POISON"}`)},
		{id: "poison-empty", value: nil},
	}
	for _, p := range poison {
		produceOne(t, cl, p.id, p.value)
	}
	e.es.SetHook(func(w http.ResponseWriter, _ *http.Request, body []byte) bool {
		if !bytes.Contains(body, []byte("POISON")) {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":{"type":"x_content_parse_exception","reason":"[1:42] Unexpected character"},"status":400}`))
		return true
	})
	r := e.start(e.cfg, nil)
	waitFor(t, 30*time.Second, func() bool { return e.es.Count() >= n && r.counter("dead_letters") >= 2 }, "indexed and dead-lettered")
	dl := e.dlqRecords(2)
	got := map[string]*kgoRecordHeaders{}
	for _, rec := range dl {
		got[header(rec, record.HeaderID)] = &kgoRecordHeaders{status: header(rec, record.HeaderStatus), typ: header(rec, record.HeaderErrorType), reason: header(rec, record.HeaderReason)}
	}
	if h := got["poison-400"]; h == nil || h.status != "400" || h.typ != "x_content_parse_exception" || !strings.Contains(h.reason, "Unexpected character") {
		t.Fatalf("400 dead letter: %+v", h)
	}
	if h := got["poison-empty"]; h == nil || h.typ != bulk.ErrorTypeInvalidDocument {
		t.Fatalf("empty-document dead letter: %+v", h)
	}
	if len(dl) != 2 || e.es.Count() != n {
		t.Fatalf("%d dead letters, %d indexed", len(dl), e.es.Count())
	}
}
