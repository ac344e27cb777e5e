package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/loadtest/gen"
)

func docsFor(pod string, seqs ...int64) []Doc {
	var out []Doc
	for _, s := range seqs {
		out = append(out, Doc{ID: fmt.Sprintf("%s-%d-%d", pod, s, len(out)), Pod: pod, Seq: s})
	}
	return out
}

func ordered(ds []Doc) []Doc {
	for i := range ds {
		ds[i].Order = int64(i + 1)
	}
	return ds
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name                                   string
		exp                                    Expect
		docs                                   []Doc
		lost, dups, unexpected, reordered, rot int64
		ok                                     bool
	}{
		{name: "exact", exp: Expect{Written: map[string]int64{"a/p": 3}}, docs: ordered(docsFor("a/p", 1, 2, 3)), reordered: 0, ok: true},
		{name: "lost", exp: Expect{Written: map[string]int64{"a/p": 3}}, docs: ordered(docsFor("a/p", 1, 3)), lost: 1},
		{name: "duplicate", exp: Expect{Written: map[string]int64{"a/p": 2}}, docs: ordered(docsFor("a/p", 1, 2, 2)), dups: 1},
		{name: "reordered is not a failure", exp: Expect{Written: map[string]int64{"a/p": 3}}, docs: ordered(docsFor("a/p", 2, 1, 3)), reordered: 1, ok: true},
		{name: "unknown order", exp: Expect{Written: map[string]int64{"a/p": 2}}, docs: docsFor("a/p", 2, 1), reordered: -1, ok: true},
		{name: "never written", exp: Expect{Written: map[string]int64{"a/p": 1}}, docs: ordered(append(docsFor("a/p", 1, 2), docsFor("b/q", 1)...)), unexpected: 2},
		{name: "dead-lettered is accounted for", exp: Expect{Written: map[string]int64{"a/p": 3}},
			docs: append(ordered(docsFor("a/p", 1, 3)), Doc{Pod: "a/p", Seq: 2, DeadLetter: true}), reordered: 0, ok: true},
		{name: "rotated away", exp: Expect{Written: map[string]int64{"a/p": 5}, MayMiss: map[string][]gen.SeqRange{"a/p": {{From: 1, To: 2}}}},
			docs: ordered(docsFor("a/p", 3, 4, 5)), rot: 2, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Check(tt.exp, tt.docs, 0)
			if r.Lost != tt.lost || r.Duplicates != tt.dups || r.Unexpected != tt.unexpected || r.Reordered != tt.reordered || r.RotatedAway != tt.rot || r.OK() != tt.ok {
				t.Fatalf("got %s (rotated %d, ok %v)", r, r.RotatedAway, r.OK())
			}
		})
	}
}

func TestLatencyAndThroughput(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var docs []Doc
	for i := 0; i < 100; i++ {
		docs = append(docs, Doc{ID: fmt.Sprint(i), Pod: "a/p", Seq: int64(i + 1), Order: int64(i + 1),
			Created: t0.Add(time.Duration(i) * 20 * time.Millisecond), Ingested: t0.Add(time.Duration(i)*20*time.Millisecond + 5*time.Millisecond),
			Indexed: t0.Add(time.Duration(i)*20*time.Millisecond + time.Duration(i+1)*time.Millisecond)})
	}
	r := Check(Expect{Written: map[string]int64{"a/p": 100}}, docs, 0)
	if r.Latency.Count != 100 || r.Latency.P50 != 51 || r.Latency.Max != 100 {
		t.Fatalf("latency %+v", r.Latency)
	}
	var sum float64
	for _, p := range r.Throughput {
		sum += p.V
	}
	if len(r.Throughput) != 3 || sum != 100 {
		t.Fatalf("throughput %+v", r.Throughput)
	}
}

const src = `{"url":{"original":"/shop/web-0/seq/%d"},"event":{"created":"2026-01-01T00:00:00.5Z","ingested":"2026-01-01T00:00:00.6Z"}}`

func TestReadNDJSON(t *testing.T) {
	var b strings.Builder
	for _, s := range []int{1, 2, 2} {
		fmt.Fprintf(&b, `{"_index":"logs-x","_id":"id%d","_source":`+src+"}\n", b.Len(), s)
	}
	b.WriteString(`{"_index":"logs-x","_id":"junk","_source":{"message":"not generated"}}` + "\n")
	docs, unparsed, err := ReadNDJSON(strings.NewReader(b.String()), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r := Check(Expect{Written: map[string]int64{"shop/web-0": 2}}, docs, unparsed)
	if r.Duplicates != 1 || r.Unexpected != 1 || r.Lost != 0 || r.Documents != 4 {
		t.Fatalf("got %s", r)
	}
}

// fakeSearch serves n documents through _search with search_after, with a
// point in time (Elasticsearch) or without (OpenSearch: sort by _id).
func fakeSearch(t testing.TB, n int, pit bool) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("id%05d", i)
	}
	sort.Strings(ids)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/_refresh"):
			io.WriteString(w, `{}`)
		case strings.HasSuffix(r.URL.Path, "/_pit") && r.Method == "POST":
			if !pit {
				http.Error(w, `{"error":"no handler"}`, http.StatusNotFound)
				return
			}
			io.WriteString(w, `{"id":"pit-1"}`)
		case r.URL.Path == "/_pit" && r.Method == "DELETE":
			io.WriteString(w, `{"succeeded":true}`)
		case strings.HasSuffix(r.URL.Path, "/_search"):
			var req struct {
				Size        int               `json:"size"`
				SearchAfter []json.RawMessage `json:"search_after"`
				Pit         *struct{ ID string }
			}
			json.NewDecoder(r.Body).Decode(&req)
			if (req.Pit != nil) != pit || (r.URL.Path == "/_search") != pit {
				t.Errorf("pit %v in %s", req.Pit, r.URL.Path)
			}
			start := 0
			if len(req.SearchAfter) == 1 {
				var after string
				json.Unmarshal(req.SearchAfter[0], &after)
				start = sort.SearchStrings(ids, after) + 1
			}
			var hits []string
			for i := start; i < len(ids) && len(hits) < req.Size; i++ {
				var seq int
				fmt.Sscanf(ids[i], "id%d", &seq)
				hits = append(hits, fmt.Sprintf(`{"_id":%q,"_source":`+src+`,"sort":[%q]}`, ids[i], seq+1, ids[i]))
			}
			fmt.Fprintf(w, `{"pit_id":"pit-1","hits":{"hits":[%s]}}`, strings.Join(hits, ","))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSearch(t *testing.T) {
	for _, pit := range []bool{true, false} {
		t.Run(fmt.Sprintf("pit=%v", pit), func(t *testing.T) {
			url := fakeSearch(t, 2345, pit)
			docs, unparsed, err := Search(context.Background(), SearchOptions{URL: url, PageSize: 500})
			if err != nil {
				t.Fatal(err)
			}
			r := Check(Expect{Written: map[string]int64{"shop/web-0": 2345}}, docs, unparsed)
			if !r.OK() || r.Indexed != 2345 {
				t.Fatalf("got %s", r)
			}
		})
	}
}
