package benche2e

import (
	"testing"
	"time"
)

func TestDelaysQuantile(t *testing.T) {
	var d Delays
	if got := d.Quantile(0.5); got != 0 {
		t.Fatalf("empty Quantile = %v, want 0", got)
	}
	// 1..100 ms: p50 is the 50th value, p99 the 99th, in 1 ms buckets
	// whose upper edge is reported.
	for i := 1; i <= 100; i++ {
		d.Add(time.Duration(i)*time.Millisecond + 300*time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0.01, 2 * time.Millisecond},
		{0.5, 51 * time.Millisecond},
		{0.99, 100 * time.Millisecond},
		{1, 101 * time.Millisecond},
	} {
		if got := d.Quantile(tc.q); got != tc.want {
			t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if d.Count() != 100 || d.Max() != 100*time.Millisecond+300*time.Microsecond {
		t.Errorf("Count, Max = %d, %v", d.Count(), d.Max())
	}
	// Overflow and negative values.
	d.Add(-time.Second)
	d.Add(2 * time.Minute)
	if got := d.Quantile(1); got != 2*time.Minute {
		t.Errorf("Quantile(1) with overflow = %v, want the maximum 2m", got)
	}
	if got := d.Quantile(0.001); got != time.Millisecond {
		t.Errorf("Quantile(0.001) = %v, want 1ms (a negative delay counts as 0)", got)
	}
}

func TestWriteLog(t *testing.T) {
	w := NewWriteLog(2)
	t0 := time.Unix(1000, 0)
	w.Wrote(0, 10, t0)
	w.Wrote(0, 25, t0.Add(time.Second))
	w.Wrote(1, 3, t0.Add(2*time.Second))
	for _, tc := range []struct {
		src    int
		seq    int64
		want   time.Time
		wantOK bool
	}{
		{0, 1, t0, true},
		{0, 10, t0, true},
		{0, 11, t0.Add(time.Second), true},
		{0, 25, t0.Add(time.Second), true},
		{0, 26, time.Time{}, false},
		{0, 0, time.Time{}, false},
		{1, 3, t0.Add(2 * time.Second), true},
		{2, 1, time.Time{}, false},
	} {
		got, ok := w.When(tc.src, tc.seq)
		if ok != tc.wantOK || !got.Equal(tc.want) {
			t.Errorf("When(%d, %d) = %v, %v; want %v, %v", tc.src, tc.seq, got, ok, tc.want, tc.wantOK)
		}
	}
}
