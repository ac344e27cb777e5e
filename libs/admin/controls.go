package admin

import (
	"context"
	"sync"
	"sync/atomic"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// Controls is the part of Service every service answers the same way:
// State, Stats, Pause, Resume and ConfigDigest. A service embeds it (the
// Kafka stages get it from libs/stage's runtime), wires its counters and
// lag with SetStats, and adds Reload; it may override Stats to add its own
// figures. The zero value is usable: running, no counters. Safe for
// concurrent use.
type Controls struct {
	gate     Gate
	draining atomic.Bool

	mu       sync.Mutex
	digest   string
	counters func() map[string]int64
	lag      func(context.Context) []*adminv1.PartitionLag
}

// State implements Service: "draining", "paused" or "running".
func (c *Controls) State() string {
	switch {
	case c.draining.Load():
		return "draining"
	case c.gate.Paused():
		return "paused"
	}
	return "running"
}

// Stats implements Service: the counters and the lag per partition.
func (c *Controls) Stats(ctx context.Context) *adminv1.GetStatsResponse {
	c.mu.Lock()
	counters, lag := c.counters, c.lag
	c.mu.Unlock()
	resp := &adminv1.GetStatsResponse{}
	if counters != nil {
		resp.Counters = counters()
	}
	if lag != nil {
		resp.Lag = lag(ctx)
	}
	return resp
}

// Pause implements Service: intake stops (Wait blocks) until Resume; work
// already taken in drains as usual.
func (c *Controls) Pause() { c.gate.Pause() }

// Resume implements Service.
func (c *Controls) Resume() { c.gate.Resume() }

// Wait returns when intake is not paused, or ctx is done.
func (c *Controls) Wait(ctx context.Context) error { return c.gate.Wait(ctx) }

// ConfigDigest implements Service.
func (c *Controls) ConfigDigest() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.digest
}

// SetConfigDigest records the running configuration's digest (at start,
// after a reload).
func (c *Controls) SetConfigDigest(d string) {
	c.mu.Lock()
	c.digest = d
	c.mu.Unlock()
}

// SetStats says where Stats reads the counters and the lag (either may be
// nil).
func (c *Controls) SetStats(counters func() map[string]int64, lag func(context.Context) []*adminv1.PartitionLag) {
	c.mu.Lock()
	c.counters, c.lag = counters, lag
	c.mu.Unlock()
}

// SetDraining marks the service as draining (it stopped intake for good).
func (c *Controls) SetDraining() { c.draining.Store(true) }
