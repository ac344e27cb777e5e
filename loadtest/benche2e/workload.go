package benche2e

import (
	"context"
	"fmt"
	"time"

	"github.com/sluice-io/sluice/loadtest/gen"
)

// Workload writes CRI nginx access lines into kubelet-style pod files, at
// a target rate or as fast as the pipeline keeps up with, and records every
// write in the ledger.
type Workload struct {
	pods   []*gen.RotatingPod
	ledger *Ledger
	// Rate is the target in lines per second over all pods; 0 writes as
	// fast as the pipeline drains, keeping at most MaxBacklog lines
	// written but not yet delivered, so a run at full speed measures the
	// pipeline and not how fast files can be appended to.
	Rate       float64
	MaxBacklog int64
}

// tick is how often the writer tops the pods up: small enough that a line
// waits little in the writer, large enough that writes are not per line.
const tick = 10 * time.Millisecond

// NewWorkload creates n pods (namespace "bench", pods PodName(i), container
// "nginx") under podsDir with their symlinks in containersDir.
func NewWorkload(ledger *Ledger, podsDir, containersDir string, n int) (*Workload, error) {
	w := &Workload{ledger: ledger, MaxBacklog: 300_000}
	for i := range n {
		p, err := gen.NewRotatingPod(gen.PodOptions{
			Namespace: "bench", Name: PodName(i), Container: "nginx",
			PodsDir: podsDir, ContainersDir: containersDir, Seed: uint64(i) + 1,
		})
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("pod %d: %w", i, err)
		}
		w.pods = append(w.pods, p)
	}
	return w, nil
}

// Run writes until d has passed or ctx ends.
func (w *Workload) Run(ctx context.Context, d time.Duration) error {
	start := time.Now()
	t := time.NewTicker(tick)
	defer t.Stop()
	next := 0 // the pod that gets the remainder first, so none lags
	for {
		elapsed := time.Since(start)
		if elapsed >= d {
			return nil
		}
		c := w.ledger.Counts()
		want := w.due(elapsed, c.Written, c.Delivered)
		if want > 0 {
			per, rem := want/int64(len(w.pods)), want%int64(len(w.pods))
			for k := range w.pods {
				i := (next + k) % len(w.pods)
				n := per
				if int64(k) < rem {
					n++
				}
				if n == 0 {
					continue
				}
				p := w.pods[i]
				at := time.Now()
				if _, err := p.Write(int(n)); err != nil {
					return fmt.Errorf("writing pod %d: %w", i, err)
				}
				w.ledger.Wrote(i, p.Seq(), at)
			}
			next = (next + int(rem)) % len(w.pods)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// due is how many lines to write now.
func (w *Workload) due(elapsed time.Duration, written, delivered int64) int64 {
	if w.Rate > 0 {
		return int64(w.Rate*elapsed.Seconds()) - written
	}
	// At most a tenth of the backlog per tick, so the files grow in
	// steady steps rather than in one burst after each drain.
	return min(w.MaxBacklog-(written-delivered), w.MaxBacklog/10)
}

// Close closes the pods' files (they stay on disk).
func (w *Workload) Close() {
	for _, p := range w.pods {
		p.Close()
	}
}
