package tail

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCopyTruncateUnderLoad covers FAULTS row 29: a writer appends
// continuously while the file is rotated again and again with copytruncate
// (cp f f.<ts> && truncate -s 0 f). Every line arrives exactly once and in
// order: the bytes between the read offset and the truncation are read
// from the copy.
//
// The rotator holds the writer's lock across copy and truncate. A real
// writer can append between the two (the inherent window of copytruncate,
// which no reader can close); the test measures the shipper's losses only.
func TestCopyTruncateUnderLoad(t *testing.T) {
	e := newEnv(t)
	p := e.container("app")
	writeSeq(t, p, 0, 1)
	r := e.start(true)

	const rotations = 15
	var (
		mu      sync.Mutex
		written atomic.Int64
	)
	written.Store(1)
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			mu.Lock()
			_, err := f.WriteString(criLine(i, "stdout", "F", seqMsg(i)))
			mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			written.Store(int64(i + 1))
			if i%8 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	for n := 0; n < rotations; n++ {
		// Let the reader fall anywhere in the file: sometimes current,
		// sometimes behind.
		time.Sleep(time.Duration(20+n*7%40) * time.Millisecond)
		mu.Lock()
		data, err := os.ReadFile(p)
		if err == nil {
			err = os.WriteFile(fmt.Sprintf("%s.%d", p, n), data, 0o644)
		}
		if err == nil {
			err = os.Truncate(p, 0)
		}
		mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	<-writerDone
	total := int(written.Load())
	waitUntil(t, 15*time.Second, "every line", func() bool { return len(r.snapshot()) >= total })
	time.Sleep(50 * time.Millisecond) // duplicates would show up now
	evs := r.snapshot()
	checkSeq(t, evs, 0, total)
	st := r.t.Stats()
	// A rotation that comes before the emptied file has a complete first
	// line again is found by the sibling scan instead of as a truncation.
	if st.Truncations < rotations/2 || st.SkippedBytes != 0 {
		t.Errorf("truncations %d (want ≥ %d), skipped bytes %d (want 0)", st.Truncations, rotations/2, st.SkippedBytes)
	}
	t.Logf("%d lines over %d copytruncate rotations; %d bytes read back from copies", len(evs), rotations, st.RecoveredBytes)
}

// TestTruncateWithoutCopyCountsSkipped: a file truncated while the reader
// is behind, with no copy beside it, loses the bytes it had not read yet;
// the tailer reports exactly those, and the line the truncation cut is one
// event flagged file_truncated.
func TestTruncateWithoutCopyCountsSkipped(t *testing.T) {
	e := newEnv(t)
	p := e.container("app")
	const lines = 100
	writeSeq(t, p, 0, lines)
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	size := info.Size()
	chunk := int64(e.cfg.ReadBufferBytes)
	if size < 2*chunk {
		t.Fatalf("fixture of %d bytes is too small for chunks of %d", size, chunk)
	}
	r, unblock := e.startBlocked(true)
	var losses []Loss
	var lossMu sync.Mutex
	r.t.SetOnLoss(func(l Loss) { lossMu.Lock(); losses = append(losses, l); lossMu.Unlock() })
	// The first emit blocks: exactly one chunk was read.
	waitUntil(t, 5*time.Second, "the first chunk read", func() bool {
		fs := r.t.Files()
		return len(fs) == 1 && fs[0].Size == size
	})
	time.Sleep(20 * time.Millisecond)
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	unblock()
	want := size - chunk
	waitUntil(t, 5*time.Second, "the truncation counted", func() bool { return r.t.Stats().SkippedBytes > 0 })
	if got := r.t.Stats().SkippedBytes; got != want {
		t.Fatalf("skipped %d bytes, want exactly %d (file %d, read %d)", got, want, size, chunk)
	}
	lossMu.Lock()
	if len(losses) != 1 || losses[0].Bytes != want || losses[0].Reason != LossTruncated || !strings.HasSuffix(losses[0].Path, ".log") {
		t.Errorf("losses reported %+v, want one of %d bytes", losses, want)
	}
	lossMu.Unlock()
	evs := r.snapshot()
	last := evs[len(evs)-1]
	if !slices.Contains(last.Flags, FlagFileTruncated) {
		t.Fatalf("the line cut by the truncation has flags %v, want %s", last.Flags, FlagFileTruncated)
	}
	whole := seqMsg(seqOf(t, last.Content))
	if !strings.HasPrefix(whole, last.Content) || last.Content == whole {
		t.Fatalf("cut line %q is not a strict prefix of %q", last.Content, whole)
	}
	checkSeq(t, evs[:len(evs)-1], 0, len(evs)-1)
	if last.End != chunk {
		t.Errorf("cut line ends at %d, want the read offset %d", last.End, chunk)
	}
}
