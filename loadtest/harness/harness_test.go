package harness

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestChaosTiny runs a few seeded randomized fault runs of a few seconds
// each, so the test suite proves "nothing lost, nothing twice" under kills,
// broker outages, 429 storms, resets, scaling and rotation.
func TestChaosTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline for about a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var progress *os.File
	if testing.Verbose() {
		progress = os.Stderr
	}
	runs := Chaos(ctx, t, ChaosConfig{Runs: 3, Seed: 1, Duration: 3 * time.Second,
		Base: Config{Pods: 3, Drain: 60 * time.Second, Progress: progress}})
	for _, r := range runs {
		if !r.OK {
			t.Errorf("%s (seed %d): %s; error %q; lost %v; duplicated %v; events %v",
				r.Name, r.Seed, r.Result, r.Error, r.Result.LostSamples, r.Result.DuplicateSamples, r.Events)
		} else {
			t.Logf("%s: %s in %.1fs", r.Name, r.Result, r.Seconds)
		}
	}
}
