// Command loadtest runs the Sluice pipeline in one process (embedded
// Kafka, shipper, parsers, indexer, bulk-API test server) under load and
// faults, proves that no line was lost or indexed twice, and writes a
// JSON and a self-contained HTML report.
//
//	loadtest                               # the smoke: steady run, then a kill and a 429 storm
//	loadtest -scenario all -duration 30s   # every named scenario
//	loadtest -scenario kill-indexer,rotation
//	loadtest -chaos 50 -seed 7             # 50 randomized fault runs (seeds 7..56)
//	loadtest -throughput -lines 500000     # end-to-end lines/s and peak memory
//
// It exits 1 when any run lost or duplicated a line, 2 on bad flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-io/sluice/loadtest/harness"
	"github.com/sluice-io/sluice/loadtest/report"
)

func main() {
	var (
		scenario    = flag.String("scenario", "smoke", "comma-separated scenarios, \"smoke\" or \"all\"; one of: "+harness.Names())
		chaos       = flag.Int("chaos", 0, "run this many randomized fault runs instead of scenarios")
		stopOnFail  = flag.Bool("chaos-stop", false, "stop the chaos series at the first failed run")
		throughput  = flag.Bool("throughput", false, "measure end-to-end throughput instead (discarding bulk server)")
		mode        = flag.String("mode", "files", "throughput input: files (shipper and on) or kafka (parsers and indexer only)")
		lines       = flag.Int64("lines", 200_000, "lines pushed through a throughput measurement")
		seed        = flag.Uint64("seed", 1, "seed of every random choice (fault moments; chaos run i uses seed+i)")
		duration    = flag.Duration("duration", 10*time.Second, "how long each run writes (chaos: 4s unless set)")
		rate        = flag.Int("rate", 500, "lines per second over all pods")
		pods        = flag.Int("pods", 4, "pods writing logs")
		parsers     = flag.Int("parsers", 2, "parser replicas at the start")
		lineBytes   = flag.Int("line-bytes", 200, "approximate CRI line size in bytes")
		rotateBytes = flag.Int64("rotate-bytes", 0, "rotate each pod's log at this size (0: scenario default)")
		drain       = flag.Duration("drain", 2*time.Minute, "longest wait for the pipeline to index everything after writing")
		jsonOut     = flag.String("json", "loadtest-report.json", "JSON report path (empty: none)")
		htmlOut     = flag.String("html", "loadtest-report.html", "HTML report path (empty: none)")
		quiet       = flag.Bool("q", false, "no progress lines")
		verbose     = flag.Bool("v", false, "print the services' warnings and errors")
	)
	flag.Parse()
	durationSet := false
	flag.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var progress io.Writer = os.Stderr
	if *quiet {
		progress = nil
	}
	var logger *slog.Logger
	if *verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	base := harness.Config{
		Seed: *seed, Duration: *duration, Rate: *rate, Pods: *pods, Parsers: *parsers,
		LineBytes: *lineBytes, RotateBytes: *rotateBytes, Drain: *drain, Progress: progress, Log: logger,
	}
	rep := &report.Report{Started: time.Now(), Host: report.ThisHost()}
	var err error
	switch {
	case *throughput:
		rep.Title = "Sluice throughput (" + *mode + ")"
		err = runThroughput(ctx, rep, harness.ThroughputConfig{Mode: *mode, Lines: *lines, Pods: *pods, Parsers: *parsers,
			LineBytes: *lineBytes, Progress: progress, Log: logger})
	case *chaos > 0:
		rep.Title = fmt.Sprintf("Sluice chaos: %d runs from seed %d", *chaos, *seed)
		cc := harness.ChaosConfig{Runs: *chaos, Seed: *seed, Base: base}
		if durationSet {
			cc.Duration = *duration
		}
		for i := 0; i < *chaos && ctx.Err() == nil; i++ {
			run := runOne(ctx, harness.ChaosRun(cc, i))
			rep.Runs = append(rep.Runs, run)
			if *stopOnFail && !run.OK {
				break
			}
		}
	default:
		var cfgs []harness.Config
		cfgs, err = plan(*scenario, base)
		if err != nil {
			fmt.Fprintf(os.Stderr, "loadtest: %v\n", err)
			os.Exit(2)
		}
		rep.Title = "Sluice load test: " + *scenario
		for _, c := range cfgs {
			if ctx.Err() != nil {
				break
			}
			rep.Runs = append(rep.Runs, runOne(ctx, c))
		}
	}
	rep.Seconds = time.Since(rep.Started).Seconds()
	if serr := rep.Save(*jsonOut, *htmlOut); serr != nil {
		fmt.Fprintf(os.Stderr, "loadtest: writing the report: %v\n", serr)
	}
	summarize(os.Stdout, rep, *jsonOut, *htmlOut)
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "loadtest: %v\n", err)
		os.Exit(1)
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "loadtest: interrupted")
		os.Exit(1)
	case !rep.OK():
		os.Exit(1)
	}
}

// plan turns the -scenario flag into run configurations.
func plan(names string, base harness.Config) ([]harness.Config, error) {
	var out []harness.Config
	for _, name := range strings.Split(names, ",") {
		switch name = strings.TrimSpace(name); name {
		case "smoke":
			out = append(out, harness.Smoke(base)...)
		case "all":
			for _, s := range harness.Scenarios() {
				c := base
				c.Scenario = s.Name
				out = append(out, s.Build(c))
			}
		default:
			s, ok := harness.Lookup(name)
			if !ok {
				return nil, fmt.Errorf("unknown scenario %q (want smoke, all, %s)", name, harness.Names())
			}
			c := base
			c.Scenario = s.Name
			out = append(out, s.Build(c))
		}
	}
	return out, nil
}

// runOne runs a configuration with its own bulk server and directory,
// released when it ends, so a long series does not accumulate them.
func runOne(ctx context.Context, c harness.Config) report.Run {
	tb, cleanup := harness.NewTB(c.Name)
	defer cleanup()
	return harness.Run(ctx, tb, c)
}

func runThroughput(ctx context.Context, rep *report.Report, tc harness.ThroughputConfig) error {
	tb, cleanup := harness.NewTB("throughput")
	defer cleanup()
	tp, run, err := harness.MeasureThroughput(ctx, tb, tc)
	if err != nil {
		return err
	}
	rep.Throughput = &tp
	rep.Runs = append(rep.Runs, run)
	return nil
}

func summarize(w io.Writer, rep *report.Report, jsonOut, htmlOut string) {
	s := rep.Summary()
	if tp := rep.Throughput; tp != nil {
		fmt.Fprintf(w, "throughput (%s): %d lines, %d pods, %d parsers: %.0f lines/s, %.1f MB/s, %.1fs; peak RSS %.0f MiB, peak heap %.0f MiB\n",
			tp.Mode, tp.Lines, tp.Pods, tp.Parsers, tp.LinesPerSec, tp.MBPerSec, tp.Seconds, tp.PeakRSSMB, tp.PeakHeapMB)
	} else {
		for _, r := range rep.Runs {
			status := "ok  "
			if !r.OK {
				status = "FAIL"
			}
			fmt.Fprintf(w, "%s %-18s %s (%.1fs)\n", status, r.Name, r.Result, r.Seconds)
			if r.Error != "" {
				fmt.Fprintf(w, "     error: %s\n", r.Error)
			}
			if len(r.Result.LostSamples) > 0 {
				fmt.Fprintf(w, "     lost: %s\n", strings.Join(r.Result.LostSamples, " "))
			}
			if len(r.Result.DuplicateSamples) > 0 {
				fmt.Fprintf(w, "     duplicated: %s\n", strings.Join(r.Result.DuplicateSamples, " "))
			}
		}
		fmt.Fprintf(w, "%d runs, %d failed: %d lines written, %d lost, %d duplicated, %.1fs\n",
			s.Runs, s.Failed, s.Written, s.Lost, s.Duplicates, s.Seconds)
	}
	for _, p := range []string{jsonOut, htmlOut} {
		if p != "" {
			fmt.Fprintf(w, "report: %s\n", p)
		}
	}
}
