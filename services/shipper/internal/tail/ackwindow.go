package tail

import (
	"sort"
	"time"

	"github.com/sluice-io/sluice/services/shipper/internal/checkpoint"
)

// ackWindow tracks the events of one file that were emitted and not yet
// acknowledged, in emit order, and derives the offset the checkpoint may
// take: the commit offset of the last event of the longest acknowledged
// prefix. It is the tailer's counterpart of a Kafka consumer's "mark only
// the contiguous acknowledged prefix".
//
// Each event is marked done in place: an acknowledgement never covers the
// events before it, so an event acknowledged out of order (a record cut and
// produced again after a size refusal, a skipped line of an excluded pod)
// cannot move the checkpoint past an earlier event still in flight, and an
// event that is never acknowledged (a refused produce) pins the checkpoint
// below itself for good.
//
// An ackWindow is not safe for concurrent use; the Tailer guards it with
// its mutex.
type ackWindow struct {
	// q[head:] are the events not yet retired, in emit order; q[head], when
	// there is one, is never done (done events at the front are retired at
	// once).
	q    []ackSlot
	head int
	// acked is the offset below which every emitted event is acknowledged.
	acked int64
	// sorted is false once an event ended at or before its predecessor
	// (a file truncated and reread under the same fingerprint); lookups
	// then scan instead of bisecting.
	sorted bool
	// pending counts events not done; pendingBytes sums their size on disk.
	pending      int
	pendingBytes int64
}

// ackSlot is one emitted event.
type ackSlot struct {
	// end is the event's end offset, its key for done.
	end int64
	// commit is the checkpoint the event allows once it and every event
	// before it are done (at most end: a partial line still being joined
	// pins it lower).
	commit int64
	// size is the event's size on disk; at is when it was emitted, in Unix
	// nanoseconds.
	size, at int64
	done     bool
}

func newAckWindow(acked int64) *ackWindow { return &ackWindow{acked: acked, sorted: true} }

// add appends an emitted event.
func (w *ackWindow) add(end, commit, size int64, at time.Time) {
	if n := len(w.q); n > w.head && w.q[n-1].end >= end {
		w.sorted = false
	}
	w.q = append(w.q, ackSlot{end: end, commit: commit, size: size, at: at.UnixNano()})
	w.pending++
	w.pendingBytes += size
}

// done marks the earliest not-done event ending at end as acknowledged and
// retires the acknowledged prefix. It reports whether the checkpoint offset
// advanced, and false for an unknown end (an ack for an event emitted
// before the file was closed and reopened, or a duplicate).
func (w *ackWindow) done(end int64) bool {
	i := w.find(end)
	if i < 0 {
		return false
	}
	w.q[i].done = true
	w.pending--
	w.pendingBytes -= w.q[i].size
	if i != w.head {
		return false // an earlier event is still in flight
	}
	commit := w.acked
	for w.head < len(w.q) && w.q[w.head].done {
		commit = max(commit, w.q[w.head].commit)
		w.head++
	}
	switch {
	case w.head == len(w.q):
		w.q, w.head, w.sorted = w.q[:0], 0, true // keep the capacity
	case w.head > 4096 && w.head > len(w.q)/2:
		n := copy(w.q, w.q[w.head:])
		clear(w.q[n:])
		w.q, w.head = w.q[:n], 0
	}
	if commit > w.acked {
		w.acked = commit
		return true
	}
	return false
}

// find returns the index of the earliest not-done event ending at end, or -1.
func (w *ackWindow) find(end int64) int {
	live := w.q[w.head:]
	if len(live) > 0 && live[0].end == end {
		return w.head // acks mostly arrive in emit order
	}
	if w.sorted {
		i := sort.Search(len(live), func(i int) bool { return live[i].end >= end })
		if i < len(live) && live[i].end == end && !live[i].done {
			return w.head + i
		}
		return -1
	}
	for i := range live {
		if live[i].end == end && !live[i].done {
			return w.head + i
		}
	}
	return -1
}

// empty reports whether every emitted event is acknowledged.
func (w *ackWindow) empty() bool { return w.pending == 0 }

// oldest returns when the oldest unacknowledged event was emitted.
func (w *ackWindow) oldest() (time.Time, bool) {
	if w.head >= len(w.q) {
		return time.Time{}, false
	}
	return time.Unix(0, w.q[w.head].at), true
}

// Ack records that the event of file fingerprint ending at end was
// acknowledged by Kafka, or needs no acknowledgement (a skipped line of an
// excluded pod). Acks may arrive in any order; each marks only its own
// event. The checkpoint advances to the largest offset below which every
// event is acknowledged: never past an event still in flight or refused,
// and never past a partial line that is still being joined, even when a
// later line of the other stream was acked.
func (t *Tailer) Ack(fingerprint string, end int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.acks[fingerprint]
	if a == nil {
		return
	}
	if a.win.done(end) {
		t.store.Set(checkpoint.Entry{Fingerprint: fingerprint, Path: a.target, Dev: a.dev, Inode: a.inode, Offset: a.win.acked, Updated: t.now()})
	}
	t.maybeRetireLocked(fingerprint, a)
}

// ackState is the ack window of one fingerprint plus what its checkpoint
// entry needs.
type ackState struct {
	target     string
	dev, inode uint64
	win        *ackWindow
	closed     bool
	forget     bool
}

func (t *Tailer) maybeRetireLocked(fp string, a *ackState) {
	if !a.closed || !a.win.empty() {
		return
	}
	delete(t.acks, fp)
	if a.forget {
		t.store.Delete(fp)
	}
}

// now is the Run loop's last clock reading, or the clock's when Run has not
// read it yet. Acks come once per record: they need no clock of their own.
func (t *Tailer) now() time.Time {
	if ns := t.clock.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Now()
}
