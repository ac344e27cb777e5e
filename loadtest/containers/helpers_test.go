//go:build containers

package containers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-io/sluice/loadtest/gen"
)

// doc holds the fields of an indexed document that tally checks.
type doc struct {
	URL struct {
		Original string `json:"original"`
	} `json:"url"`
	HTTP struct {
		Response struct {
			StatusCode int `json:"status_code"`
		} `json:"response"`
	} `json:"http"`
	Kubernetes struct {
		Namespace string `json:"namespace"`
		Pod       struct {
			Name string `json:"name"`
		} `json:"pod"`
		Container struct {
			Name string `json:"name"`
		} `json:"container"`
		Node struct {
			Name string `json:"name"`
		} `json:"node"`
	} `json:"kubernetes"`
	Container struct {
		ID string `json:"id"`
	} `json:"container"`
	Timestamp string `json:"@timestamp"`
}

// tally checks that every generated line arrived exactly once, with its
// Kubernetes fields and parsed fields.
func tally(t *testing.T, docs map[string]json.RawMessage, pods []*gen.Pod) {
	t.Helper()
	seen := map[string]map[int64]int{}
	for id, raw := range docs {
		var d doc
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("document %s is not JSON: %v", id, err)
		}
		pod, seq, ok := gen.SeqFromURL(d.URL.Original)
		if !ok {
			t.Fatalf("document %s has no parsed url.original with a sequence: %s", id, raw)
		}
		if want := d.Kubernetes.Namespace + "/" + d.Kubernetes.Pod.Name; want != pod {
			t.Fatalf("document %s: kubernetes fields %q do not match the line's pod %q", id, want, pod)
		}
		if d.Kubernetes.Container.Name != "nginx" || d.Container.ID == "" || d.Kubernetes.Node.Name == "" {
			t.Fatalf("document %s lacks container metadata: %s", id, raw)
		}
		if d.HTTP.Response.StatusCode == 0 || d.Timestamp == "" {
			t.Fatalf("document %s lacks parsed fields: %s", id, raw)
		}
		if seen[pod] == nil {
			seen[pod] = map[int64]int{}
		}
		seen[pod][seq]++
	}
	for _, p := range pods {
		key := p.Namespace + "/" + p.Name
		for s := int64(1); s <= p.Seq(); s++ {
			switch n := seen[key][s]; n {
			case 1:
			case 0:
				t.Errorf("%s line %d lost", key, s)
			default:
				t.Errorf("%s line %d indexed %d times", key, s, n)
			}
		}
		if extra := int64(len(seen[key])) - p.Seq(); extra > 0 {
			t.Errorf("%s: %d documents for lines never written", key, extra)
		}
	}
}

func newPods(t *testing.T, dir string, n int) []*gen.Pod {
	t.Helper()
	var pods []*gen.Pod
	for i := 0; i < n; i++ {
		p, err := gen.NewPod(dir, []string{"shop", "payments", "search"}[i%3], fmt.Sprintf("web-%d", i), "nginx")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		pods = append(pods, p)
	}
	return pods
}

// writeAll appends lines to every pod's log, chunk lines at a time.
func writeAll(t *testing.T, pods []*gen.Pod, lines, chunk int) {
	t.Helper()
	for written := 0; written < lines; written += chunk {
		for _, p := range pods {
			if _, err := p.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func total(pods []*gen.Pod) int {
	n := 0
	for _, p := range pods {
		n += int(p.Seq())
	}
	return n
}

// searchAll returns every document of index by _id (small test indices only).
func searchAll(t *testing.T, url, index string) map[string]json.RawMessage {
	t.Helper()
	if resp, err := http.Post(url+"/"+index+"/_refresh", "application/json", nil); err == nil {
		resp.Body.Close()
	}
	resp, err := http.Post(url+"/"+index+"/_search?size=10000", "application/json",
		strings.NewReader(`{"query":{"match_all":{}}}`))
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("search: %s: %s", resp.Status, body)
	}
	var r struct {
		Hits struct {
			Hits []struct {
				ID     string          `json:"_id"`
				Source json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("search response: %v", err)
	}
	docs := make(map[string]json.RawMessage, len(r.Hits.Hits))
	for _, h := range r.Hits.Hits {
		docs[h.ID] = h.Source
	}
	return docs
}

// syncBuffer collects the services' logs from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
