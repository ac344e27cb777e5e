package indexer

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-io/sluice/libs/record"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// adminClient serves the indexer's admin API on 127.0.0.1:0 and returns a
// client for it; both stop at cleanup.
func adminClient(tb testing.TB, ix *Indexer) adminv1.IndexerAdminServiceClient {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := grpc.NewServer()
	ix.RegisterAdmin(s)
	go func() { _ = s.Serve(ln) }()
	tb.Cleanup(s.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return adminv1.NewIndexerAdminServiceClient(conn)
}

// deadLetters writes letters to partition 0 of the DLQ: indexer-stage ones
// for ids, and one from the parser stage in the middle.
func (e *env) deadLetters(ids ...string) {
	e.tb.Helper()
	cl := e.kc.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for i, id := range ids {
		if i == 1 {
			recs = append(recs, &kgo.Record{Topic: dlqTopic, Partition: 0, Value: []byte("raw protobuf"), Headers: []kgo.RecordHeader{
				{Key: record.HeaderStage, Value: []byte("parser")},
				{Key: record.HeaderReason, Value: []byte("grok: no match")},
			}})
		}
		recs = append(recs, &kgo.Record{Topic: dlqTopic, Partition: 0, Value: []byte(`{"message":"` + id + `"}`), Headers: []kgo.RecordHeader{
			{Key: record.HeaderID, Value: []byte(id)},
			{Key: record.HeaderIndex, Value: []byte(testIndex)},
			{Key: record.HeaderStage, Value: []byte("indexer")},
			{Key: record.HeaderStatus, Value: []byte("400")},
			{Key: record.HeaderErrorType, Value: []byte("document_parsing_exception")},
			{Key: record.HeaderReason, Value: []byte("failed to parse field [n]")},
			{Key: record.HeaderOffset, Value: []byte("17")},
		}})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		e.tb.Fatal(err)
	}
}

func TestAdminDeadLetters(t *testing.T) {
	e := newEnv(t)
	ix, err := New(e.cfg, "test", nil, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	client := adminClient(t, ix)
	e.deadLetters("a", "b", "c")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("list", func(t *testing.T) {
		tests := []struct {
			name string
			req  *adminv1.ListDeadLettersRequest
			ids  []string
		}{
			{"all", &adminv1.ListDeadLettersRequest{}, []string{"a", "", "b", "c"}},
			{"limit", &adminv1.ListDeadLettersRequest{Limit: 2}, []string{"a", ""}},
			{"from offset", &adminv1.ListDeadLettersRequest{FromOffsets: map[int32]int64{0: 2}}, []string{"b", "c"}},
			{"one partition, one letter", &adminv1.ListDeadLettersRequest{Partition: proto.Int32(0), Limit: 1, FromOffsets: map[int32]int64{0: 1}}, []string{""}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, err := client.ListDeadLetters(ctx, tt.req)
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.Letters) != len(tt.ids) {
					t.Fatalf("%d letters, want %d: %v", len(resp.Letters), len(tt.ids), resp.Letters)
				}
				for i, l := range resp.Letters {
					if l.Id != tt.ids[i] {
						t.Fatalf("letter %d id %q, want %q", i, l.Id, tt.ids[i])
					}
					if l.Stage == "indexer" && (l.Status != 400 || l.ErrorType != "document_parsing_exception" || l.Reason == "" || l.DocumentJson == "" || l.Index != testIndex) {
						t.Fatalf("letter %+v", l)
					}
					if l.Stage == "parser" && (l.Reason != "grok: no match" || l.DocumentJson != "") {
						t.Fatalf("parser letter %+v", l)
					}
				}
			})
		}
	})

	t.Run("replay", func(t *testing.T) {
		resp, err := client.ReplayDeadLetters(ctx, &adminv1.ReplayDeadLettersRequest{Partition: 0, FromOffset: 0})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Replayed != 4 {
			t.Fatalf("replayed %d, want the 3 indexer letters and the parser one", resp.Replayed)
		}
		if raw := e.kc.ReadAll(rawTopic, 1, 5*time.Second); len(raw) != 1 || string(raw[0].Value) != "raw protobuf" || len(raw[0].Headers) != 0 {
			t.Fatalf("parser letter replayed to %s as %v, want its raw value without dead-letter headers", rawTopic, raw)
		}
		got := e.kc.ReadAll(parsedTopic, 3, 5*time.Second)
		if len(got) != 3 {
			t.Fatalf("%d records on %s, want 3", len(got), parsedTopic)
		}
		for _, r := range got {
			if len(r.Headers) != 2 || header(r, record.HeaderID) == "" || header(r, record.HeaderIndex) != testIndex {
				t.Fatalf("replayed headers %v: want only _id and index", r.Headers)
			}
		}
		// The replayed documents go through the indexer like any other.
		run := e.start(e.cfg, nil)
		waitFor(t, 20*time.Second, func() bool { return e.es.Count() == 3 }, "3 replayed documents indexed")
		_ = run
	})

	t.Run("replay of a missing partition", func(t *testing.T) {
		if _, err := client.ReplayDeadLetters(ctx, &adminv1.ReplayDeadLettersRequest{Partition: 99}); err == nil {
			t.Fatal("no error for partition 99")
		}
	})
}

// TestStatsReportBackpressure checks that GetStats carries the adaptive
// concurrency and backoff state an operator needs during an outage.
func TestStatsReportBackpressure(t *testing.T) {
	e := newEnv(t)
	e.produce(0, 200, 300)
	e.es.FailRequestsFor(503, time.Hour)
	e.cfg.Elasticsearch.BackoffMin = libDuration(50 * time.Millisecond)
	r := e.start(e.cfg, nil)
	waitFor(t, 20*time.Second, func() bool {
		c := r.ix.Stats(context.Background()).Counters
		return c["documents_pending_retry"] == 200 && c["retry_backoff_ms"] >= 50
	}, "retry state in stats")
	st := r.ix.Stats(context.Background())
	for _, k := range []string{"bulk_concurrency_limit", "bulk_requests_in_flight", "retry_backoff_ms", "documents_pending_retry", "in_flight_bytes_limit"} {
		if _, ok := st.Counters[k]; !ok {
			t.Errorf("stats lack %s: %v", k, st.Counters)
		}
	}
	if st.InFlightBytes == 0 {
		t.Error("in-flight bytes 0 while a round waits")
	}
	e.es.ClearFaults()
	e.es.FailRequests(0, 0)
	waitFor(t, 20*time.Second, func() bool { return e.es.Count() == 200 }, "recovery")
}
