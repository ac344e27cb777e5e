//go:build containers

package containers

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sluice-io/sluice/loadtest/gen"
	"github.com/sluice-io/sluice/loadtest/pipelinetest"
	"github.com/sluice-io/sluice/loadtest/realinfra"
)

// tally checks every line arrived exactly once (pipelinetest.Tally) and
// returns how many documents repeat a line already indexed, for the tests'
// closing figures.
func tally(t *testing.T, docs map[string]json.RawMessage, pods []*gen.Pod) (duplicated int) {
	t.Helper()
	pipelinetest.Tally(t, docs, pods)
	seen := map[string]bool{}
	for _, raw := range docs {
		var d pipelinetest.Doc
		if json.Unmarshal(raw, &d) != nil {
			continue // reported by Tally
		}
		pod, seq, ok := gen.SeqFromURL(d.URL.Original)
		if !ok {
			continue
		}
		key := fmt.Sprintf("%s#%d", pod, seq)
		if seen[key] {
			duplicated++
		}
		seen[key] = true
	}
	return duplicated
}

func newPods(t *testing.T, dir string, n int) []*gen.Pod {
	t.Helper()
	return pipelinetest.NewPods(t, dir, n)
}

func writeAll(t *testing.T, pods []*gen.Pod, lines, chunk int) {
	t.Helper()
	pipelinetest.WriteAll(t, pods, lines, chunk)
}

func total(pods []*gen.Pod) int { return pipelinetest.Total(pods) }

func searchAll(t *testing.T, url, index string) map[string]json.RawMessage {
	t.Helper()
	return realinfra.Documents(t, url, index, "", "")
}
