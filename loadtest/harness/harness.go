package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/metrics"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/bulktest"
	"github.com/sluice-io/sluice/loadtest/gen"
	"github.com/sluice-io/sluice/loadtest/report"
	"github.com/sluice-io/sluice/loadtest/stack"
	"github.com/sluice-io/sluice/loadtest/verify"
	shippercfg "github.com/sluice-io/sluice/services/shipper/config"
)

// Config is one run: the load, the faults and where to work.
type Config struct {
	// Name labels the run in progress lines and reports; default Scenario.
	Name string
	// Scenario is the scenario the run belongs to.
	Scenario string
	// Seed drives every random choice of the run (fault moments, pods
	// written to); runs with the same seed make the same choices.
	Seed uint64
	// Dir is the working directory; default a new temporary directory
	// from tb.TempDir.
	Dir string
	// Pods is the number of containers writing; default 4.
	Pods int
	// Rate is lines per second over all pods; default 500.
	Rate int
	// Duration is how long the generator writes; default 10s.
	Duration time.Duration
	// LineBytes is the approximate CRI line size; default 200.
	LineBytes int
	// RotateBytes rotates each pod's file at this size; 0 never rotates.
	RotateBytes int64
	// MaxFiles is files kept per container by rotation; default 50 (so a
	// short run never deletes a file the shipper has not read).
	MaxFiles int
	// Parsers is the initial number of parser replicas; default 2.
	Parsers int
	// Steps are the faults and actions, each started at its At.
	Steps []Step
	// Drain bounds the wait for the pipeline to index everything after
	// the generator stopped; default 90s.
	Drain time.Duration
	// Progress receives a progress line while the run goes; nil for none.
	Progress io.Writer
	// Log receives the services' logs; default discards.
	Log *slog.Logger
}

func (c *Config) defaults() {
	if c.Scenario == "" {
		c.Scenario = "custom"
	}
	if c.Name == "" {
		c.Name = c.Scenario
	}
	if c.Pods == 0 {
		c.Pods = 4
	}
	if c.Rate == 0 {
		c.Rate = 500
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.LineBytes == 0 {
		c.LineBytes = 200
	}
	if c.MaxFiles == 0 {
		c.MaxFiles = 50
	}
	if c.Parsers == 0 {
		c.Parsers = 2
	}
	if c.Drain == 0 {
		c.Drain = 90 * time.Second
	}
}

// Step is something done to the pipeline At a moment of the run. Do may
// block (a kill waits before restarting); steps run concurrently, and the
// run waits for all of them before it drains.
type Step struct {
	At   time.Duration
	Name string
	Do   func(ctx context.Context, e *Env) error
}

// Env is a running run, as steps see it.
type Env struct {
	Stack *stack.Stack
	ES    *bulktest.Server
	Pods  []*gen.RotatingPod

	cfg   Config
	start time.Time
	rec   *verify.Recorder

	// rateFactor scales the generator (bursts), as float64 bits.
	rateFactor atomic.Uint64

	// item429 rejects items with 429 until this time (unix nanos) with
	// probability item429Frac; read by the item hook under the server's
	// lock.
	item429Until atomic.Int64
	item429Frac  atomic.Uint64
	hookRand     *rand.Rand

	mu      sync.Mutex // serialises service starts and stops
	running map[string]bool
	events  []report.Event
	rnd     *rand.Rand
}

// Event records what happened now, for the report and the progress line.
func (e *Env) Event(format string, args ...any) {
	what := fmt.Sprintf(format, args...)
	t := time.Since(e.start).Seconds()
	e.mu.Lock()
	e.events = append(e.events, report.Event{T: t, What: what})
	e.mu.Unlock()
	if e.cfg.Progress != nil {
		fmt.Fprintf(e.cfg.Progress, "%s%-18s %5.1fs  %s\n", clearLine(e.cfg.Progress), e.cfg.Name, t, what)
	}
}

// SetRateFactor multiplies the generator's rate by f (1 is normal).
func (e *Env) SetRateFactor(f float64) {
	e.rateFactor.Store(floatBits(f))
}

// Rand returns a number in [0, n) from the run's seeded source.
func (e *Env) Rand(n int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rnd.IntN(n)
}

// Running returns the names of the running services, sorted.
func (e *Env) Running() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for n, ok := range e.running {
		if ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Parsers returns the indices of the running parsers.
func (e *Env) Parsers() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []int
	for i := 0; i < 16; i++ {
		if e.running[parserName(i)] {
			out = append(out, i)
		}
	}
	return out
}

func parserName(i int) string { return fmt.Sprintf("parser-%d", i) }

// Stop stops a service: gracefully, or with kill as after kill -9 (no
// drain, no commit, no checkpoint).
func (e *Env) Stop(name string, kill bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.running[name] {
		return fmt.Errorf("%s is not running", name)
	}
	e.running[name] = false
	var err error
	if kill {
		err = e.Stack.Kill(name)
	} else {
		err = e.Stack.StopService(name)
	}
	if err != nil && !errors.Is(err, stack.ErrKilled) && !errors.Is(err, context.Canceled) {
		// The service's own exit error is worth seeing, not fatal.
		e.cfg.logf("%s stopped with: %v", name, err)
	}
	return nil
}

// Start starts a stopped service ("shipper", "indexer", "parser-<i>").
func (e *Env) Start(ctx context.Context, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running[name] {
		return nil
	}
	var err error
	switch name {
	case "shipper":
		err = e.Stack.StartShipper(ctx)
	case "indexer":
		err = e.Stack.StartIndexer(ctx)
	default:
		var i int
		if _, serr := fmt.Sscanf(name, "parser-%d", &i); serr != nil {
			return fmt.Errorf("unknown service %q", name)
		}
		err = e.Stack.StartParser(ctx, i)
	}
	if err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	e.running[name] = true
	return nil
}

func (c Config) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log.Warn(fmt.Sprintf(format, args...))
	}
}

// Run runs one configuration and returns its outcome. It fails the run
// (OK false) on any lost, duplicated or unexpected line; an error that
// stopped the run is in Error.
func Run(ctx context.Context, tb testing.TB, cfg Config) (run report.Run) {
	cfg.defaults()
	begin := time.Now()
	run = report.Run{Name: cfg.Name, Scenario: cfg.Scenario, Seed: cfg.Seed, Params: report.Params{
		Pods: cfg.Pods, Rate: cfg.Rate, Seconds: cfg.Duration.Seconds(), Parsers: cfg.Parsers,
		LineBytes: cfg.LineBytes, RotateBytes: cfg.RotateBytes,
	}}
	defer func() {
		if p := recover(); p != nil {
			f, ok := p.(fatal)
			if !ok {
				panic(p)
			}
			run.Error = f.msg
		}
		run.Seconds = time.Since(begin).Seconds()
		run.OK = run.Error == "" && run.Result.OK() && run.Result.Written > 0
	}()
	if err := runInto(ctx, tb, cfg, &run); err != nil {
		run.Error = err.Error()
	}
	return run
}

func runInto(ctx context.Context, tb testing.TB, cfg Config, run *report.Run) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Dir == "" {
		cfg.Dir = tb.TempDir()
	}
	podsDir, containersDir := filepath.Join(cfg.Dir, "pods"), filepath.Join(cfg.Dir, "containers")
	e := &Env{
		cfg:      cfg,
		rec:      verify.NewRecorder(),
		running:  map[string]bool{},
		rnd:      rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		hookRand: rand.New(rand.NewPCG(cfg.Seed, 0x429)),
	}
	e.SetRateFactor(1)
	e.ES = bulktest.New(tb)
	e.ES.SetItemHook(e.itemHook)

	st, err := stack.Start(ctx, stack.Options{
		Dir: cfg.Dir, LogDir: containersDir, SearchURL: e.ES.URL(), Parsers: cfg.Parsers, Log: cfg.Log,
		Node: "loadtest",
		TuneShipper: func(c *shippercfg.Config) {
			c.Tail.Roots = append(c.Tail.Roots, podsDir)
		},
	})
	if err != nil {
		return fmt.Errorf("starting the pipeline: %w", err)
	}
	e.Stack = st
	defer st.Stop()
	e.running["shipper"], e.running["indexer"] = true, true
	for i := 0; i < cfg.Parsers; i++ {
		e.running[parserName(i)] = true
	}
	for i := 0; i < cfg.Pods; i++ {
		p, err := gen.NewRotatingPod(gen.PodOptions{
			Namespace: []string{"shop", "payments", "search"}[i%3], Name: fmt.Sprintf("web-%d", i), Container: "nginx",
			PodsDir: podsDir, ContainersDir: containersDir,
			RotateBytes: cfg.RotateBytes, MaxFiles: cfg.MaxFiles, LineBytes: cfg.LineBytes, Seed: cfg.Seed + uint64(i),
		})
		if err != nil {
			return err
		}
		defer p.Close()
		e.Pods = append(e.Pods, p)
	}

	e.start = time.Now()
	var steps sync.WaitGroup
	stepErr := make(chan error, len(cfg.Steps))
	for _, s := range cfg.Steps {
		steps.Add(1)
		go func() {
			defer steps.Done()
			select {
			case <-time.After(s.At):
			case <-ctx.Done():
				return
			}
			if err := s.Do(ctx, e); err != nil {
				stepErr <- fmt.Errorf("%s: %w", s.Name, err)
			}
		}()
	}
	smp := newSampler(e)
	stopSampling := smp.loop(ctx)
	defer stopSampling()

	if err := e.generate(ctx); err != nil {
		return fmt.Errorf("generating: %w", err)
	}
	e.Event("generator stopped after %d lines", e.written())
	steps.Wait()
	close(stepErr)
	var stepErrs []error
	for err := range stepErr {
		e.Event("step failed: %v", err)
		stepErrs = append(stepErrs, err)
	}
	// Whatever a step left stopped comes back before the drain.
	for _, name := range []string{"shipper", "indexer"} {
		if err := e.Start(ctx, name); err != nil {
			return err
		}
	}
	if len(e.Parsers()) == 0 {
		if err := e.Start(ctx, parserName(0)); err != nil {
			return err
		}
	}

	drainStart := time.Now()
	exp := e.expect()
	res, err := e.drain(ctx, exp, drainStart.Add(cfg.Drain))
	run.DrainSeconds = time.Since(drainStart).Seconds()
	stopSampling()
	run.Events, run.Series = e.events, smp.series
	if err != nil {
		return err
	}
	run.Result = res
	if len(stepErrs) > 0 {
		run.Error = errors.Join(stepErrs...).Error()
	}
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "%s%-18s %s: %s (drained in %.1fs)\n", clearLine(cfg.Progress), cfg.Name, verdict(res), res, run.DrainSeconds)
	}
	return nil
}

func verdict(r verify.Result) string {
	if r.OK() {
		return "ok"
	}
	return "FAIL"
}

// itemHook answers the per-item 429s of a storm and records when every
// other item was accepted. It runs under the server's lock, serially.
func (e *Env) itemHook(it bulktest.Item) (int, string, string) {
	if time.Now().UnixNano() < e.item429Until.Load() && e.hookRand.Float64() < bitsFloat(e.item429Frac.Load()) {
		return 429, "es_rejected_execution_exception", "rejected execution of primary operation [loadtest storm]"
	}
	e.rec.Accepted(it.ID, time.Now())
	return 0, "", ""
}

// generate writes lines at the configured rate (times the rate factor)
// until Duration has passed, spreading them over the pods in turn.
func (e *Env) generate(ctx context.Context) error {
	const tick = 50 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	end := e.start.Add(e.cfg.Duration)
	var owed float64
	next := 0
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-t.C:
			if now.After(end) {
				return nil
			}
			// Owe lines for the time actually elapsed, so a slow tick on a
			// loaded machine does not lower the rate.
			owed += float64(e.cfg.Rate) * bitsFloat(e.rateFactor.Load()) * now.Sub(last).Seconds()
			last = now
			n := int(owed)
			owed -= float64(n)
			per, extra := n/len(e.Pods), n%len(e.Pods)
			for i := range e.Pods {
				k := per
				if (i-next+len(e.Pods))%len(e.Pods) < extra {
					k++
				}
				if k == 0 {
					continue
				}
				if _, err := e.Pods[i].Write(k); err != nil {
					return err
				}
			}
			next = (next + extra) % len(e.Pods)
		}
	}
}

func (e *Env) written() int64 {
	var n int64
	for _, p := range e.Pods {
		n += p.Seq()
	}
	return n
}

func (e *Env) expect() verify.Expect {
	exp := verify.Expect{Written: map[string]int64{}, MayMiss: map[string][]gen.SeqRange{}}
	for _, p := range e.Pods {
		exp.Written[p.Key()] = p.Seq()
		if d := p.Deleted(); len(d) > 0 {
			exp.MayMiss[p.Key()] = d
		}
	}
	return exp
}

// drain waits until every line is accounted for (indexed or
// dead-lettered) or the deadline passes, then waits a little longer for
// anything extra (a duplicate would show up now) and checks.
func (e *Env) drain(ctx context.Context, exp verify.Expect, deadline time.Time) (verify.Result, error) {
	want := int(exp.Total())
	var res verify.Result
	for {
		if e.rec.Len() >= want || time.Now().After(deadline) {
			var err error
			res, err = e.check(ctx, exp)
			if err != nil {
				return res, err
			}
			if res.Lost == 0 || time.Now().After(deadline) {
				break
			}
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(time.Second):
	}
	return e.check(ctx, exp)
}

func (e *Env) check(ctx context.Context, exp verify.Expect) (verify.Result, error) {
	docs, unparsed, err := verify.FromDocs(e.ES.Docs(), e.rec)
	if err != nil {
		return verify.Result{}, err
	}
	dlq, err := readDLQ(ctx, e.Stack.Brokers())
	if err != nil {
		return verify.Result{}, fmt.Errorf("reading the dead-letter topic: %w", err)
	}
	return verify.Check(exp, append(docs, dlq...), unparsed), nil
}

// readDLQ reads the whole dead-letter topic (usually empty).
func readDLQ(ctx context.Context, brokers []string) ([]verify.Doc, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(lctx, stack.DLQTopic)
	if err != nil {
		return nil, err
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	if len(want) == 0 {
		return nil, nil
	}
	parts := map[int32]kgo.Offset{}
	for p := range want {
		parts[p] = kgo.NewOffset().AtStart()
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{stack.DLQTopic: parts})
	var out []verify.Doc
	for len(want) > 0 && lctx.Err() == nil {
		fs := cl.PollFetches(lctx)
		fs.EachRecord(func(r *kgo.Record) {
			if d, ok := verify.FromDeadLetter(r.Value); ok {
				out = append(out, d)
			}
			if r.Offset+1 >= want[r.Partition] {
				delete(want, r.Partition)
			}
		})
	}
	return out, lctx.Err()
}

// sampler records the time series and prints the progress line.
type sampler struct {
	e      *Env
	series report.Series
	heap   []metrics.Sample
}

func newSampler(e *Env) *sampler {
	return &sampler{e: e, heap: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}}
}

// loop samples every half second until the returned function is called
// (idempotent) or ctx ends.
func (s *sampler) loop(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		var lastW, lastI int64
		lastT := 0.0
		lastPrint := time.Time{}
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := time.Since(s.e.start).Seconds()
			w, i := s.e.written(), int64(s.e.rec.Len())
			metrics.Read(s.heap)
			dt := now - lastT
			s.series.Written = append(s.series.Written, verify.Point{T: now, V: float64(w)})
			s.series.Indexed = append(s.series.Indexed, verify.Point{T: now, V: float64(i)})
			s.series.Lag = append(s.series.Lag, verify.Point{T: now, V: float64(max(w-i, 0))})
			s.series.WriteRate = append(s.series.WriteRate, verify.Point{T: now, V: float64(w-lastW) / dt})
			s.series.IndexRate = append(s.series.IndexRate, verify.Point{T: now, V: float64(i-lastI) / dt})
			s.series.HeapMB = append(s.series.HeapMB, verify.Point{T: now, V: float64(s.heap[0].Value.Uint64()) / (1 << 20)})
			if out := s.e.cfg.Progress; out != nil && time.Since(lastPrint) >= progressEvery(out) {
				lastPrint = time.Now()
				fmt.Fprintf(out, "%s%-18s %5.1fs  written %7d  indexed %7d  lag %6d  in %5.0f/s  out %5.0f/s  heap %4.0fMiB%s",
					clearLine(out), s.e.cfg.Name, now, w, i, max(w-i, 0), float64(w-lastW)/dt, float64(i-lastI)/dt,
					float64(s.heap[0].Value.Uint64())/(1<<20), lineEnd(out))
			}
			lastW, lastI, lastT = w, i, now
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
			if out := s.e.cfg.Progress; out != nil && isTerminal(out) {
				fmt.Fprint(out, clearLine(out))
			}
		})
	}
}

// On a terminal the progress line rewrites itself; elsewhere (CI logs) it
// is a new line every few seconds.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func clearLine(w io.Writer) string {
	if isTerminal(w) {
		return "\r\033[K"
	}
	return ""
}

func lineEnd(w io.Writer) string {
	if isTerminal(w) {
		return ""
	}
	return "\n"
}

func progressEvery(w io.Writer) time.Duration {
	if isTerminal(w) {
		return 0
	}
	return 2 * time.Second
}

func floatBits(f float64) uint64 { return math.Float64bits(f) }
func bitsFloat(b uint64) float64 { return math.Float64frombits(b) }
