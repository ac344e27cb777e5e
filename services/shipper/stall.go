package shipper

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// stallState is whether Kafka has left the oldest produced line
// unacknowledged for longer than kafka.stall_threshold, and why.
type stallState struct {
	mu      sync.Mutex
	stalled bool
	reason  string
	since   time.Time
	logged  time.Time
}

func (st *stallState) get() (bool, string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.stalled, st.reason
}

// watchStall samples the tailer's backlog until ctx ends: it sets the
// oldest-unacknowledged and bytes-behind gauges and turns the shipper's
// state to degraded, with a WARN line every kafka.stall_log_interval, while
// Kafka does not acknowledge.
func (s *Shipper) watchStall(ctx context.Context) {
	every := min(s.cfg.Kafka.StallThreshold.D()/4, time.Second)
	every = max(every, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.checkStall(now)
		}
	}
}

func (s *Shipper) checkStall(now time.Time) {
	s.flushAccounts()
	b := s.tailer.Backlog()
	var age time.Duration
	if !b.Oldest.IsZero() {
		age = now.Sub(b.Oldest)
	}
	s.oldestUnacked.Set(age)
	var behind int64
	for _, f := range s.tailer.Files() {
		behind += max(f.Size-f.AckedOffset, 0)
	}
	s.bytesBehind.Set(behind)

	st := &s.stall
	st.mu.Lock()
	defer st.mu.Unlock()
	if age <= s.cfg.Kafka.StallThreshold.D() {
		if st.stalled {
			s.log.Info("kafka acknowledges again", "stalled_for", now.Sub(st.since).Round(time.Millisecond).String())
			st.stalled, st.reason = false, ""
			s.stalled.Set(0)
		}
		return
	}
	topic := s.cfg.Kafka.Topic
	if strings.Contains(topic, "{{") {
		topic = strings.Join(s.cfg.Kafka.TopicAllowlist, ",")
	}
	brokers := strings.Join(s.cfg.Kafka.Brokers, ",")
	st.reason = fmt.Sprintf("kafka has not acknowledged for %s: %d bytes (%d lines) in flight, topic %s, brokers %s",
		age.Round(time.Millisecond), b.Bytes, b.Events, topic, brokers)
	if !st.stalled {
		st.stalled, st.since = true, now
		s.stalled.Set(1)
	} else if now.Sub(st.logged) < s.cfg.Kafka.StallLogInterval.D() {
		return
	}
	st.logged = now
	s.log.Warn("waiting for kafka to acknowledge; reading is paused while the producer buffer is full",
		"brokers", brokers, "topic", topic, "in_flight_bytes", b.Bytes, "in_flight_lines", b.Events,
		"producer_buffered_bytes", s.producer.BufferedProduceBytes(),
		"oldest_unacked_age", age.Round(time.Millisecond).String(), "bytes_behind", behind)
}
