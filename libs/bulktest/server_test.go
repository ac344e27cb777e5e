package bulktest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type bulkAnswer struct {
	Took   *int  `json:"took"`
	Errors *bool `json:"errors"`
	Items  []map[string]struct {
		Index  string `json:"_index"`
		ID     string `json:"_id"`
		Result string `json:"result"`
		Status int    `json:"status"`
		Error  *struct {
			Type     string `json:"type"`
			Reason   string `json:"reason"`
			CausedBy *struct {
				Type string `json:"type"`
			} `json:"caused_by"`
		} `json:"error"`
	} `json:"items"`
}

func post(t *testing.T, s *Server, path, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

func bulk(t *testing.T, s *Server, path, body string) bulkAnswer {
	t.Helper()
	resp, data := post(t, s, path, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	if !s.openSearch && resp.Header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Errorf("no product header")
	}
	var a bulkAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	return a
}

func creates(index string, ids ...string) string {
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "{\"create\":{\"_index\":%q,\"_id\":%q}}\n{\"id\":%q}\n", index, id, id)
	}
	return b.String()
}

func TestInfo(t *testing.T) {
	s := New(t)
	resp, err := http.Get(s.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Version struct{ Number string } `json:"version"`
		Tagline string                  `json:"tagline"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if resp.Header.Get("X-Elastic-Product") != "Elasticsearch" || !strings.HasPrefix(info.Version.Number, "8.") || info.Tagline == "" {
		t.Fatalf("%v %+v", resp.Header, info)
	}
	resp, err = http.Head(s.URL() + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(resp, err)
	}
	os := New(t, WithOpenSearch())
	resp, _ = http.Get(os.URL() + "/")
	if resp.Header.Get("X-Elastic-Product") != "" {
		t.Fatal("OpenSearch sent the Elasticsearch product header")
	}
	resp.Body.Close()
}

func TestBulkStoresAndConflicts(t *testing.T) {
	s := New(t)
	s.Seed("logs", "b", []byte(`{"seed":1}`))
	a := bulk(t, s, "/_bulk", creates("logs", "a", "b", "c")+
		"{\"index\":{\"_index\":\"logs\",\"_id\":\"b\"}}\n{\"over\":1}\n"+
		"{\"create\":{\"_index\":\"logs\"}}\n{\"auto\":1}\n"+
		"{\"delete\":{\"_index\":\"logs\",\"_id\":\"c\"}}\n"+
		"{ \"create\" : { \"_id\" : \"esc\\u0061ped\" , \"_index\" : \"logs\" } }\n{\"e\":1}\n")
	want := []struct {
		op     string
		status int
		typ    string
	}{{"create", 201, ""}, {"create", 409, "version_conflict_engine_exception"}, {"create", 201, ""},
		{"index", 200, ""}, {"create", 201, ""}, {"delete", 200, ""}, {"create", 201, ""}}
	if len(a.Items) != len(want) || a.Errors == nil || !*a.Errors || a.Took == nil {
		t.Fatalf("%+v", a)
	}
	for i, w := range want {
		it, ok := a.Items[i][w.op]
		if !ok || it.Status != w.status || (w.typ != "") != (it.Error != nil) || (it.Error != nil && it.Error.Type != w.typ) {
			t.Errorf("item %d: %+v, want %+v", i, a.Items[i], w)
		}
	}
	docs := s.Index("logs")
	if string(docs["b"]) != `{"over":1}` || string(docs["a"]) != `{"id":"a"}` || docs["c"] != nil || docs["escaped"] == nil {
		t.Fatalf("%v", docs)
	}
	if s.Count() != 4 || s.Requests() != 1 || s.Items() != 7 {
		t.Fatalf("count %d requests %d items %d", s.Count(), s.Requests(), s.Items())
	}
}

func TestBulkDefaultIndexAndValidation(t *testing.T) {
	s := New(t)
	a := bulk(t, s, "/web/_bulk", "{\"create\":{\"_id\":\"1\"}}\n{\"x\":1}\n")
	if a.Items[0]["create"].Index != "web" || len(s.Index("web")) != 1 {
		t.Fatalf("%+v", a)
	}
	for name, body := range map[string]string{
		"no trailing newline": "{\"create\":{\"_index\":\"x\"}}\n{}",
		"no index":            "{\"create\":{}}\n{}\n",
		"missing source":      "{\"create\":{\"_index\":\"x\"}}\n",
		"unknown action":      "{\"upsert\":{\"_index\":\"x\"}}\n{}\n",
		"not json":            "hello\n{}\n",
		"id too long":         "{\"create\":{\"_index\":\"x\",\"_id\":\"" + strings.Repeat("i", 513) + "\"}}\n{}\n",
		"empty":               "",
	} {
		resp, data := post(t, s, "/_bulk", body)
		if resp.StatusCode != 400 || !bytes.Contains(data, []byte(`"status":400`)) {
			t.Errorf("%s: %d %s", name, resp.StatusCode, data)
		}
	}
	// A source that is not a JSON object is an item error, as in Elasticsearch.
	a = bulk(t, s, "/_bulk", "{\"create\":{\"_index\":\"x\",\"_id\":\"1\"}}\n{broken\n")
	if it := a.Items[0]["create"]; it.Status != 400 || it.Error.Type != "document_parsing_exception" {
		t.Fatalf("%+v", a)
	}
}

func TestBulkGzip(t *testing.T) {
	s := New(t)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write([]byte(creates("logs", "1", "2")))
	_ = zw.Close()
	resp, data := post(t, s, "/_bulk", zb.String(), "Content-Encoding", "gzip")
	if resp.StatusCode != 200 || s.Count() != 2 {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
}

func TestFilterPath(t *testing.T) {
	s := New(t)
	s.Seed("logs", "b", []byte(`{}`))
	body := creates("logs", "a", "b")
	cases := map[string]string{
		"errors,items.*.status,items.*.error.type,items.*.error.reason": `{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[b]: version conflict, document already exists (current version [1])"}}}]}`,
		"errors":              `{"errors":true}`,
		"items.*.error.type":  `{"items":[{"create":{"error":{"type":"version_conflict_engine_exception"}}}]}`,
		"items.create.status": `{"items":[{"create":{"status":201}},{"create":{"status":409}}]}`,
		"items.index.status":  `{}`,
		"**.status":           `{"items":[{"create":{"status":201}},{"create":{"status":409}}]}`,
		"items.*._shards":     `{"items":[{"create":{"_shards":{"total":2,"successful":1,"failed":0}}}]}`,
	}
	for fp, want := range cases {
		s.Docs()
		resp, data := post(t, s, "/_bulk?filter_path="+fp, body)
		// Reset the stored "a" so each case sees the same state.
		s.mu.Lock()
		delete(s.indices["logs"], "a")
		s.mu.Unlock()
		if resp.StatusCode != 200 || string(data) != want {
			t.Errorf("filter_path=%s:\n got %s\nwant %s", fp, data, want)
		}
	}
}

func TestFailRequests(t *testing.T) {
	s := New(t)
	s.FailRequests(429, 2)
	for i := range 2 {
		resp, data := post(t, s, "/_bulk", creates("logs", "1"))
		if resp.StatusCode != 429 || !bytes.Contains(data, []byte("es_rejected_execution_exception")) {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, data)
		}
	}
	bulk(t, s, "/_bulk", creates("logs", "1"))
	s.FailRequestsFor(503, time.Second)
	if resp, _ := post(t, s, "/_bulk", creates("logs", "2")); resp.StatusCode != 503 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	time.Sleep(1100 * time.Millisecond)
	bulk(t, s, "/_bulk", creates("logs", "2"))
	if st := s.Stats(); st.Failed != 3 || st.Requests != 5 || s.Count() != 2 {
		t.Fatalf("%+v", st)
	}
}

func TestRejectItems(t *testing.T) {
	s := New(t)
	s.RejectItems(429, 2)
	a := bulk(t, s, "/_bulk", creates("logs", "1", "2", "3"))
	for i, want := range []int{429, 429, 201} {
		if it := a.Items[i]["create"]; it.Status != want || (want == 429 && it.Error.Type != "es_rejected_execution_exception") {
			t.Errorf("item %d: %+v", i, it)
		}
	}
	if s.Count() != 1 || s.Stats().Rejected != 2 {
		t.Fatalf("%d %+v", s.Count(), s.Stats())
	}
}

func TestRejectFraction(t *testing.T) {
	s := New(t)
	s.RejectFraction(0.2)
	ids := make([]string, 500)
	for i := range ids {
		ids[i] = fmt.Sprintf("node-1:%d", i*137)
	}
	a := bulk(t, s, "/_bulk", creates("logs", ids...))
	rejected := 0
	for i, id := range ids {
		it := a.Items[i]["create"]
		if Rejects(id, 0.2) {
			rejected++
			if it.Status != 400 || it.Error.Type != "document_parsing_exception" || it.Error.CausedBy == nil {
				t.Errorf("%s: %+v", id, it)
			}
		} else if it.Status != 201 {
			t.Errorf("%s: %+v", id, it)
		}
	}
	if rejected < 60 || rejected > 140 {
		t.Fatalf("%d of 500 rejected at 20%%", rejected)
	}
	if Rejects("x", 0) || !Rejects("x", 1) {
		t.Fatal("Rejects bounds")
	}
	os := New(t, WithOpenSearch())
	os.RejectFraction(1)
	a = bulk(t, os, "/_bulk", creates("logs", "1"))
	if a.Items[0]["create"].Error.Type != "mapper_parsing_exception" {
		t.Fatalf("%+v", a)
	}
}

func TestResetConnections(t *testing.T) {
	for _, store := range []bool{false, true} {
		s := New(t)
		s.ResetConnections(1, store)
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/_bulk", strings.NewReader(creates("logs", "1", "2")))
		_, err := http.DefaultClient.Do(req)
		if err == nil {
			t.Fatal("request survived a reset")
		}
		want := 0
		if store {
			want = 2
		}
		if s.Count() != want || s.Stats().Resets != 1 {
			t.Fatalf("store=%v: %d docs, %+v", store, s.Count(), s.Stats())
		}
		bulk(t, s, "/_bulk", creates("logs", "3"))
	}
}

func TestLatencyAndDiscard(t *testing.T) {
	s := New(t, WithLatency(50*time.Millisecond), WithDiscard())
	start := time.Now()
	a := bulk(t, s, "/_bulk", creates("logs", "1", "1", "2"))
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("no latency")
	}
	for _, it := range a.Items {
		if it["create"].Status != 201 {
			t.Fatalf("%+v", a)
		}
	}
	if s.Count() != 3 || len(s.Docs()) != 0 {
		t.Fatalf("discard: count %d, docs %d", s.Count(), len(s.Docs()))
	}
	s.SetLatency(0)
	s.SetDiscard(false)
	bulk(t, s, "/_bulk", creates("logs", "1"))
	if len(s.Docs()) != 1 {
		t.Fatal("not stored after discard off")
	}
}

func TestHooks(t *testing.T) {
	s := New(t)
	s.SetHook(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if bytes.Contains(body, []byte("teapot")) {
			w.WriteHeader(http.StatusTeapot)
			return true
		}
		return false
	})
	s.SetItemHook(func(it Item) (int, string, string) {
		if it.ID == "bad" {
			return 400, "custom_exception", "nope"
		}
		return 0, "", ""
	})
	if resp, _ := post(t, s, "/_bulk", creates("teapot", "1")); resp.StatusCode != http.StatusTeapot {
		t.Fatalf("status %d", resp.StatusCode)
	}
	a := bulk(t, s, "/_bulk", creates("logs", "ok", "bad"))
	if a.Items[0]["create"].Status != 201 || a.Items[1]["create"].Error.Type != "custom_exception" {
		t.Fatalf("%+v", a)
	}
	s.ClearFaults()
	a = bulk(t, s, "/_bulk", creates("logs", "bad"))
	if a.Items[0]["create"].Status != 201 {
		t.Fatalf("%+v", a)
	}
}

func TestTemplatesCountAuth(t *testing.T) {
	s := New(t, WithBasicAuth("u", "p"))
	do := func(method, path, body string, auth bool) (int, string) {
		req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		if auth {
			req.SetBasicAuth("u", "p")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	if st, _ := do("GET", "/", "", false); st != 401 {
		t.Fatalf("unauthenticated: %d", st)
	}
	if st, body := do("PUT", "/_index_template/t1", `{"index_patterns":["logs-*"]}`, true); st != 200 || !strings.Contains(body, "acknowledged") {
		t.Fatalf("%d %s", st, body)
	}
	if st, _ := do("PUT", "/_index_template/t2", `{"template":{}}`, true); st != 400 {
		t.Fatalf("template without patterns: %d", st)
	}
	if st, body := do("GET", "/_index_template/t1", "", true); st != 200 || !strings.Contains(body, "logs-*") {
		t.Fatalf("%d %s", st, body)
	}
	if st, _ := do("POST", "/_bulk", creates("logs", "1", "2"), true); st != 200 {
		t.Fatal(st)
	}
	if st, body := do("GET", "/logs/_count", "", true); st != 200 || !strings.Contains(body, `"count":2`) {
		t.Fatalf("%d %s", st, body)
	}
	if st, _ := do("GET", "/nope/nothing/here", "", true); st != 404 {
		t.Fatal(st)
	}
}

func TestConcurrentRequests(t *testing.T) {
	s := New(t)
	s.RejectItems(429, 10)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				_, _ = post(t, s, "/_bulk", creates("logs", fmt.Sprint(g, "-", i), "shared"))
				s.Count()
				s.Docs()
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	if st.Items != 160 || st.Created+st.Conflicts+st.Rejected != 160 || st.Created < 71 {
		t.Fatalf("%+v", st)
	}
}

func TestClosedServerRefuses(t *testing.T) {
	s := New(t)
	s.Close()
	_, err := http.Get(s.URL())
	if err == nil {
		t.Fatal("closed server answered")
	}
	var ne interface{ Timeout() bool }
	_ = errors.As(err, &ne)
}
