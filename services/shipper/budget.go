package shipper

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/sluice-io/sluice/libs/telemetry"
)

// nsBudget shares (most of) the producer's buffer among namespaces by
// weight. It is the tail.Budget of the shipper: a namespace that holds its
// share in flight is not read until Kafka acknowledges some of it, so when
// Kafka is slower than the node's logs a noisy namespace lags on disk
// (nothing is dropped) while the others keep their share. A namespace's
// share is total·w/Σw over the namespaces with bytes in flight (itself
// included); one with nothing in flight may always read, so every
// namespace progresses, and one busy namespace alone has the whole budget.
//
// Bytes in flight are counted per namespace in an atomic counter that each
// file's metadata holds (counter), so the per-record path takes no lock.
type nsBudget struct {
	total    int64
	weights  map[string]int
	weightOf func(ns string) int
	nsOf     func(path string) string

	mu       sync.RWMutex
	inflight map[string]*atomic.Int64 // never shrinks: a node has few namespaces

	held    atomic.Bool // Allow refused a path since the last signal
	changed chan struct{}
}

func newNSBudget(total int64, weights map[string]int, weightOf func(string) int, tel *telemetry.Telemetry) *nsBudget {
	b := &nsBudget{total: total, weights: weights, weightOf: weightOf,
		inflight: map[string]*atomic.Int64{}, changed: make(chan struct{}, 1)}
	if tel != nil {
		g, err := tel.Meter().Int64ObservableGauge("namespace.in_flight_bytes",
			metric.WithDescription("Bytes of a namespace's lines produced and not yet acknowledged by Kafka."), metric.WithUnit("By"))
		if err == nil {
			_, _ = tel.Meter().RegisterCallback(func(_ context.Context, o metric.Observer) error {
				for ns, n := range b.snapshot() {
					o.ObserveInt64(g, n, metric.WithAttributes(attribute.String(telemetry.AttrNamespace, ns)))
				}
				return nil
			}, g)
		}
	}
	return b
}

// counter returns the namespace's in-flight byte counter.
func (b *nsBudget) counter(ns string) *atomic.Int64 {
	b.mu.RLock()
	c := b.inflight[ns]
	b.mu.RUnlock()
	if c != nil {
		return c
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if c = b.inflight[ns]; c == nil {
		c = new(atomic.Int64)
		b.inflight[ns] = c
	}
	return c
}

func (b *nsBudget) weight(ns string) int64 {
	if w, ok := b.weights[ns]; ok {
		return int64(w)
	}
	if b.weightOf != nil {
		return int64(b.weightOf(ns))
	}
	return 1
}

// Allow implements tail.Budget.
func (b *nsBudget) Allow(path string) bool {
	ns := b.nsOf(path)
	used := b.counter(ns).Load()
	if used == 0 {
		return true
	}
	w := b.weight(ns)
	sum := w
	b.mu.RLock()
	for other, c := range b.inflight {
		if other != ns && c.Load() > 0 {
			sum += b.weight(other)
		}
	}
	b.mu.RUnlock()
	if used < b.total*w/sum {
		return true
	}
	b.held.Store(true)
	return false
}

// Changed implements tail.Budget.
func (b *nsBudget) Changed() <-chan struct{} { return b.changed }

// done returns n bytes of a namespace's counter (acknowledged or refused)
// and wakes a tailer waiting for budget.
func (b *nsBudget) done(c *atomic.Int64, n int64) {
	c.Add(-n)
	if b.held.Load() && b.held.CompareAndSwap(true, false) {
		select {
		case b.changed <- struct{}{}:
		default:
		}
	}
}

// snapshot returns the bytes in flight per namespace.
func (b *nsBudget) snapshot() map[string]int64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make(map[string]int64, len(b.inflight))
	for ns, c := range b.inflight {
		if n := c.Load(); n > 0 {
			out[ns] = n
		}
	}
	return out
}
