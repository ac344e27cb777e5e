package tail

import (
	"testing"
	"time"
)

// TestAckWindow drives an ackWindow through emit and ack sequences and
// checks the checkpoint offset after each step: it only ever covers the
// contiguous acknowledged prefix.
func TestAckWindow(t *testing.T) {
	type ev struct{ end, commit int64 }
	// Five events of 10 bytes each; the third's commit is pinned at 15 by
	// a partial line of the other stream still being joined.
	five := []ev{{10, 10}, {20, 20}, {30, 15}, {40, 40}, {50, 50}}
	tests := []struct {
		name  string
		start int64
		emit  []ev
		acks  []int64 // ends, in arrival order; a negative value is a refusal (never acked)
		want  []int64 // acked offset after each ack
		// wantPending / wantBytes after all acks.
		wantPending int
		wantBytes   int64
	}{
		{
			name: "in order", emit: five,
			acks: []int64{10, 20, 30, 40, 50},
			want: []int64{10, 20, 20, 40, 50},
		},
		{
			name: "out of order waits for the earliest",
			emit: five,
			acks: []int64{30, 50, 10, 20, 40},
			want: []int64{0, 0, 10, 20, 50},
		},
		{
			// An excluded pod's line is marked done in place as it is
			// emitted, while earlier lines are still in flight: it must
			// not cover them.
			name: "skip does not cover earlier events",
			emit: five,
			acks: []int64{50, 40},
			want: []int64{0, 0}, wantPending: 3, wantBytes: 30,
		},
		{
			// A refused produce is never acknowledged; later acks must not
			// move the checkpoint past it.
			name: "refusal pins the checkpoint",
			emit: five,
			acks: []int64{10, -20, 30, 40, 50},
			want: []int64{10, 10, 10, 10, 10}, wantPending: 1, wantBytes: 10,
		},
		{
			name: "unknown and duplicate acks are ignored",
			emit: five,
			acks: []int64{15, 10, 10, 60},
			want: []int64{0, 10, 10, 10}, wantPending: 4, wantBytes: 40,
		},
		{
			name: "resume offset is the floor", start: 100,
			emit: []ev{{110, 110}, {120, 120}},
			acks: []int64{120, 110},
			want: []int64{100, 120},
		},
		{
			// The same fingerprint reread from 0 after a truncation: ends
			// repeat, lookups fall back to a scan, and the checkpoint
			// never goes backwards.
			name: "ends not increasing",
			emit: []ev{{10, 10}, {20, 20}, {10, 10}, {20, 20}},
			acks: []int64{10, 20, 10, 20},
			want: []int64{10, 20, 20, 20},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newAckWindow(tc.start)
			now := time.Now()
			for _, e := range tc.emit {
				w.add(e.end, e.commit, 10, now)
			}
			for i, end := range tc.acks {
				if end >= 0 {
					w.done(end)
				}
				if w.acked != tc.want[i] {
					t.Fatalf("after ack %d (end %d): acked %d, want %d", i, end, w.acked, tc.want[i])
				}
			}
			if w.pending != tc.wantPending || w.pendingBytes != tc.wantBytes {
				t.Fatalf("pending %d events / %d bytes, want %d / %d", w.pending, w.pendingBytes, tc.wantPending, tc.wantBytes)
			}
			if _, ok := w.oldest(); ok != (tc.wantPending > 0) {
				t.Fatalf("oldest reported %v with %d pending", ok, tc.wantPending)
			}
			if w.empty() != (tc.wantPending == 0) {
				t.Fatalf("empty() = %v with %d pending", w.empty(), tc.wantPending)
			}
		})
	}
}

// TestAckWindowNeverAhead acks a long window in a shuffled order and
// checks, after every ack, that the checkpoint equals the end of the longest
// acknowledged prefix.
func TestAckWindowNeverAhead(t *testing.T) {
	const n = 10_000
	w := newAckWindow(0)
	now := time.Now()
	for i := 1; i <= n; i++ {
		w.add(int64(i*10), int64(i*10), 10, now)
	}
	acked := make([]bool, n+1)
	// A deterministic permutation: i*7919 mod n visits every index once.
	prefix := 0
	for k := 0; k < n; k++ {
		i := (k*7919)%n + 1
		w.done(int64(i * 10))
		acked[i] = true
		for prefix < n && acked[prefix+1] {
			prefix++
		}
		if w.acked != int64(prefix*10) {
			t.Fatalf("after %d acks: checkpoint %d, contiguous prefix ends at %d", k+1, w.acked, prefix*10)
		}
	}
	if !w.empty() || len(w.q) != 0 {
		t.Fatalf("window not empty after every ack: pending %d, len %d", w.pending, len(w.q))
	}
}

// TestAckOldest: the oldest unacknowledged emit time follows the window's head.
func TestAckOldest(t *testing.T) {
	w := newAckWindow(0)
	t0 := time.Unix(1000, 0)
	w.add(10, 10, 10, t0)
	w.add(20, 20, 10, t0.Add(time.Second))
	w.done(20)
	if got, _ := w.oldest(); !got.Equal(t0) {
		t.Fatalf("oldest %v, want %v", got, t0)
	}
	w.done(10)
	if _, ok := w.oldest(); ok {
		t.Fatal("oldest reported on an empty window")
	}
}
