package stage

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is the one backoff every stage uses for retryable errors:
// exponential from Min to Max with jitter, never sooner than a Retry-After
// the error carries.
type Policy struct {
	// Min is the first wait; default 100ms.
	Min time.Duration
	// Max caps the wait; default 30s.
	Max time.Duration
	// MaxAge, when positive, is how long an item may stay retryable
	// before it is dead-lettered with reason ReasonExpired. Zero, the
	// default, retries until success or shutdown: a long outage delays
	// delivery and loses nothing.
	MaxAge time.Duration
}

// DefaultPolicy returns the defaults: 100ms to 30s, retried forever.
func DefaultPolicy() Policy { return Policy{Min: 100 * time.Millisecond, Max: 30 * time.Second} }

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.Min <= 0 {
		p.Min = d.Min
	}
	if p.Max < p.Min {
		p.Max = max(d.Max, p.Min)
	}
	return p
}

// Backoff returns the wait before retry number attempt (1 for the first
// retry): a random duration in [d/2, d) with d = Min·2^(attempt-1) capped at
// Max, so replicas retrying together spread out, or retryAfter when that
// is longer.
func (p Policy) Backoff(attempt int, retryAfter time.Duration) time.Duration {
	p = p.withDefaults()
	d := p.Min
	for i := 1; i < attempt && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	return max(d, retryAfter)
}

// Expired reports whether an item first refused at since has outlived MaxAge.
func (p Policy) Expired(since time.Time) bool {
	return p.MaxAge > 0 && time.Since(since) > p.MaxAge
}

// Sleep waits d or until ctx ends, and reports whether d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
