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
	dropped  atomic.Int64
}

func (h *tapHub) subscribe(rate int) *tapSub {
	s := &tapSub{ch: make(chan *adminv1.TapResponse, tapBuffer), interval: time.Second / time.Duration(rate)}
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

// offer hands one parsed record to the subscribers whose rate allows it.
// It never blocks.
func (h *tapHub) offer(line []byte, rule string, doc []byte) (dropped int) {
	now := time.Now()
	var resp *adminv1.TapResponse
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if now.Before(s.next) {
			continue
		}
		s.next = now.Add(s.interval)
		if resp == nil {
			resp = &adminv1.TapResponse{RawLine: string(line), Rule: rule, DocumentJson: string(doc)}
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
