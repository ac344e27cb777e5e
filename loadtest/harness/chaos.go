package harness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluice-io/sluice/loadtest/report"
)

// ChaosConfig configures a series of randomized fault runs.
type ChaosConfig struct {
	// Runs is the number of runs; default 10.
	Runs int
	// Seed is the first run's seed; run i uses Seed+i, so a failing run
	// is replayed alone with -seed <its seed> -runs 1.
	Seed uint64
	// Duration of each run's writing; default 4s. Faults fall in its
	// first three quarters.
	Duration time.Duration
	// MaxFaults per run; default 3 (at least one).
	MaxFaults int
	// Base is the configuration each run starts from (Progress, Log,
	// Drain); its load fields are drawn at random.
	Base Config
	// Stop ends the series at the first failed run.
	Stop bool
}

// ChaosRun draws run i's configuration: load, rotation and 1..MaxFaults
// faults at random moments, all from the run's seed.
func ChaosRun(cc ChaosConfig, i int) Config {
	if cc.Duration == 0 {
		cc.Duration = 4 * time.Second
	}
	if cc.MaxFaults == 0 {
		cc.MaxFaults = 3
	}
	seed := cc.Seed + uint64(i)
	r := rand.New(rand.NewPCG(seed, 0xc4a05))
	c := cc.Base
	c.Scenario, c.Name, c.Seed = "chaos", fmt.Sprintf("chaos-%d", seed), seed
	c.Duration = cc.Duration
	c.Pods = 2 + r.IntN(5)
	c.Rate = 200 + 100*r.IntN(9)
	c.Parsers = 1 + r.IntN(3)
	if r.IntN(2) == 0 {
		c.RotateBytes = int64(32+r.IntN(224)) << 10
	}
	at := func() time.Duration { return frac(c.Duration, 0.1+0.65*r.Float64()) }
	short := func() time.Duration { return time.Duration(300+r.IntN(1700)) * time.Millisecond }
	for n := 1 + r.IntN(cc.MaxFaults); n > 0; n-- {
		switch r.IntN(8) {
		case 0:
			c.Steps = append(c.Steps, Kill(at(), "shipper", short()))
		case 1:
			c.Steps = append(c.Steps, Kill(at(), "parser", short()))
		case 2:
			c.Steps = append(c.Steps, Kill(at(), "indexer", short()))
		case 3:
			c.Steps = append(c.Steps, BrokerOutage(at(), short()))
		case 4:
			c.Steps = append(c.Steps, Search429(at(), short()*2, 0.3+0.5*r.Float64()))
		case 5:
			c.Steps = append(c.Steps, ConnectionResets(at(), 1+r.IntN(3), r.IntN(2) == 0))
		case 6:
			c.Steps = append(c.Steps, ScaleParsers(at(), 1+r.IntN(3)))
		case 7:
			c.Steps = append(c.Steps, ShipperDownRotations(at(), 1+r.IntN(3), 200*time.Millisecond))
		}
	}
	return c
}

// Chaos runs cc.Runs randomized runs one after the other and returns
// their outcomes; any run with a lost or duplicated line has OK false.
func Chaos(ctx context.Context, tb testing.TB, cc ChaosConfig) []report.Run {
	if cc.Runs == 0 {
		cc.Runs = 10
	}
	var runs []report.Run
	for i := 0; i < cc.Runs && ctx.Err() == nil; i++ {
		run := Run(ctx, tb, ChaosRun(cc, i))
		runs = append(runs, run)
		if cc.Stop && !run.OK {
			break
		}
	}
	return runs
}
