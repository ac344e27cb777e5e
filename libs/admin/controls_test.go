package admin

import (
	"context"
	"testing"
	"time"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

func TestControls(t *testing.T) {
	var c Controls
	if c.State() != "running" || c.ConfigDigest() != "" || c.Stats(context.Background()).Counters != nil {
		t.Fatal("zero Controls is not a running service without counters")
	}
	c.SetConfigDigest("abc")
	c.SetStats(func() map[string]int64 { return map[string]int64{"n": 3} },
		func(context.Context) []*adminv1.PartitionLag { return []*adminv1.PartitionLag{{Topic: "t", Lag: 7}} })
	st := c.Stats(context.Background())
	if c.ConfigDigest() != "abc" || st.Counters["n"] != 3 || len(st.Lag) != 1 || st.Lag[0].Lag != 7 {
		t.Fatalf("stats %v, digest %q", st, c.ConfigDigest())
	}
	c.Pause()
	if c.State() != "paused" {
		t.Fatalf("state %q after Pause", c.State())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Wait(ctx); err == nil {
		t.Fatal("Wait returned while paused")
	}
	c.Resume()
	if err := c.Wait(context.Background()); err != nil || c.State() != "running" {
		t.Fatalf("after Resume: %v, %q", err, c.State())
	}
	c.SetDraining()
	if c.State() != "draining" {
		t.Fatalf("state %q after SetDraining", c.State())
	}
}
