package multiline

import (
	"time"
)

// Set joins many streams, each with its own Joiner, and emits their
// events through one callback. It is not safe for concurrent use.
type Set[T any] struct {
	emit    func(key string, ev Event[T])
	streams map[string]*member[T]
	seq     uint64
}

type member[T any] struct {
	j    *Joiner[T]
	used time.Time
	// opened orders pending events for FlushAll: the oldest first.
	opened uint64
}

// NewSet returns an empty set emitting through emit.
func NewSet[T any](emit func(key string, ev Event[T])) *Set[T] {
	return &Set[T]{emit: emit, streams: map[string]*member[T]{}}
}

// Add feeds one line of stream key under spec. A stream whose rule
// changed emits its pending event and starts over with the new rule.
func (s *Set[T]) Add(key string, spec *Spec, text []byte, tok T, now time.Time) {
	m := s.streams[key]
	if m != nil && m.j.spec != spec {
		m.j.Flush()
		m = nil
	}
	if m == nil {
		m = &member[T]{}
		m.j = NewJoiner(spec, func(ev Event[T]) { s.emit(key, ev) })
		s.streams[key] = m
	}
	if _, ok := m.j.Pending(); !ok && spec.maxSources > 0 && s.pendingCount() >= spec.maxSources {
		s.FlushAll()
	}
	m.used = now
	opens := m.j.opens
	m.j.Add(text, tok, now)
	if m.j.opens != opens {
		s.seq++
		m.opened = s.seq
	}
}

func (s *Set[T]) pendingCount() int {
	n := 0
	for _, m := range s.streams {
		if _, ok := m.j.Pending(); ok {
			n++
		}
	}
	return n
}

// Tick emits every pending event whose timeout has passed at now.
func (s *Set[T]) Tick(now time.Time) {
	for _, m := range s.sorted() {
		m.j.Tick(now)
	}
}

// Deadline returns the earliest timeout of a pending event.
func (s *Set[T]) Deadline() (time.Time, bool) {
	var best time.Time
	found := false
	for _, m := range s.streams {
		if d, ok := m.j.Deadline(); ok && (!found || d.Before(best)) {
			best, found = d, true
		}
	}
	return best, found
}

// Flush emits the pending event of stream key.
func (s *Set[T]) Flush(key string) {
	if m := s.streams[key]; m != nil {
		m.j.Flush()
	}
}

// FlushAll emits every pending event, oldest first.
func (s *Set[T]) FlushAll() {
	for _, m := range s.sorted() {
		m.j.Flush()
	}
}

// Prune forgets streams with nothing pending that saw no line since
// before cutoff, so a node's churn of containers does not grow the set.
func (s *Set[T]) Prune(cutoff time.Time) {
	for k, m := range s.streams {
		if _, ok := m.j.Pending(); !ok && m.used.Before(cutoff) {
			delete(s.streams, k)
		}
	}
}

// Len returns the number of streams tracked.
func (s *Set[T]) Len() int { return len(s.streams) }

func (s *Set[T]) sorted() []*member[T] {
	var out []*member[T]
	for _, m := range s.streams {
		if _, ok := m.j.Pending(); ok {
			out = append(out, m)
		}
	}
	// Few streams are pending at once; insertion sort keeps this simple.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].opened < out[j-1].opened; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
