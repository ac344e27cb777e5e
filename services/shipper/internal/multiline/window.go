package multiline

import (
	"sort"
	"sync"
)

// Window holds back a file's checkpoint while lines of it are joined.
//
// The tailer's acknowledgement rule is "an ack may cover every earlier
// event of the file", which is right for lines shipped one by one. Joined
// events break it in two ways: a later line of the other stream can be
// acknowledged while a trace that began earlier is still being joined, and
// a checkpoint between two lines of one event would, after a restart, turn
// the rest of the event into an event of its own with a new _id. Window
// sits between the shipper and the tailer's Ack: it records every line the
// tailer emitted, in order, and passes acks on only up to a cut, the last
// line of a run where every line is acknowledged and no event reaches past
// it. The checkpoint therefore never passes the first line of an
// event that is not yet acknowledged, and never stops inside one, so a
// restart reads the whole event again and produces it with the same _id.
type Window struct {
	mu    sync.Mutex
	ack   func(fingerprint string, end int64)
	seq   uint64
	files map[string]*winFile
}

type winFile struct {
	q       []winSlot // q[i].idx increasing
	scan    int       // q[:scan] are resolved and accounted in maxLast
	maxLast uint64
}

type winSlot struct {
	idx      uint64
	end      int64
	last     uint64 // largest idx of the event holding this line; 0 while open
	resolved bool
}

// Slot identifies one line registered with a Window.
type Slot struct {
	fp  string
	idx uint64
}

// NewWindow returns a window passing acks on to ack, which must accept
// acks of a file in emit order (the tailer's Ack does).
func NewWindow(ack func(fingerprint string, end int64)) *Window {
	return &Window{ack: ack, files: map[string]*winFile{}}
}

// Open registers a line of file fp ending at end, in the order the tailer
// emitted it.
func (w *Window) Open(fp string, end int64) Slot {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.files[fp]
	if f == nil {
		f = &winFile{}
		w.files[fp] = f
	}
	w.seq++
	f.q = append(f.q, winSlot{idx: w.seq, end: end})
	return Slot{fp: fp, idx: w.seq}
}

// Tracks reports whether lines of fp are outstanding: while they are, all
// its lines must go through the window.
func (w *Window) Tracks(fp string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.files[fp] != nil
}

// Close records that slots (the lines of one event, in any files) form a
// finished event.
func (w *Window) Close(slots []Slot) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.update(slots, false)
}

// Done records that the event of slots was acknowledged (or needs none)
// and passes on what that allows. It implies Close.
func (w *Window) Done(slots []Slot) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.update(slots, true)
}

func (w *Window) update(slots []Slot, resolve bool) {
	last := map[string]uint64{}
	for _, s := range slots {
		if s.idx > last[s.fp] {
			last[s.fp] = s.idx
		}
	}
	for _, s := range slots {
		f := w.files[s.fp]
		if f == nil {
			continue
		}
		i := sort.Search(len(f.q), func(i int) bool { return f.q[i].idx >= s.idx })
		if i == len(f.q) || f.q[i].idx != s.idx {
			continue
		}
		f.q[i].last = last[s.fp]
		if resolve {
			f.q[i].resolved = true
		}
	}
	if !resolve {
		return
	}
	for fp := range last {
		w.advance(fp)
	}
}

func (w *Window) advance(fp string) {
	f := w.files[fp]
	if f == nil {
		return
	}
	cut := -1
	for f.scan < len(f.q) && f.q[f.scan].resolved {
		s := f.q[f.scan]
		f.maxLast = max(f.maxLast, s.last)
		if f.maxLast <= s.idx {
			cut = f.scan
		}
		f.scan++
	}
	if cut < 0 {
		return
	}
	// The tailer marks each acknowledged event done in place; every line
	// up to the cut is passed on, in emit order.
	for _, sl := range f.q[:cut+1] {
		w.ack(fp, sl.end)
	}
	n := copy(f.q, f.q[cut+1:])
	clear(f.q[n:])
	f.q = f.q[:n]
	f.scan -= cut + 1
	if len(f.q) == 0 {
		delete(w.files, fp)
	}
}

// Pending returns the number of lines registered and not yet passed on.
func (w *Window) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, f := range w.files {
		n += len(f.q)
	}
	return n
}
