package decode

import "sort"

// DefaultMaxEventBytes is the event size limit NewMerger uses for a
// non-positive maxBytes.
const DefaultMaxEventBytes = 1 << 20

// Event is one application line: the joined content of a run of partial
// Lines of one stream ending with a full one.
type Event struct {
	// Time is the time of the first fragment, in Unix nanoseconds.
	Time   int64
	Stream Stream
	// Content is the joined text, at most the Merger's maxBytes. It aliases
	// the last Line passed to Add or the Merger's buffer and is valid until
	// the next call to Add or Flush.
	Content []byte
	// Offset is the byte offset of the first fragment's line; End is the
	// offset just after the last fragment's line.
	Offset, End int64
	// Truncated reports that content beyond maxBytes was dropped.
	Truncated bool
	// Unterminated reports an event returned by Flush: its final fragment
	// never arrived.
	Unterminated bool
}

type pending struct {
	active      bool
	time        int64
	offset, end int64
	buf         []byte
	truncated   bool
}

// Merger joins partial lines per stream. It holds at most maxBytes of
// content per stream (three streams: unknown, stdout, stderr). It is not
// safe for concurrent use.
type Merger struct {
	max     int
	streams [3]pending
}

// NewMerger returns a Merger that cuts events at maxBytes of content
// (DefaultMaxEventBytes when maxBytes <= 0).
func NewMerger(maxBytes int) *Merger {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxEventBytes
	}
	return &Merger{max: maxBytes}
}

func streamIndex(s Stream) int {
	if s == StreamStdout || s == StreamStderr {
		return int(s)
	}
	return 0
}

// Add feeds one decoded line that occupies bytes [offset, end) of its file.
// It returns the whole event when l completes one (l is not Partial), and
// ok=false while the stream's fragments are still being collected.
func (m *Merger) Add(l Line, offset, end int64) (ev Event, ok bool) {
	p := &m.streams[streamIndex(l.Stream)]
	if !p.active {
		if !l.Partial {
			ev = Event{Time: l.Time, Stream: l.Stream, Content: l.Content, Offset: offset, End: end}
			if len(ev.Content) > m.max {
				ev.Content, ev.Truncated = ev.Content[:m.max], true
			}
			return ev, true
		}
		p.active, p.time, p.offset, p.truncated = true, l.Time, offset, false
		p.buf = p.buf[:0]
	}
	p.end = end
	room := m.max - len(p.buf)
	c := l.Content
	if len(c) > room {
		c, p.truncated = c[:room], true
	}
	if p.buf == nil && len(c) > 0 {
		// Start small; append doubles up to max at most.
		p.buf = make([]byte, 0, min(m.max, max(4096, 2*len(c))))
	}
	p.buf = append(p.buf, c...)
	if l.Partial {
		return Event{}, false
	}
	ev = p.event()
	ev.Stream = l.Stream
	p.active = false
	m.shrink(p)
	return ev, true
}

func (p *pending) event() Event {
	return Event{Time: p.time, Stream: Stream(0), Content: p.buf, Offset: p.offset, End: p.end, Truncated: p.truncated}
}

// shrink drops a buffer that grew large for a rare long line, so an idle
// file does not pin maxBytes per stream. The returned event still aliases
// the old buffer, which stays valid until the garbage collector sees it
// unreferenced.
func (m *Merger) shrink(p *pending) {
	if cap(p.buf) > 64<<10 {
		p.buf = nil
	}
}

// Pending returns the offset of the earliest fragment still waiting for its
// final part, if any. A checkpoint must never move past it.
func (m *Merger) Pending() (offset int64, ok bool) {
	for i := range m.streams {
		p := &m.streams[i]
		if p.active && (!ok || p.offset < offset) {
			offset, ok = p.offset, true
		}
	}
	return offset, ok
}

// Flush returns every pending partial event, ordered by Offset, marked
// Unterminated, and forgets them. Use it when no more data can arrive (a
// rotated or deleted file fully read). The events' Content is valid until
// the next Add or Flush.
func (m *Merger) Flush() []Event {
	var out []Event
	for i := range m.streams {
		p := &m.streams[i]
		if !p.active {
			continue
		}
		ev := p.event()
		ev.Stream = Stream(i)
		ev.Unterminated = true
		out = append(out, ev)
		p.active = false
		p.buf = nil
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Offset < out[b].Offset })
	return out
}

// Reset forgets all pending fragments.
func (m *Merger) Reset() {
	for i := range m.streams {
		m.streams[i] = pending{}
	}
}
