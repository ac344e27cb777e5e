package multiline

import (
	"bytes"
	"time"
)

// action is what a rule decides for one line.
type action uint8

const (
	// actAppend adds the line to the pending event, opening one if none is
	// pending.
	actAppend action = iota
	// actStart emits the pending event, then opens a new one with the line.
	actStart
	// actSingle emits the pending event, then the line as an event of its own.
	actSingle
	// actAppendFlush adds the line (opening an event if none is pending)
	// and emits the event.
	actAppendFlush
)

// pending describes the event being joined when a rule decides.
type pending struct {
	open  bool
	lines int // lines kept in the text so far
	bytes int // length of the joined text so far
}

// decider is one stream's rule state machine. It is not safe for
// concurrent use; a Joiner owns one.
type decider interface {
	decide(line string, p pending) action
	// reset is called when the pending event was emitted for a reason the
	// rule did not decide: a timeout or a size limit.
	reset()
}

// Event is one joined event: one or more lines of a stream.
type Event[T any] struct {
	// Text is the lines joined with the rule's separator. The receiver owns
	// it.
	Text []byte
	// Tokens are the tokens of every line the event consumed, in order,
	// including lines dropped by an OnLimit "drop" rule: each must be
	// acknowledged once the event is. The first is the event's identity
	// (its offset gives the document _id).
	Tokens []T
	// Lines is the number of lines the event consumed (len(Tokens)).
	Lines int
	// Truncated is set when lines or bytes beyond the rule's limits were
	// dropped (OnLimit "drop").
	Truncated bool
	// Cut is set when the event was ended by max_lines or max_bytes and
	// the following lines continue in a new event (OnLimit "split").
	Cut bool
	// TimedOut is set when the timeout, not a rule, ended the event.
	TimedOut bool
}

// Joiner joins the lines of one stream (one container's stdout, say) into
// events, in order. It is not safe for concurrent use: the caller
// serialises Add, Tick and Flush (Set does). Memory is bounded by the
// rule's max_bytes (OnLimit split and drop both stop growing the text
// there), its max_lines, and MaxEventLines tokens whatever the rule.
type Joiner[T any] struct {
	spec *Spec
	d    decider
	emit func(Event[T])

	buf       []byte
	toks      []T
	lines     int
	truncated bool
	opened    time.Time
	last      time.Time
	opens     uint64 // events opened so far: orders pending events in a Set
}

// NewJoiner returns a joiner applying spec, calling emit for each finished
// event. emit runs synchronously inside Add, Tick and Flush.
func NewJoiner[T any](spec *Spec, emit func(Event[T])) *Joiner[T] {
	return &Joiner[T]{spec: spec, d: spec.newDecider(), emit: emit}
}

// Spec returns the rule the joiner applies.
func (j *Joiner[T]) Spec() *Spec { return j.spec }

// Pending reports whether an event is being joined, and its first token.
func (j *Joiner[T]) Pending() (T, bool) {
	if len(j.toks) == 0 {
		var zero T
		return zero, false
	}
	return j.toks[0], true
}

// Add feeds one line (without its terminator; copied) read at now.
func (j *Joiner[T]) Add(text []byte, tok T, now time.Time) {
	sp := j.spec
	if sp.onLimit == limitSplit && sp.maxBytes > 0 {
		size := len(j.buf) + len(text)
		if len(j.toks) > 0 {
			size += len(sp.sep)
		}
		if size > sp.maxBytes {
			// The line does not fit: end the event here and start over,
			// state included, so the rest of an overlong trace is not
			// taken for the middle of one.
			j.flush(false, true)
			j.d.reset()
		}
	}
	p := pending{open: len(j.toks) > 0, lines: j.lines, bytes: len(j.buf)}
	switch j.d.decide(string(text), p) {
	case actAppend:
		j.add(text, tok, now)
	case actStart:
		j.flush(false, false)
		j.add(text, tok, now)
	case actSingle:
		j.flush(false, false)
		j.add(text, tok, now)
		j.flush(false, false)
	case actAppendFlush:
		j.add(text, tok, now)
		j.flush(false, false)
	}
	if (sp.onLimit == limitSplit && sp.maxLines > 0 && j.lines >= sp.maxLines) || len(j.toks) >= MaxEventLines {
		j.flush(false, true)
		j.d.reset()
	}
}

// MaxEventLines bounds the lines one event consumes whatever the rule says
// (max_lines -1, on_limit drop, empty lines without a separator): every
// consumed line is held until the event is acknowledged.
const MaxEventLines = 100_000

func (j *Joiner[T]) add(text []byte, tok T, now time.Time) {
	sp := j.spec
	if len(j.toks) == 0 {
		j.opened = now
		j.buf = make([]byte, 0, len(text))
		j.opens++
	}
	j.last = now
	j.toks = append(j.toks, tok)
	sep := sp.sep
	if j.lines == 0 {
		sep = ""
	}
	if sp.onLimit == limitDrop {
		// Filebeat's rule: a line is kept while the event has fewer than
		// max_lines lines and room for at least one byte; the text is cut
		// at max_bytes, separators counted.
		size := len(j.buf) + len(sep)
		space := sp.maxBytes - size
		if (sp.maxBytes > 0 && space <= 0) || (sp.maxLines > 0 && j.lines >= sp.maxLines) {
			j.truncated = true
			return
		}
		if sp.maxBytes <= 0 || space > len(text) {
			space = len(text)
		} else if space < len(text) {
			j.truncated = true
		}
		j.buf = append(append(j.buf, sep...), text[:space]...)
		j.lines++
		return
	}
	j.buf = append(append(j.buf, sep...), text...)
	j.lines++
}

// flush emits the pending event, if any.
func (j *Joiner[T]) flush(timedOut, cut bool) {
	if len(j.toks) == 0 {
		return
	}
	ev := Event[T]{Text: j.buf, Tokens: j.toks, Lines: len(j.toks), Truncated: j.truncated, Cut: cut, TimedOut: timedOut}
	if j.spec.trim {
		ev.Text = bytes.TrimSpace(ev.Text)
	}
	j.buf, j.toks, j.lines, j.truncated = nil, nil, 0, false
	j.emit(ev)
}

// Flush emits the pending event now (end of input, shutdown, a reader
// closing). The rule's state is kept, as when a peer flushes on its own.
func (j *Joiner[T]) Flush() { j.flush(false, false) }

// Deadline returns when the pending event times out; ok is false when
// nothing is pending or the rule has no timeout.
func (j *Joiner[T]) Deadline() (t time.Time, ok bool) {
	if len(j.toks) == 0 || j.spec.timeout <= 0 {
		return time.Time{}, false
	}
	if j.spec.timeoutAge {
		return j.opened.Add(j.spec.timeout), true
	}
	return j.last.Add(j.spec.timeout), true
}

// Tick emits the pending event if its timeout has passed at now, and
// resets the rule's state as a timeout does.
func (j *Joiner[T]) Tick(now time.Time) {
	if d, ok := j.Deadline(); ok && !now.Before(d) {
		j.flush(true, false)
		j.d.reset()
	}
}
