package sink

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/libs/bulktest"
	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
)

func newSearch(tb testing.TB, srv *bulktest.Server) Search {
	tb.Helper()
	cfg := bulk.DefaultConfig()
	cfg.URLs = []string{srv.URL()}
	l := bulk.NewLimiter(1, 4)
	cl, err := bulk.New(cfg, bulk.WithLimiter(l))
	if err != nil {
		tb.Fatal(err)
	}
	return Search{Client: cl, Limiter: l}
}

func docs(n int) []bulk.Doc {
	out := make([]bulk.Doc, n)
	for i := range out {
		out[i] = bulk.Doc{Index: "logs-test", ID: fmt.Sprintf("id-%03d", i), Source: fmt.Appendf(nil, `{"n":%d}`, i)}
	}
	return out
}

// poison answers a bulk request 400 as a whole when it holds the marker,
// as Elasticsearch does for a request it cannot parse.
func poison(marker string) bulktest.Hook {
	return func(w http.ResponseWriter, _ *http.Request, body []byte) bool {
		if !bytes.Contains(body, []byte(marker)) {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":{"type":"x_content_parse_exception","reason":"[1:9] Unexpected character"},"status":400}`))
		return true
	}
}

func TestSearchIndex(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*bulktest.Server, []bulk.Doc)
		check func(t *testing.T, srv *bulktest.Server, res []bulk.Result)
	}{
		{
			name:  "all created",
			setup: func(*bulktest.Server, []bulk.Doc) {},
			check: func(t *testing.T, srv *bulktest.Server, res []bulk.Result) {
				for i, r := range res {
					if r.Outcome != bulk.Created {
						t.Fatalf("doc %d: %+v", i, r)
					}
				}
			},
		},
		{
			name: "whole-request 400 isolates the bad document",
			setup: func(srv *bulktest.Server, d []bulk.Doc) {
				d[5].Source = []byte(`{"n":"POISON"}`)
				srv.SetHook(poison("POISON"))
			},
			check: func(t *testing.T, srv *bulktest.Server, res []bulk.Result) {
				for i, r := range res {
					want := bulk.Created
					if i == 5 {
						want = bulk.Permanent
					}
					if r.Outcome != want {
						t.Fatalf("doc %d: %+v, want %v", i, r, want)
					}
				}
				if res[5].Status != 400 || res[5].ErrorType != "x_content_parse_exception" {
					t.Fatalf("bad doc result %+v", res[5])
				}
				if srv.Count() != 15 {
					t.Fatalf("stored %d, want 15", srv.Count())
				}
			},
		},
		{
			name:  "whole-request 429 is retryable for every document",
			setup: func(srv *bulktest.Server, _ []bulk.Doc) { srv.FailRequests(429, 1) },
			check: func(t *testing.T, srv *bulktest.Server, res []bulk.Result) {
				for i, r := range res {
					if r.Outcome != bulk.Retryable || r.ErrorType != ErrorTypeRequest || r.Status != 429 {
						t.Fatalf("doc %d: %+v", i, r)
					}
				}
			},
		},
		{
			name:  "401 is a setting to fix, not a bad document",
			setup: func(srv *bulktest.Server, _ []bulk.Doc) { srv.FailRequests(401, 1) },
			check: func(t *testing.T, srv *bulktest.Server, res []bulk.Result) {
				if res[0].Outcome != bulk.Retryable || res[0].Status != 401 {
					t.Fatalf("%+v", res[0])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := bulktest.New(t)
			s := newSearch(t, srv)
			d := docs(16)
			tt.setup(srv, d)
			tt.check(t, srv, s.Index(context.Background(), d))
			if lim, n := s.Concurrency(); lim < 1 || n != 0 {
				t.Fatalf("Concurrency = %d, %d", lim, n)
			}
		})
	}
}

func TestSearchSplitsTooLarge(t *testing.T) {
	srv := bulktest.New(t, bulktest.WithMaxBodyBytes(400))
	s := newSearch(t, srv)
	d := docs(20)
	d[7].Source = []byte(`{"big":"` + string(bytes.Repeat([]byte("x"), 500)) + `"}`)
	res := s.Index(context.Background(), d)
	for i, r := range res {
		if i == 7 {
			if r.Outcome != bulk.Permanent || r.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("big doc: %+v", r)
			}
			continue
		}
		if r.Outcome != bulk.Created {
			t.Fatalf("doc %d: %+v", i, r)
		}
	}
}

func TestFileSinkCreateOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docs.ndjson")
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if res := f.Index(context.Background(), docs(3)); res[2].Outcome != bulk.Created {
		t.Fatalf("%+v", res)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	f, err = OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	res := f.Index(context.Background(), docs(4))
	for i, want := range []bulk.Outcome{bulk.Exists, bulk.Exists, bulk.Exists, bulk.Created} {
		if res[i].Outcome != want {
			t.Fatalf("doc %d: %v, want %v", i, res[i].Outcome, want)
		}
	}
	if f.Count() != 4 {
		t.Fatalf("Count %d", f.Count())
	}
}
