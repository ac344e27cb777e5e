package indexer

import (
	"testing"

	"github.com/sluice-io/sluice/services/indexer/config"
)

// TestMemoryBudget: the default Go memory limit follows the batch
// settings and, with the defaults, leaves room under the 100 MiB the
// indexer is held to for the memory the runtime does not count.
func TestMemoryBudget(t *testing.T) {
	cfg := config.NewDefault()
	if got := MemoryBudget(cfg); got != 78<<20+1<<18 {
		t.Errorf("MemoryBudget(defaults) = %d (%.2f MiB), want 78.25 MiB", got, float64(got)/(1<<20))
	}
	cfg.Batch.Concurrency = 8
	if MemoryBudget(cfg) <= 78<<20 {
		t.Errorf("MemoryBudget does not grow with batch.concurrency")
	}
}
