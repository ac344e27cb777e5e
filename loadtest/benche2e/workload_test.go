package benche2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-io/sluice/loadtest/gen"
)

func TestWorkloadDue(t *testing.T) {
	for _, tc := range []struct {
		name               string
		rate               float64
		elapsed            time.Duration
		written, delivered int64
		want               int64
	}{
		{"rate: behind schedule", 1000, 2 * time.Second, 1500, 0, 500},
		{"rate: on schedule", 1000, 2 * time.Second, 2000, 0, 0},
		{"rate: ahead of schedule, negative: Run writes nothing", 1000, time.Second, 1200, 0, -200},
		{"max: empty pipeline, a tenth of the backlog per tick", 0, time.Second, 0, 0, 30_000},
		{"max: backlog nearly full", 0, time.Second, 1_000_000, 705_000, 5_000},
		{"max: backlog full", 0, time.Second, 1_000_000, 700_000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &Workload{Rate: tc.rate, MaxBacklog: 300_000}
			if got := w.due(tc.elapsed, tc.written, tc.delivered); got != tc.want {
				t.Errorf("due = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestWorkloadRun writes at a fixed rate for a moment and checks that the
// files hold what the ledger says was written, each line with its pod's
// next sequence number.
func TestWorkloadRun(t *testing.T) {
	dir := t.TempDir()
	l := NewLedger(3)
	w, err := NewWorkload(l, filepath.Join(dir, "pods"), filepath.Join(dir, "containers"), 3)
	if err != nil {
		t.Fatal(err)
	}
	w.Rate = 3000
	if err := w.Run(context.Background(), 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	w.Close()
	c := l.Counts()
	if c.Written < 100 || c.Written > 1000 { // a stall on a loaded machine costs ticks, never adds them
		t.Errorf("wrote %d lines in 0.3 s at 3000/s", c.Written)
	}
	links, _ := filepath.Glob(filepath.Join(dir, "containers", "*.log"))
	if len(links) != 3 {
		t.Fatalf("want 3 kubelet-style files, got %v", links)
	}
	var lines int64
	for _, p := range links {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var want int64 = 1
		for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
			pod, seq, ok := gen.PodSeqFromLine(line)
			src, seq2, ok2 := ParseSeq(line)
			if !ok || !ok2 || seq != want || seq2 != seq || "bench/"+PodName(src) != pod {
				t.Fatalf("%s: line %q: pod %q seq %d (ParseSeq %d %d), want seq %d", p, line, pod, seq, src, seq2, want)
			}
			want++
			lines++
		}
	}
	if lines != c.Written {
		t.Errorf("files hold %d lines, ledger says %d written", lines, c.Written)
	}
	if lost := l.Lost(); lost != c.Written {
		t.Errorf("Lost = %d before any delivery, want %d", lost, c.Written)
	}
}
