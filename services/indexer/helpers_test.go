package indexer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/bulktest"
	libcfg "github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/kafkatest"
	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/services/indexer/config"
)

const (
	rawTopic    = "logs.raw"
	parsedTopic = "logs.parsed"
	dlqTopic    = "logs.dlq"
	testIndex   = "logs-2026.02.14"
)

// env is one test's Kafka cluster, bulk-API server and indexer config.
type env struct {
	tb  testing.TB
	kc  *kafkatest.Cluster
	es  *bulktest.Server
	cfg config.Config
}

// newEnv starts Kafka (4 partitions per topic) and a bulk-API server, with
// a configuration scaled down for tests: 100-document, 64 KiB requests, 4 in
// flight, 5-100ms backoff.
func newEnv(tb testing.TB, opts ...bulktest.Option) *env {
	tb.Helper()
	kc := kafkatest.New(tb, 4, rawTopic, parsedTopic, dlqTopic)
	es := bulktest.New(tb, opts...)
	cfg := config.NewDefault()
	cfg.Kafka.Brokers = kc.Brokers()
	cfg.Kafka.Group = "test-indexer"
	cfg.Elasticsearch.URLs = []string{es.URL()}
	cfg.Elasticsearch.BackoffMin = libcfg.Duration(5 * time.Millisecond)
	cfg.Elasticsearch.BackoffMax = libcfg.Duration(100 * time.Millisecond)
	cfg.Elasticsearch.SetupTimeout = libcfg.Duration(10 * time.Second)
	cfg.Batch = config.Batch{MaxDocs: 100, MaxBytes: 64 << 10, FlushInterval: libcfg.Duration(50 * time.Millisecond),
		Concurrency: 4, MinConcurrency: 1, TargetLatency: libcfg.Duration(5 * time.Second)}
	cfg.Admin.Listen, cfg.Admin.MetricsListen = "", ""
	return &env{tb: tb, kc: kc, es: es, cfg: cfg}
}

func testLogger() *slog.Logger {
	if os.Getenv("SLUICE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// docID is the _id of test document i, derived the way the parser does.
func docID(i int) string { return record.ID("test-node", "fp-1", int64(i)*256) }

// docSource returns a parsed document of about size bytes.
func docSource(i, size int) []byte {
	s := fmt.Sprintf(`{"@timestamp":"2026-02-14T12:00:%02d.%03dZ","message":"GET /api/items/%d 200","kubernetes":{"namespace":"shop","pod":{"name":"web-%d"}},"http":{"response":{"status_code":200}},"pad":"`,
		i%60, i%1000, i, i%7)
	if pad := size - len(s) - 2; pad > 0 {
		// Log text compresses a few times, not a thousand: pad with
		// pseudo-random letters so Kafka's batches are about as large
		// compressed as they are here.
		b := []byte(s)
		x := uint64(i)*0x9e3779b97f4a7c15 + 1
		for range pad {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			b = append(b, 'a'+byte(x%26))
		}
		s = string(b)
	}
	return []byte(s + `"}`)
}

// produce writes n documents (ids docID(from..from+n)) of about size bytes
// to the parsed topic, keyed by pod so they spread over the partitions.
func (e *env) produce(from, n, size int) []string {
	e.tb.Helper()
	cl := e.kc.Client(kgo.DefaultProduceTopic(parsedTopic), kgo.ProducerBatchMaxBytes(1<<20))
	ids := make([]string, 0, n)
	const chunk = 1000
	for lo := from; lo < from+n; lo += chunk {
		var recs []*kgo.Record
		for i := lo; i < min(lo+chunk, from+n); i++ {
			id := docID(i)
			ids = append(ids, id)
			recs = append(recs, &kgo.Record{
				Key:   record.Key("shop", fmt.Sprintf("web-%d", i%7), "web"),
				Value: docSource(i, size),
				Headers: []kgo.RecordHeader{
					{Key: record.HeaderID, Value: []byte(id)},
					{Key: record.HeaderIndex, Value: []byte(testIndex)},
				},
			})
		}
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			e.tb.Fatalf("producing: %v", err)
		}
	}
	return ids
}

// runner is a running indexer.
type runner struct {
	ix     *Indexer
	cancel context.CancelCauseFunc
	done   chan error
	once   sync.Once
	err    error
}

// start runs an indexer with cfg and sink (nil: NewSink(cfg)); it is
// stopped gracefully at cleanup if still running.
func (e *env) start(cfg config.Config, s Sink) *runner {
	e.tb.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	if s == nil {
		var err error
		if s, err = NewSink(ctx, cfg); err != nil {
			e.tb.Fatalf("NewSink: %v", err)
		}
	}
	ix, err := New(cfg, "test", s, testLogger())
	if err != nil {
		e.tb.Fatalf("New: %v", err)
	}
	r := &runner{ix: ix, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- ix.Run(ctx) }()
	e.tb.Cleanup(func() { _ = r.stop(context.Canceled) })
	return r
}

// stop cancels the indexer with cause and waits for Run to return.
func (r *runner) stop(cause error) error {
	r.once.Do(func() {
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > time.Second && os.Getenv("SLUICE_TEST_LOG") != "" {
				fmt.Fprintf(os.Stderr, "indexer took %v to stop\n", d)
			}
		}()
		r.cancel(cause)
		select {
		case r.err = <-r.done:
		case <-time.After(time.Minute):
			r.err = fmt.Errorf("indexer did not stop within a minute")
		}
	})
	return r.err
}

func (r *runner) counter(name string) int64 { return r.ix.Stats(context.Background()).Counters[name] }

// waitFor polls cond until it holds or timeout passes.
func waitFor(tb testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dlqRecords reads the dead-letter topic.
func (e *env) dlqRecords(want int) []*kgo.Record {
	e.tb.Helper()
	timeout := 5 * time.Second
	if want == 0 {
		timeout = 300 * time.Millisecond
	}
	return e.kc.ReadAll(dlqTopic, want, timeout)
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// heapWatch samples the live heap (after a forced GC) until stopped and
// reports the peak growth over the baseline taken at start.
type heapWatch struct {
	base, peak uint64
	stop       chan struct{}
	done       chan struct{}
}

func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func watchHeap(tb testing.TB, every time.Duration) *heapWatch {
	h := &heapWatch{base: liveHeap(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				if v := liveHeap(); v > h.peak {
					h.peak = v
				}
			}
		}
	}()
	tb.Cleanup(h.Stop)
	return h
}

// Stop ends sampling and returns the peak growth in bytes.
func (h *heapWatch) Stop() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.done
}

func (h *heapWatch) Growth() int64 { return int64(h.peak) - int64(h.base) }

type kgoRecord struct {
	id    string
	value []byte
}

type kgoRecordHeaders struct{ status, typ, reason string }

// produceOne writes one record with an _id and the test index.
func produceOne(tb testing.TB, cl *kgo.Client, id string, value []byte) {
	tb.Helper()
	rec := &kgo.Record{Topic: parsedTopic, Value: value, Headers: []kgo.RecordHeader{
		{Key: record.HeaderID, Value: []byte(id)}, {Key: record.HeaderIndex, Value: []byte(testIndex)},
	}}
	if err := cl.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
		tb.Fatalf("producing: %v", err)
	}
}

func libDuration(d time.Duration) libcfg.Duration { return libcfg.Duration(d) }

// ownedCount returns the partitions the indexer holds.
func (ix *Indexer) ownedCount() int { return ix.Assigned() }
