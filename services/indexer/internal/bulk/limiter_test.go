package bulk

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimiterAIMD(t *testing.T) {
	l := NewLimiter(2, 10, WithTargetLatency(time.Second))
	if l.Limit() != 2 {
		t.Fatalf("initial limit %d", l.Limit())
	}
	// Fast successes at full use grow the limit about one per round.
	for range 200 {
		n := l.Limit()
		for range n {
			if err := l.Acquire(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		for range n {
			l.Release(time.Millisecond, false)
		}
	}
	if l.Limit() != 10 {
		t.Fatalf("limit after fast successes %d, want max 10", l.Limit())
	}
	// An overload halves it, once per round trip.
	for range 3 {
		_ = l.Acquire(context.Background())
	}
	l.Release(time.Hour, true)
	l.Release(time.Hour, true)
	l.Release(time.Hour, true)
	if l.Limit() != 5 {
		t.Fatalf("limit after one overloaded round %d, want 5", l.Limit())
	}
	// Slow requests count as overload too; the limit stops at min.
	for range 10 {
		_ = l.Acquire(context.Background())
		time.Sleep(2 * time.Millisecond)
		l.Release(time.Millisecond, true)
	}
	if l.Limit() != 2 {
		t.Fatalf("limit %d, want min 2", l.Limit())
	}
	_ = l.Acquire(context.Background())
	time.Sleep(2 * time.Millisecond)
	l.Release(0, false)
	_ = l.Acquire(context.Background())
	l.Release(2*time.Second, false) // over the 1s target
	if l.Limit() != 2 {
		t.Fatalf("limit %d", l.Limit())
	}
}

func TestLimiterIdleDoesNotGrow(t *testing.T) {
	l := NewLimiter(1, 100, WithInitialLimit(10))
	for range 1000 {
		_ = l.Acquire(context.Background())
		l.Release(time.Millisecond, false)
	}
	if l.Limit() != 10 {
		t.Fatalf("a limit that is not used grew to %d", l.Limit())
	}
}

func TestLimiterBoundsInFlight(t *testing.T) {
	l := NewLimiter(3, 3)
	var cur, peak atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := l.Acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			n := cur.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			cur.Add(-1)
			l.Release(time.Millisecond, false)
		})
	}
	wg.Wait()
	if peak.Load() > 3 || l.InFlight() != 0 {
		t.Fatalf("peak %d, in flight %d", peak.Load(), l.InFlight())
	}
}

func TestLimiterAcquireCancel(t *testing.T) {
	l := NewLimiter(1, 1)
	_ = l.Acquire(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Acquire(ctx); err == nil {
		t.Fatal("Acquire past the limit returned without waiting")
	}
	l.Release(0, false)
	if err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Cancellations racing with grants never leak a slot.
	l.Release(0, false)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%5)*time.Microsecond)
			defer cancel()
			if l.Acquire(ctx) == nil {
				l.Release(0, false)
			}
		})
	}
	wg.Wait()
	if l.InFlight() != 0 {
		t.Fatalf("%d slots leaked", l.InFlight())
	}
}
