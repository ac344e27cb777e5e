//go:build containers

package containers

import (
	"encoding/json"
	"testing"

	"github.com/sluice-io/sluice/loadtest/gen"
	"github.com/sluice-io/sluice/loadtest/pipelinetest"
	"github.com/sluice-io/sluice/loadtest/realinfra"
)

func tally(t *testing.T, docs map[string]json.RawMessage, pods []*gen.Pod) {
	t.Helper()
	pipelinetest.Tally(t, docs, pods)
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
