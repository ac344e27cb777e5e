package benche2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func bulkBody(docs ...string) string {
	var b strings.Builder
	for _, d := range docs {
		b.WriteString(`{"create":{"_index":"logs-2026.12.04","_id":"x"}}` + "\n" + d + "\n")
	}
	return b.String()
}

func doc(pod int, seq int) string {
	return `{"message":"GET /bench/` + PodName(pod) + `/seq/` + strconv.Itoa(seq) + ` HTTP/1.1"}`
}

func newTestSink(t *testing.T, l *Ledger, upstream string) *Sink {
	t.Helper()
	s, err := NewSink(l, upstream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSinkDiscard(t *testing.T) {
	l := NewLedger(2)
	l.Wrote(0, 3, time.Now())
	l.Wrote(1, 1, time.Now())
	s := newTestSink(t, l, "")

	// The indexer's start-up calls.
	resp, err := http.Get(s.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Elastic-Product") != "Elasticsearch" || !s.Pinged() {
		t.Fatalf("GET /: %d, product %q, pinged %v", resp.StatusCode, resp.Header.Get("X-Elastic-Product"), s.Pinged())
	}
	for _, path := range []string{"/_index_template/sluice-logs", "/_ilm/policy/sluice"} {
		req, _ := http.NewRequest(http.MethodPut, s.URL()+path, strings.NewReader(`{"index_patterns":["logs-*"]}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"acknowledged":true`) {
			t.Errorf("PUT %s: %d %s", path, resp.StatusCode, b)
		}
	}

	// A plain and a gzipped bulk request, with a duplicate.
	body := bulkBody(doc(0, 1), doc(0, 2), doc(1, 1), `{"message":"no sequence"}`)
	resp, err = http.Post(s.URL()+"/_bulk?filter_path=errors", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":201}},{"create":{"status":201}},{"create":{"status":201}}]}`
	if string(answer) != want {
		t.Fatalf("bulk answer\n got %s\nwant %s", answer, want)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(bulkBody(doc(0, 2))))
	zw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/_bulk", &gz)
	req.Header.Set("Content-Encoding", "gzip")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	c := l.Counts()
	if c.Delivered != 3 || c.Duplicated != 1 || c.Foreign != 1 || s.Requests() != 2 {
		t.Errorf("counts %+v, requests %d; want 3 delivered, 1 duplicated, 1 foreign, 2 requests", c, s.Requests())
	}
	if lost := l.Lost(); lost != 1 { // pod 0 seq 3
		t.Errorf("Lost = %d, want 1", lost)
	}
}

// TestSinkProxy puts the sink in front of a fake engine that accepts the
// first item, answers 409 to the second and 429 to the third: only the
// first counts as delivered.
func TestSinkProxy(t *testing.T) {
	var got []byte
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/_bulk") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"version":{"distribution":"opensearch","number":"2.19.1"}}`)
			return
		}
		got, _ = io.ReadAll(r.Body)
		if r.URL.RawQuery != "filter_path=errors" {
			t.Errorf("query %q not passed on", r.URL.RawQuery)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409}},{"create":{"status":429}}]}`)
	}))
	defer engine.Close()
	l := NewLedger(1)
	l.Wrote(0, 3, time.Now())
	s := newTestSink(t, l, engine.URL)

	resp, err := http.Get(s.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(info), "opensearch") {
		t.Errorf("GET / not proxied: %s", info)
	}
	body := bulkBody(doc(0, 1), doc(0, 2), doc(0, 3))
	resp, err = http.Post(s.URL()+"/_bulk?filter_path=errors", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Errors bool `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || !answer.Errors {
		t.Errorf("answer not passed back: %v %+v", err, answer)
	}
	resp.Body.Close()
	if string(got) != body {
		t.Errorf("engine got a different body:\n%s", got)
	}
	c := l.Counts()
	if c.Delivered != 1 || c.Conflicts != 1 || c.Rejected != 1 || l.Lost() != 2 {
		t.Errorf("counts %+v, lost %d; want 1 delivered, 1 conflict, 1 rejected, 2 lost", c, l.Lost())
	}
}

func TestSplitBulk(t *testing.T) {
	body := `{"create":{"_id":"a"}}` + "\n" + doc(0, 1) + "\n" +
		`{"delete":{"_id":"b"}}` + "\n" +
		`{ "index" : {}}` + "\n" + doc(0, 2) + "\n\n"
	ops, docs := splitBulk([]byte(body))
	if strings.Join(ops, ",") != "create,delete,index" {
		t.Errorf("ops = %v", ops)
	}
	if len(docs) != 3 || docs[0] != (Arrival{0, 1, true}) || docs[1].OK || docs[2] != (Arrival{0, 2, true}) {
		t.Errorf("docs = %+v", docs)
	}
	if got := discardAnswer(ops); got != `{"errors":false,"items":[{"create":{"status":201}},{"delete":{"status":200}},{"index":{"status":201}}]}` {
		t.Errorf("discardAnswer = %s", got)
	}
}
