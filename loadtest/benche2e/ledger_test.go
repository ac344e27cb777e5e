package benche2e

import (
	"testing"
	"time"
)

func TestParseSeq(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		src       int
		seq       int64
		ok        bool
	}{
		{"message", `{"message":"10.0.1.2 - - [x] \"GET /bench/web-3/seq/42 HTTP/1.1\" 200 5"}`, 3, 42, true},
		{"first occurrence wins", `{"url.path":"/bench/web-11/seq/7","message":"GET /bench/web-2/seq/9"}`, 11, 7, true},
		{"no marker", `{"message":"GET / HTTP/1.1"}`, 0, 0, false},
		{"no pod index", `{"p":"/bench/web/seq/7"}`, 0, 0, false},
		{"no sequence", `{"p":"/bench/web-1/seq/x"}`, 0, 0, false},
		{"marker at start", `/seq/1`, 0, 0, false},
		{"sequence too long", `/web-1/seq/1234567890123456789`, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, seq, ok := ParseSeq([]byte(tc.doc))
			if ok != tc.ok || (ok && (src != tc.src || seq != tc.seq)) {
				t.Fatalf("ParseSeq = %d, %d, %v; want %d, %d, %v", src, seq, ok, tc.src, tc.seq, tc.ok)
			}
		})
	}
	if got := PodName(12); got != "web-12" {
		t.Errorf("PodName(12) = %q", got)
	}
}

func TestLedger(t *testing.T) {
	l := NewLedger(2)
	t0 := time.Unix(100, 0)
	l.Wrote(0, 3, t0)
	l.Wrote(1, 2, t0)
	l.Wrote(0, 5, t0.Add(time.Second))
	l.Arrived([]Arrival{
		{Src: 0, Seq: 1, OK: true},
		{Src: 0, Seq: 4, OK: true},
		{Src: 0, Seq: 1, OK: true}, // duplicate
		{Src: 1, Seq: 2, OK: true},
		{OK: false},                // a document without a sequence number
		{Src: 7, Seq: 1, OK: true}, // an unknown pod
	}, t0.Add(1500*time.Millisecond))
	c := l.Counts()
	want := Counts{Written: 7, Delivered: 3, Duplicated: 1, Foreign: 2}
	if c != want {
		t.Fatalf("Counts = %+v, want %+v", c, want)
	}
	// Missing: pod 0 seqs 2, 3, 5; pod 1 seq 1.
	if got := l.Lost(); got != 4 {
		t.Errorf("Lost = %d, want 4", got)
	}
	// Delays: 1.5 s (seq 1), 0.5 s (seq 4), 1.5 s (pod 1 seq 2).
	p50, p99, mx := l.DelayQuantiles()
	if p50 != 1501*time.Millisecond || p99 != 1501*time.Millisecond || mx != 1500*time.Millisecond {
		t.Errorf("delays p50 %v p99 %v max %v; want 1.501s, 1.501s, 1.5s", p50, p99, mx)
	}
	first, last := l.Span()
	if !first.Equal(t0) || !last.Equal(t0.Add(1500*time.Millisecond)) {
		t.Errorf("Span = %v, %v", first, last)
	}
	l.Refused(2, 1)
	if c := l.Counts(); c.Conflicts != 2 || c.Rejected != 1 {
		t.Errorf("Refused: %+v", c)
	}
}
