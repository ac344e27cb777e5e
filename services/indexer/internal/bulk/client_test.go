package bulk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/bulktest"
)

func testConfig(urls ...string) Config {
	cfg := DefaultConfig()
	cfg.URLs = urls
	cfg.Timeout = 5 * time.Second
	return cfg
}

func newTestClient(t testing.TB, srv *bulktest.Server, mod func(*Config), opts ...Option) *Client {
	t.Helper()
	cfg := testConfig(srv.URL())
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func makeDocs(n int, index string) []Doc {
	docs := make([]Doc, n)
	for i := range docs {
		docs[i] = Doc{Index: index, ID: fmt.Sprintf("id-%05d", i), Source: []byte(fmt.Sprintf(`{"n":%d,"message":"line %d"}`, i, i))}
	}
	return docs
}

func outcomes(rs []Result) map[Outcome]int {
	m := map[Outcome]int{}
	for _, r := range rs {
		m[r.Outcome]++
	}
	return m
}

func TestSendCreatesAndConflicts(t *testing.T) {
	for _, gz := range []bool{false, true} {
		for _, fp := range []bool{false, true} {
			t.Run(fmt.Sprintf("gzip=%v/filter_path=%v", gz, fp), func(t *testing.T) {
				srv := bulktest.New(t)
				c := newTestClient(t, srv, func(c *Config) { c.Gzip, c.FilterPath = gz, fp })
				docs := makeDocs(10, "logs")
				srv.Seed("logs", "id-00003", []byte(`{"seeded":true}`))
				rs, err := c.Send(context.Background(), docs)
				if err != nil {
					t.Fatal(err)
				}
				if len(rs) != 10 {
					t.Fatalf("got %d results", len(rs))
				}
				for i, r := range rs {
					want := Created
					if i == 3 {
						want = Exists
					}
					if r.Outcome != want {
						t.Errorf("doc %d: %+v, want %v", i, r, want)
					}
				}
				if rs[3].Status != 409 || rs[3].ErrorType != "version_conflict_engine_exception" {
					t.Errorf("409 result: %+v", rs[3])
				}
				if got := srv.Count(); got != 10 {
					t.Errorf("stored %d docs, want 10", got)
				}
				if got := string(srv.Index("logs")["id-00005"]); got != string(docs[5].Source) {
					t.Errorf("stored source %q, want %q", got, docs[5].Source)
				}
			})
		}
	}
}

func TestSendLocalRejects(t *testing.T) {
	srv := bulktest.New(t)
	c := newTestClient(t, srv, nil)
	docs := []Doc{
		{Index: "logs", ID: "a", Source: []byte(`{"a":1}`)},
		{Index: "", ID: "b", Source: []byte(`{"b":1}`)},
		{Index: "logs", ID: strings.Repeat("x", 513), Source: []byte(`{}`)},
		{Index: "logs", ID: "pretty", Source: []byte("{\n  \"p\": \"x\\ny\"\n}\n")},
		{Index: "logs", ID: "broken", Source: []byte("{\n  \"p\": \n")},
		{Index: "logs", ID: "empty", Source: nil},
		{Index: "logs", ID: "bad\xffutf8", Source: []byte(`{}`)},
		{Index: "logs", ID: `q"u\o`, Source: []byte(`{"q":1}`)},
	}
	rs, err := c.Send(context.Background(), docs)
	if err != nil {
		t.Fatal(err)
	}
	want := []Outcome{Created, Permanent, Permanent, Created, Permanent, Permanent, Permanent, Created}
	for i, r := range rs {
		if r.Outcome != want[i] {
			t.Errorf("doc %d: %+v, want %v", i, r, want[i])
		}
		if r.Outcome == Permanent && r.ErrorType != ErrorTypeInvalidDocument {
			t.Errorf("doc %d: error type %q", i, r.ErrorType)
		}
	}
	if got := string(srv.Index("logs")["pretty"]); got != `{"p":"x\ny"}` {
		t.Errorf("compacted source %q", got)
	}
	if _, ok := srv.Index("logs")[`q"u\o`]; !ok {
		t.Errorf("escaped id not stored: %v", srv.Docs())
	}
	if srv.Requests() != 1 {
		t.Errorf("%d requests", srv.Requests())
	}
	// All refused: no request at all.
	rs, err = c.Send(context.Background(), docs[1:3])
	if err != nil || rs[0].Outcome != Permanent || rs[1].Outcome != Permanent || srv.Requests() != 1 {
		t.Errorf("all refused: %v %+v, %d requests", err, rs, srv.Requests())
	}
}

func TestSendWholeRequestErrors(t *testing.T) {
	cases := []struct {
		status int
		want   error
	}{
		{429, ErrRetryable}, {502, ErrRetryable}, {503, ErrRetryable}, {504, ErrRetryable}, {500, ErrRetryable},
		{400, ErrPermanent}, {401, ErrPermanent}, {403, ErrPermanent}, {413, ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			srv := bulktest.New(t)
			c := newTestClient(t, srv, nil)
			srv.FailRequests(tc.status, 1)
			rs, err := c.Send(context.Background(), makeDocs(3, "logs"))
			if !errors.Is(err, tc.want) || rs != nil {
				t.Fatalf("got %v, %v; want %v", rs, err, tc.want)
			}
			var re *RequestError
			if !errors.As(err, &re) || re.Status != tc.status {
				t.Fatalf("RequestError %+v", re)
			}
			if tc.want == ErrTooLarge && !errors.Is(err, ErrPermanent) {
				t.Error("ErrTooLarge should match ErrPermanent")
			}
			if tc.status == 429 && re.Type != "es_rejected_execution_exception" {
				t.Errorf("type %q", re.Type)
			}
		})
	}
}

func TestSendConnectionReset(t *testing.T) {
	srv := bulktest.New(t)
	c := newTestClient(t, srv, nil)
	srv.ResetConnections(1, true)
	_, err := c.Send(context.Background(), makeDocs(5, "logs"))
	if !errors.Is(err, ErrRetryable) {
		t.Fatalf("got %v, want ErrRetryable", err)
	}
	if srv.Count() != 5 {
		t.Fatalf("server stored %d before the reset", srv.Count())
	}
	// The replay is answered Exists: no duplicates.
	rs, err := c.Send(context.Background(), makeDocs(5, "logs"))
	if o := outcomes(rs); err != nil || o[Exists] != 5 {
		t.Fatalf("replay: %v", o)
	}
}

func TestSendTimeout(t *testing.T) {
	srv := bulktest.New(t, bulktest.WithLatency(time.Second))
	c := newTestClient(t, srv, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	_, err := c.Send(context.Background(), makeDocs(1, "logs"))
	if !errors.Is(err, ErrRetryable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestProductCheck(t *testing.T) {
	os := bulktest.New(t, bulktest.WithOpenSearch())
	c := newTestClient(t, os, nil)
	if err := c.Ping(context.Background()); !errors.Is(err, ErrProduct) || !strings.Contains(err.Error(), "flavor: opensearch") {
		t.Fatalf("ping: %v", err)
	}
	if _, err := c.Send(context.Background(), makeDocs(1, "logs")); !errors.Is(err, ErrProduct) || !errors.Is(err, ErrPermanent) {
		t.Fatalf("send: %v", err)
	}
	c = newTestClient(t, os, func(c *Config) { c.Flavor = FlavorOpenSearch })
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs, err := c.Send(context.Background(), makeDocs(2, "logs2"))
	if err != nil || rs[0].Outcome != Created {
		t.Fatal(rs, err)
	}
}

func TestAuth(t *testing.T) {
	srv := bulktest.New(t, bulktest.WithBasicAuth("elastic", "s3cret"))
	bad := newTestClient(t, srv, func(c *Config) { c.Username, c.Password = "elastic", "wrong" })
	if err := bad.Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "username/password") {
		t.Fatalf("ping with a bad password: %v", err)
	}
	if _, err := bad.Send(context.Background(), makeDocs(1, "x")); !errors.Is(err, ErrPermanent) {
		t.Fatalf("send with a bad password: %v", err)
	}
	good := newTestClient(t, srv, func(c *Config) { c.Username, c.Password = "elastic", "s3cret" })
	if err := good.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv2 := bulktest.New(t, bulktest.WithAPIKey("a2V5OnNlY3JldA=="))
	ak := newTestClient(t, srv2, func(c *Config) { c.APIKey = "a2V5OnNlY3JldA==" })
	if err := ak.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestTLS(t *testing.T) {
	srv := bulktest.New(t, bulktest.WithTLS())
	c := newTestClient(t, srv, func(c *Config) { c.CACertFile = srv.CACertFile() })
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	noCA := newTestClient(t, srv, nil)
	if err := noCA.Ping(context.Background()); err == nil {
		t.Fatal("ping without the CA succeeded")
	}
	insecure := newTestClient(t, srv, func(c *Config) { c.InsecureSkipVerify = true })
	if err := insecure.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestFailover(t *testing.T) {
	dead := bulktest.New(t)
	deadURL := dead.URL()
	dead.Close()
	live := bulktest.New(t)
	cfg := testConfig(deadURL, live.URL())
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("ping should fail over: %v", err)
	}
	for i := range 10 {
		rs, err := c.Send(context.Background(), makeDocs(3, fmt.Sprint("idx", i)))
		if o := outcomes(rs); err != nil || o[Created] != 3 {
			t.Fatalf("round %d: %v %v", i, o, err)
		}
	}
	// The dead node is skipped after its first failure: at most one failed
	// request went to it.
	if got := live.Requests(); got != 10 {
		t.Errorf("live node got %d requests, want 10", got)
	}
}

func TestEnsureTemplate(t *testing.T) {
	srv := bulktest.New(t)
	c := newTestClient(t, srv, nil)
	body := []byte(`{"index_patterns":["logs-*"],"template":{"settings":{"number_of_shards":1}}}`)
	if err := c.EnsureTemplate(context.Background(), "sluice-logs", body); err != nil {
		t.Fatal(err)
	}
	if string(srv.Template("sluice-logs")) != string(body) {
		t.Fatalf("template %s", srv.Template("sluice-logs"))
	}
	err := c.EnsureTemplate(context.Background(), "broken", []byte(`{"template":{}}`))
	if err == nil || !strings.Contains(err.Error(), "fix the template") || !errors.Is(err, ErrPermanent) {
		t.Fatalf("bad template: %v", err)
	}
}

func TestObserverAndLimiter(t *testing.T) {
	srv := bulktest.New(t)
	var seen atomic.Int64
	l := NewLimiter(1, 4)
	c := newTestClient(t, srv, nil, WithLimiter(l), WithObserver(func(ri RequestInfo) {
		if ri.Docs != 4 || ri.Status != http.StatusOK || ri.Created != 3 || ri.Exists != 1 || ri.Bytes == 0 {
			t.Errorf("observer: %+v", ri)
		}
		seen.Add(1)
	}))
	srv.Seed("logs", "id-00000", []byte(`{}`))
	if _, err := c.Send(context.Background(), makeDocs(4, "logs")); err != nil {
		t.Fatal(err)
	}
	if seen.Load() != 1 || l.InFlight() != 0 {
		t.Fatalf("observed %d, in flight %d", seen.Load(), l.InFlight())
	}
}
