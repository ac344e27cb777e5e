package bulk

import (
	"context"
	"sync"
	"time"
)

// Limiter bounds the bulk requests in flight with an adaptive limit (AIMD):
// each request that comes back fast and not overloaded while the limit is in
// use raises the limit by 1/limit (about one per round of requests); a 429
// or a latency over the target halves it, at most once per round trip.
// The limit stays within [min, max]. It is safe for concurrent use.
type Limiter struct {
	mu           sync.Mutex
	min, max     float64
	limit        float64
	inFlight     int
	waiters      []chan struct{}
	target       time.Duration
	decrease     float64
	lastDecrease time.Time
}

// LimiterOption changes a Limiter.
type LimiterOption func(*Limiter)

// WithTargetLatency sets the latency above which a request counts as
// overloaded. Default 5s; 0 turns the latency signal off.
func WithTargetLatency(d time.Duration) LimiterOption { return func(l *Limiter) { l.target = d } }

// WithInitialLimit sets the starting limit. Default min.
func WithInitialLimit(n int) LimiterOption { return func(l *Limiter) { l.limit = float64(n) } }

// WithDecrease sets the factor the limit is multiplied by on overload, in
// (0, 1). Default 0.5.
func WithDecrease(f float64) LimiterOption {
	return func(l *Limiter) {
		if f > 0 && f < 1 {
			l.decrease = f
		}
	}
}

// NewLimiter returns a limiter between min and max requests in flight
// (min is raised to 1, max to min).
func NewLimiter(min, max int, opts ...LimiterOption) *Limiter {
	if min < 1 {
		min = 1
	}
	if max < min {
		max = min
	}
	l := &Limiter{min: float64(min), max: float64(max), limit: float64(min), target: 5 * time.Second, decrease: 0.5}
	for _, o := range opts {
		o(l)
	}
	l.limit = clamp(l.limit, l.min, l.max)
	return l
}

func clamp(v, lo, hi float64) float64 { return min(max(v, lo), hi) }

// Acquire waits for a slot, first come first served. Every successful
// Acquire must be followed by one Release.
func (l *Limiter) Acquire(ctx context.Context) error {
	l.mu.Lock()
	if len(l.waiters) == 0 && l.inFlight < int(l.limit) {
		l.inFlight++
		l.mu.Unlock()
		return nil
	}
	if err := ctx.Err(); err != nil {
		l.mu.Unlock()
		return err
	}
	ch := make(chan struct{})
	l.waiters = append(l.waiters, ch)
	l.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		defer l.mu.Unlock()
		for i, w := range l.waiters {
			if w == ch {
				l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
				return ctx.Err()
			}
		}
		// The slot was granted as the context ended: give it back.
		l.inFlight--
		l.wake()
		return ctx.Err()
	}
}

// Release returns a slot, reporting how long the request took and whether
// the server said it was overloaded (a 429, whole-request or per item).
func (l *Limiter) Release(latency time.Duration, overloaded bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	used := l.inFlight
	l.inFlight--
	now := time.Now()
	if overloaded || (l.target > 0 && latency > l.target) {
		// Requests sent before the last decrease report the old load; count
		// one decrease per round trip.
		if l.lastDecrease.IsZero() || now.Sub(l.lastDecrease) >= latency {
			l.limit = max(l.min, l.limit*l.decrease)
			l.lastDecrease = now
		}
	} else if float64(used)*2 >= l.limit {
		// Grow only while the limit is what bounds the load.
		l.limit = min(l.max, l.limit+1/l.limit)
	}
	l.wake()
}

// giveBack returns a slot that was not used for a request, without a
// latency or overload signal.
func (l *Limiter) giveBack() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	l.wake()
}

// wake hands free slots to waiters; l.mu is held.
func (l *Limiter) wake() {
	for len(l.waiters) > 0 && l.inFlight < int(l.limit) {
		ch := l.waiters[0]
		l.waiters[0] = nil
		l.waiters = l.waiters[1:]
		l.inFlight++
		close(ch)
	}
}

// Limit returns the current limit.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int(l.limit)
}

// InFlight returns the slots held.
func (l *Limiter) InFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inFlight
}
