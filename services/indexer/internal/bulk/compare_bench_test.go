package bulk

import (
	"bytes"
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/sluice-io/sluice/libs/bulktest"
)

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const (
	compareBatch   = 1000 // documents per bulk request
	compareWorkers = 2    // bulk requests in flight
)

// BenchmarkCompareIndex measures documents per second and per CPU-second
// (client and in-process server together) for Client.Send and for
// go-elasticsearch's esutil.BulkIndexer, both writing 200-byte documents
// with create to a discarding bulktest server, 1000 documents a request,
// two requests in flight.
func BenchmarkCompareIndex(b *testing.B) {
	b.Run("sluice", func(b *testing.B) {
		srv := bulktest.New(b, bulktest.WithDiscard())
		c := newTestClient(b, srv, nil)
		docs := benchDocs(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		cpu0, t0 := cpuTime(), time.Now()
		var wg sync.WaitGroup
		next := make(chan []Doc)
		for range compareWorkers {
			wg.Go(func() {
				for batch := range next {
					res, err := c.Send(context.Background(), batch)
					if err != nil {
						b.Error(err)
					}
					for _, r := range res {
						if r.Outcome != Created {
							b.Errorf("%+v", r)
						}
					}
				}
			})
		}
		for i := 0; i < len(docs); i += compareBatch {
			next <- docs[i:min(i+compareBatch, len(docs))]
		}
		close(next)
		wg.Wait()
		report(b, b.N, time.Since(t0), cpuTime()-cpu0)
		b.ReportMetric(float64(srv.Items())/float64(srv.Requests()), "docs/req")
		if srv.Count() != b.N {
			b.Fatalf("server accepted %d of %d", srv.Count(), b.N)
		}
	})
	b.Run("esutil", func(b *testing.B) {
		srv := bulktest.New(b, bulktest.WithDiscard())
		es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{srv.URL()}})
		if err != nil {
			b.Fatal(err)
		}
		docs := benchDocs(b.N)
		// Flush by size at about compareBatch documents.
		flush := compareBatch * (len(docs[0].Source) + 2 + len(`{"create":{"_index":"","_id":""}}`) + len(docs[0].Index) + len(docs[0].ID) + 2)
		bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
			Client: es, NumWorkers: compareWorkers, FlushBytes: flush, FlushInterval: time.Hour,
			OnError: func(_ context.Context, err error) { b.Error(err) },
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu0, t0 := cpuTime(), time.Now()
		for i := range docs {
			err := bi.Add(context.Background(), esutil.BulkIndexerItem{
				Action: "create", Index: docs[i].Index, DocumentID: docs[i].ID, Body: bytes.NewReader(docs[i].Source),
				OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
					b.Errorf("%d %v %v", res.Status, res.Error, err)
				},
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := bi.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		report(b, b.N, time.Since(t0), cpuTime()-cpu0)
		b.ReportMetric(float64(srv.Items())/float64(srv.Requests()), "docs/req")
		if st := bi.Stats(); int(st.NumAdded) != b.N || int(st.NumFailed) != 0 || srv.Count() != b.N {
			b.Fatalf("stats %+v, server %d", st, srv.Count())
		}
	})
}

func report(b *testing.B, docs int, wall, cpu time.Duration) {
	b.ReportMetric(float64(docs)/wall.Seconds(), "docs/s")
	b.ReportMetric(float64(docs)/cpu.Seconds(), "docs/cpu-s")
}
