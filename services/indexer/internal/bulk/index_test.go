package bulk

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/bulktest"
)

func TestIndexRetriesWholeRequest(t *testing.T) {
	for _, status := range []int{429, 502, 503, 504, 401} {
		srv := bulktest.New(t)
		c := newTestClient(t, srv, nil)
		srv.FailRequests(status, 3)
		rs := c.Index(context.Background(), makeDocs(20, "logs"))
		if o := outcomes(rs); o[Created] != 20 {
			t.Fatalf("status %d: %v", status, o)
		}
		if srv.Requests() != 4 || srv.Count() != 20 {
			t.Fatalf("status %d: %d requests, %d docs", status, srv.Requests(), srv.Count())
		}
	}
}

func TestIndexRetriesOnlyRetryableItems(t *testing.T) {
	srv := bulktest.New(t)
	c := newTestClient(t, srv, nil)
	srv.Seed("logs", "id-00010", []byte(`{}`))
	srv.RejectItems(429, 5)
	srv.RejectFraction(0.1)
	docs := makeDocs(100, "logs")
	rs := c.Index(context.Background(), docs)
	wantPerm := 0
	for i, r := range rs {
		switch {
		case bulktest.Rejects(docs[i].ID, 0.1):
			wantPerm++
			if r.Outcome != Permanent || r.Status != 400 || r.ErrorType != "document_parsing_exception" || r.Reason == "" {
				t.Errorf("doc %d: %+v, want a mapping error", i, r)
			}
		case i == 10:
			if r.Outcome != Exists {
				t.Errorf("doc 10: %+v, want Exists", r)
			}
		default:
			if r.Outcome != Created {
				t.Errorf("doc %d: %+v, want Created", i, r)
			}
		}
	}
	if wantPerm == 0 || wantPerm > 30 {
		t.Fatalf("%d of 100 rejected by hash at 10%%", wantPerm)
	}
	// One first request, then retries carrying the 429'd items only.
	if st := srv.Stats(); st.Items != 100+5 || st.Rejected != 5 {
		t.Fatalf("stats %+v", st)
	}
}

func TestIndexExhaustsRetries(t *testing.T) {
	srv := bulktest.New(t)
	c := newTestClient(t, srv, func(c *Config) { c.MaxRetries = 2 })
	srv.FailRequests(503, 100)
	rs := c.Index(context.Background(), makeDocs(3, "logs"))
	for _, r := range rs {
		if r.Outcome != Retryable || r.Status != 503 || r.ErrorType != "unavailable_shards_exception" {
			t.Fatalf("%+v", r)
		}
	}
	if srv.Requests() != 3 {
		t.Fatalf("%d requests, want 1 + 2 retries", srv.Requests())
	}

	srv2 := bulktest.New(t)
	c2 := newTestClient(t, srv2, func(c *Config) { c.MaxRetries = 0 })
	srv2.RejectItems(429, 1)
	rs = c2.Index(context.Background(), makeDocs(2, "logs"))
	if rs[0].Outcome != Retryable || rs[1].Outcome != Created || srv2.Requests() != 1 {
		t.Fatalf("MaxRetries 0: %+v, %d requests", rs, srv2.Requests())
	}
}

func TestIndexForeverUntilContextEnds(t *testing.T) {
	srv := bulktest.New(t)
	c := newTestClient(t, srv, func(c *Config) { c.MaxRetries = -1 })
	srv.FailRequests(429, 1<<30)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	rs := c.Index(ctx, makeDocs(2, "logs"))
	if time.Since(start) > 2*time.Second {
		t.Fatal("Index did not stop with its context")
	}
	if rs[0].Outcome != Retryable || srv.Requests() < 5 {
		t.Fatalf("%+v after %d requests", rs[0], srv.Requests())
	}
}

func TestIndexOutageForADuration(t *testing.T) {
	srv := bulktest.New(t)
	c := newTestClient(t, srv, func(c *Config) { c.MaxRetries = -1 })
	srv.FailRequestsFor(429, 150*time.Millisecond)
	rs := c.Index(context.Background(), makeDocs(50, "logs"))
	if o := outcomes(rs); o[Created] != 50 {
		t.Fatalf("%v", o)
	}
}

func TestIndexConnectionResetNoDuplicates(t *testing.T) {
	for _, stored := range []bool{false, true} {
		srv := bulktest.New(t)
		c := newTestClient(t, srv, nil)
		srv.ResetConnections(2, stored)
		rs := c.Index(context.Background(), makeDocs(30, "logs"))
		for i, r := range rs {
			want := Created
			if stored {
				want = Exists
			}
			if r.Outcome != want {
				t.Fatalf("stored=%v doc %d: %+v", stored, i, r)
			}
		}
		if srv.Count() != 30 || srv.Stats().Resets != 2 {
			t.Fatalf("stored=%v: %d docs, %+v", stored, srv.Count(), srv.Stats())
		}
	}
}

func TestIndexBisectsWholeRequest400(t *testing.T) {
	srv := bulktest.New(t)
	c := newTestClient(t, srv, nil)
	srv.SetHook(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if bytes.Contains(body, []byte(`"id-00013"`)) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"type":"illegal_argument_exception","reason":"poison"},"status":400}`))
			return true
		}
		return false
	})
	rs := c.Index(context.Background(), makeDocs(40, "logs"))
	for i, r := range rs {
		if i == 13 {
			if r.Outcome != Permanent || r.Status != 400 || r.ErrorType != "illegal_argument_exception" {
				t.Errorf("poison: %+v", r)
			}
		} else if r.Outcome != Created {
			t.Errorf("doc %d: %+v", i, r)
		}
	}
	if n := srv.Requests(); n > 2*6+1 {
		t.Errorf("%d requests to isolate one document of 40", n)
	}
}

func TestIndexSplitsTooLarge(t *testing.T) {
	srv := bulktest.New(t, bulktest.WithMaxBodyBytes(1000))
	c := newTestClient(t, srv, nil)
	docs := makeDocs(40, "logs")
	docs = append(docs, Doc{Index: "logs", ID: "huge", Source: append(append([]byte(`{"m":"`), bytes.Repeat([]byte("x"), 2000)...), `"}`...)})
	rs := c.Index(context.Background(), docs)
	for i, r := range rs {
		if i == 40 {
			if r.Outcome != Permanent || r.Status != 413 {
				t.Errorf("huge: %+v", r)
			}
		} else if r.Outcome != Created {
			t.Errorf("doc %d: %+v", i, r)
		}
	}
}

func TestIndexConcurrent(t *testing.T) {
	srv := bulktest.New(t)
	c := newTestClient(t, srv, nil, WithLimiter(NewLimiter(1, 4)))
	srv.RejectItems(429, 50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			docs := makeDocs(100, "logs-"+string(rune('a'+g)))
			for _, r := range c.Index(context.Background(), docs) {
				if r.Outcome != Created {
					t.Errorf("%+v", r)
				}
			}
		})
	}
	wg.Wait()
	if srv.Count() != 800 {
		t.Fatalf("%d docs", srv.Count())
	}
}

func TestBackoffBounds(t *testing.T) {
	c := &Client{cfg: Config{BackoffMin: 100 * time.Millisecond, BackoffMax: 2 * time.Second}}
	for n := 1; n < 100; n++ {
		ceil := min(100*time.Millisecond<<min(n-1, 20), 2*time.Second)
		for range 20 {
			if d := c.backoff(n); d < 0 || d > ceil {
				t.Fatalf("backoff(%d) = %v, ceiling %v", n, d, ceil)
			}
		}
	}
}

// FAULTS row 6: 429s for a while, then per-item 429s; nothing lost or doubled.
func TestIndexSurvives429Storm(t *testing.T) {
	srv := bulktest.New(t)
	c := newTestClient(t, srv, func(c *Config) { c.MaxRetries = -1 })
	srv.FailRequestsFor(429, 100*time.Millisecond)
	srv.RejectItems(429, 300)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			docs := makeDocs(200, "logs-"+string(rune('a'+g)))
			for _, r := range c.Index(context.Background(), docs) {
				if r.Outcome != Created {
					t.Errorf("%+v", r)
				}
			}
		})
	}
	wg.Wait()
	if srv.Count() != 800 || srv.Stats().Conflicts != 0 {
		t.Fatalf("%d docs, %+v", srv.Count(), srv.Stats())
	}
}

// FAULTS row 10: a slow engine shrinks the limit to its minimum.
func TestLimiterShrinksOnLatency(t *testing.T) {
	srv := bulktest.New(t, bulktest.WithLatency(30*time.Millisecond))
	l := NewLimiter(1, 8, WithInitialLimit(8), WithTargetLatency(10*time.Millisecond))
	c := newTestClient(t, srv, nil, WithLimiter(l))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 3 {
				c.Index(context.Background(), makeDocs(5, "l"+string(rune('a'+g))+string(rune('a'+i))))
				if n := l.InFlight(); n > 8 {
					t.Errorf("%d in flight", n)
				}
			}
		})
	}
	wg.Wait()
	if l.Limit() != 1 {
		t.Fatalf("limit %d after slow answers, want 1", l.Limit())
	}
}
