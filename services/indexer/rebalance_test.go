package indexer

import (
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/service"
	"github.com/sluice-io/sluice/services/indexer/internal/indexname"
)

// TestFault22_Rebalance: replicas join and one dies while documents flow
// (3 → scaled here to 1 → 2 → 1). Partitions move with rounds and carried
// records in hand; nothing is lost and no _id is created twice.
func TestFault22_Rebalance(t *testing.T) {
	e := newEnv(t)
	// Small rounds so that polls overshoot and records are carried over
	// while partitions move.
	e.cfg.Batch.MaxBytes = 8 << 10
	e.cfg.Batch.MaxDocs = 20
	const n = 4000
	ids := e.produce(0, n, 400)
	// Slow enough that documents are still flowing when replicas change.
	e.es.SetLatency(120 * time.Millisecond)
	r1 := e.start(e.cfg, nil)
	waitFor(t, 30*time.Second, func() bool { return e.es.Count() > n/5 }, "first documents")
	r2 := e.start(e.cfg, nil)
	waitFor(t, 90*time.Second, func() bool { return r2.ix.ownedCount() > 0 }, "the second replica to take partitions")
	if e.es.Count() >= n {
		t.Fatal("everything was indexed before the rebalance; slow the server down")
	}
	if err := r1.stop(service.ErrAbort); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, func() bool { return e.es.Count() >= n }, "%d documents (have %d)", n, e.es.Count(), r1.ix.Stats(t.Context()).Counters, e.es.Stats())
	st := e.es.Stats()
	if st.Created != n {
		t.Fatalf("%d created for %d ids", st.Created, n)
	}
	docs := e.es.Docs()
	for _, id := range ids {
		if _, ok := docs[id]; !ok {
			t.Fatalf("document %s lost", id)
		}
	}
	t.Logf("replica 1 consumed %d, replica 2 %d, 409s %d", r1.counter("records_consumed"), r2.counter("records_consumed"), st.Conflicts)
}

// TestIndexModes runs documents through the indexer with each index mode
// and checks where they land.
func TestIndexModes(t *testing.T) {
	tests := []struct {
		name string
		cfg  indexname.Config
		want string
	}{
		{"header", indexname.Config{}, testIndex},
		{"fixed", indexname.Config{Mode: indexname.ModeFixed, Name: "applogs"}, "applogs"},
		{"date", indexname.Config{Mode: indexname.ModeDate, Name: "k8s-%{+yyyy.MM}"}, "k8s-2026.02"},
		{"field", indexname.Config{Mode: indexname.ModeField, Field: "kubernetes.namespace", Allow: []string{"shop"}, Name: "logs-%{value}"}, "logs-shop"},
		{"datastream", indexname.Config{Mode: indexname.ModeDataStream}, "logs-generic-default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.cfg.Index = tt.cfg
			e.produce(0, 50, 200)
			e.start(e.cfg, nil)
			waitFor(t, 20*time.Second, func() bool { return len(e.es.Index(tt.want)) == 50 }, "50 documents in %s (indices %v)", tt.want, e.es.Indices())
		})
	}
}
