// Package pipelinetest holds what the end-to-end tests share: a workload
// of nginx pods writing kubelet-style logs, and the check that every line
// they wrote was indexed exactly once with its Kubernetes and parsed fields.
package pipelinetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/sluice-io/sluice/loadtest/gen"
)

// Doc is the part of an indexed document the checks read.
type Doc struct {
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
	Timestamp string   `json:"@timestamp"`
	Tags      []string `json:"tags"`
}

// Tally checks that every generated line arrived exactly once, with its
// Kubernetes fields and parsed fields.
func Tally(t testing.TB, docs map[string]json.RawMessage, pods []*gen.Pod) {
	t.Helper()
	seen := map[string]map[int64]int{}
	for id, raw := range docs {
		var d Doc
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("document %s is not JSON: %v", id, err)
		}
		pod, seq, ok := gen.SeqFromURL(d.URL.Original)
		if !ok {
			t.Fatalf("document %s has no parsed url.original with a sequence (tags %v): %s", id, d.Tags, raw)
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

// NewPods creates n nginx pods writing kubelet-style logs under dir.
func NewPods(t testing.TB, dir string, n int) []*gen.Pod {
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

func WriteAll(t testing.TB, pods []*gen.Pod, lines, chunk int) {
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

// Total is the number of lines the pods have written.
func Total(pods []*gen.Pod) int {
	n := 0
	for _, p := range pods {
		n += int(p.Seq())
	}
	return n
}
