package indexer

import (
	"bytes"
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/bulktest"
	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/services/indexer/config"
)

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const benchDocBytes = 300

// BenchmarkPipeline measures consume → batch → bulk: b.N parsed documents
// of about 300 bytes are produced to an in-process Kafka (kfake) and
// indexed into a discarding bulktest server, by the indexer and, in the same
// run, by a franz-go consumer feeding go-elasticsearch's esutil.BulkIndexer
// with the same batch size and workers. docs/cpu-s counts all the process's
// CPU (Kafka broker and bulk server included, the same for both), so the
// ratio between the two is the figure to compare, e.g.
//
//	go test -run XXX -bench Pipeline -benchtime 200000x
func BenchmarkPipeline(b *testing.B) {
	b.Run("sluice", func(b *testing.B) {
		e := benchEnv(b)
		s, err := NewSink(context.Background(), e.cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu0, t0 := cpuTime(), time.Now()
		e.start(e.cfg, s)
		for e.es.Count() < b.N {
			time.Sleep(time.Millisecond)
		}
		reportRate(b, b.N, time.Since(t0), cpuTime()-cpu0)
	})
	b.Run("esutil", func(b *testing.B) {
		e := benchEnv(b)
		es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{e.es.URL()}})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu0, t0 := cpuTime(), time.Now()
		cl := e.kc.Client(kgo.ConsumerGroup("esutil"), kgo.ConsumeTopics(parsedTopic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
		bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
			Client: es, NumWorkers: e.cfg.Batch.Concurrency, FlushBytes: int(e.cfg.Batch.MaxBytes), FlushInterval: 50 * time.Millisecond,
			OnError: func(_ context.Context, err error) { b.Error(err) },
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		for added := 0; added < b.N; {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				var id, index string
				for _, h := range r.Headers {
					switch h.Key {
					case record.HeaderID:
						id = string(h.Value)
					case record.HeaderIndex:
						index = string(h.Value)
					}
				}
				if err := bi.Add(ctx, esutil.BulkIndexerItem{Action: "create", Index: index, DocumentID: id, Body: bytes.NewReader(r.Value)}); err != nil {
					b.Fatal(err)
				}
				added++
			})
		}
		if err := bi.Close(ctx); err != nil {
			b.Fatal(err)
		}
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			b.Fatal(err)
		}
		reportRate(b, b.N, time.Since(t0), cpuTime()-cpu0)
		if st := bi.Stats(); int(st.NumFlushed) != b.N {
			b.Fatalf("stats %+v", st)
		}
	})
}

// benchEnv is an env with a discarding server, production batch sizes and
// b.N documents on the parsed topic.
func benchEnv(b *testing.B) *env {
	e := newEnv(b, bulktest.WithDiscard())
	e.cfg.Batch = config.Batch{MaxDocs: 5000, MaxBytes: 5 << 20, FlushInterval: e.cfg.Batch.FlushInterval,
		Concurrency: 4, MinConcurrency: 1, TargetLatency: e.cfg.Batch.TargetLatency}
	e.cfg.Elasticsearch.Template = false
	e.produce(0, b.N, benchDocBytes)
	return e
}

func reportRate(b *testing.B, docs int, wall, cpu time.Duration) {
	b.ReportMetric(float64(docs)/wall.Seconds(), "docs/s")
	b.ReportMetric(float64(docs)/cpu.Seconds(), "docs/cpu-s")
	b.ReportMetric(0, "ns/op")
}
