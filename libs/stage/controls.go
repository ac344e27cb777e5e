package stage

import (
	"context"

	"github.com/sluice-io/sluice/libs/kafka"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// wireControls makes the runtime's admin Controls report the telemetry's
// counters and the group's lag (from the group client while Run owns one;
// GetStats runs on admin goroutines).
func (rt *Runtime) wireControls() {
	rt.Controls.SetConfigDigest(rt.cfg.Digest)
	rt.Controls.SetStats(rt.tel.Snapshot, func(ctx context.Context) []*adminv1.PartitionLag {
		return kafka.GroupLag(ctx, rt.lag.Load(), rt.cfg.Group)
	})
}
