package parser

import (
	"sync"
	"sync/atomic"
	"time"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// tapBuffer bounds the samples queued for one tap client; a client that
// reads slower than its rate loses samples (counted in tap_dropped) rather
// than slowing the workers.
const tapBuffer = 64

// tapHub fans a sample of parsed records out to the admin Tap streams.
// Workers call offer only when active is non-zero, so with no tap client
// the cost is one atomic load per record.
type tapHub struct {
	active atomic.Int32
	mu     sync.Mutex
	subs   map[*tapSub]struct{}
}

type tapSub struct {
	ch       chan *adminv1.TapResponse
	interval time.Duration // between samples
	next     time.Time     // earliest time of the next sample
	filter   tapFilter
	dropped  atomic.Int64
}

// tapFilter selects the records a tap client sees; empty fields match any.
type tapFilter struct {
	namespace, pod, rule string
	failedOnly           bool
}

func (f tapFilter) match(s *tapSample) bool {
	return (f.namespace == "" || f.namespace == s.namespace) &&
		(f.pod == "" || f.pod == s.pod) &&
		(f.rule == "" || f.rule == s.rule) &&
		(!f.failedOnly || s.failed)
}

// tapSample is one record as a worker offers it: its slices are only read
// during offer, and copied for the subscribers that take it.
type tapSample struct {
	line                      []byte
	rule                      string
	doc                       []byte
	namespace, pod, container string
	failed                    bool
	deadLetter                string
}

func (h *tapHub) subscribe(rate int, f tapFilter) *tapSub {
	s := &tapSub{ch: make(chan *adminv1.TapResponse, tapBuffer), interval: time.Second / time.Duration(rate), filter: f}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*tapSub]struct{}{}
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	h.active.Add(1)
	return s
}

func (h *tapHub) unsubscribe(s *tapSub) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
	h.active.Add(-1)
}

// offer hands one record (parsed or dead-lettered) to the subscribers
// whose filter and rate allow it. It never blocks.
func (h *tapHub) offer(x *tapSample) (dropped int) {
	now := time.Now()
	var resp *adminv1.TapResponse
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if now.Before(s.next) || !s.filter.match(x) {
			continue
		}
		s.next = now.Add(s.interval)
		if resp == nil {
			resp = &adminv1.TapResponse{RawLine: string(x.line), Rule: x.rule, DocumentJson: string(x.doc),
				Namespace: x.namespace, Pod: x.pod, Container: x.container, Failed: x.failed, DeadLetterReason: x.deadLetter}
		}
		select {
		case s.ch <- resp:
		default:
			s.dropped.Add(1)
			dropped++
		}
	}
	return dropped
}
