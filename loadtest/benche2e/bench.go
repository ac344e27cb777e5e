package benche2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config is one benchmark run.
type Config struct {
	// Brokers of the Kafka cluster (scripts/infra/kafka-up.sh).
	Brokers []string
	// SearchURL of a real OpenSearch or Elasticsearch to index into
	// through the harness's proxy; empty uses the discarding server.
	SearchURL string
	// Flavor of SearchURL: "opensearch" (default) or "elasticsearch".
	Flavor string
	// Duration of writing; the run then drains for at most Drain.
	Duration, Drain time.Duration
	// Rate in lines per second; 0 is as fast as the pipeline goes.
	Rate float64
	// Partitions of the raw and parsed topics; Pods generated files.
	Partitions, Pods int
	// BinDir holds the service binaries (see Build); WorkDir the pod
	// files, configurations, state and service logs of this run.
	BinDir, WorkDir string
	// Profile turns admin.pprof on in the three services and saves a CPU
	// profile of each, taken over the middle of the writing, and a heap
	// profile at its end, as <service>.cpu.pprof and <service>.heap.pprof
	// in WorkDir. Sampling costs the services well under 1 % of their CPU.
	Profile bool
	// Progress receives a progress line every ProgressEvery; nil for none.
	Progress      io.Writer
	ProgressEvery time.Duration
}

func (c *Config) defaults() {
	if c.Flavor == "" {
		c.Flavor = "opensearch"
	}
	if c.Duration == 0 {
		c.Duration = 30 * time.Second
	}
	if c.Drain == 0 {
		c.Drain = time.Minute
	}
	if c.Partitions == 0 {
		c.Partitions = 6
	}
	if c.Pods == 0 {
		c.Pods = 12
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = 3 * time.Second
	}
}

// maxMessageBytes is the topic setting every Sluice deployment creates the
// three topics with (docker-compose.yml, scripts/infra, the Helm chart).
const maxMessageBytes = "8388608"

// stillness ends the drain early: no line arrived for this long after the
// writing ended (a real engine on a busy machine can take seconds to
// create an index).
const stillness = 30 * time.Second

// Run starts the services, writes the workload, drains, stops the
// services and returns the result. The services are always stopped and the
// run's topics deleted, whatever happens.
func Run(ctx context.Context, c Config) (*Result, error) {
	c.defaults()
	ctx, cancel := context.WithTimeout(ctx, c.Duration+c.Drain+5*time.Minute)
	defer cancel()
	res := &Result{
		Started: time.Now().UTC(), Duration: c.Duration.Seconds(), Rate: c.Rate,
		Partitions: c.Partitions, Pods: c.Pods, Engine: "discard",
		CPUs: runtime.NumCPU(), LoadAvg: loadAverage(),
	}
	if c.SearchURL != "" {
		res.Engine = c.Flavor + " " + c.SearchURL
	}
	setup := Setup{
		Brokers: c.Brokers, Prefix: "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".",
		Dir: c.WorkDir, PodsDir: filepath.Join(c.WorkDir, "pods"), ContainersDir: filepath.Join(c.WorkDir, "containers"),
		Flavor: "elasticsearch",
	}
	if c.Profile {
		setup.Metrics = map[string]string{}
		for _, name := range Services {
			addr, err := freePort()
			if err != nil {
				return nil, err
			}
			setup.Metrics[name] = addr
		}
	}
	if c.SearchURL != "" {
		setup.Flavor = c.Flavor
		setup.Index = "bench-e2e-" + strings.TrimSuffix(strings.TrimPrefix(setup.Prefix, "bench-"), ".")
		defer deleteIndex(c.SearchURL, setup.Index)
	}
	for _, d := range []string{setup.PodsDir, setup.ContainersDir, filepath.Join(c.WorkDir, "state")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}

	ledger := NewLedger(c.Pods)
	sink, err := NewSink(ledger, c.SearchURL)
	if err != nil {
		return nil, err
	}
	defer sink.Close()
	setup.SearchURL = sink.URL()

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Brokers...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := createTopics(ctx, adm, setup.Topics(), int32(c.Partitions)); err != nil {
		return nil, err
	}
	defer func() {
		dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer dcancel()
		_, _ = adm.DeleteTopics(dctx, setup.Topics()...)
	}()

	procs, err := startServices(c.BinDir, setup)
	defer func() {
		// A service slow to stop does not invalidate what was measured
		// before: it is reported, not returned.
		for i := len(procs) - 1; i >= 0; i-- { // started indexer first: the shipper stops first
			if serr := procs[i].Stop(30 * time.Second); serr != nil && c.Progress != nil {
				fmt.Fprintf(c.Progress, "bench-e2e: %v\n", serr)
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, adm, sink, procs, setup.Groups()); err != nil {
		return nil, err
	}

	wl, err := NewWorkload(ledger, setup.PodsDir, setup.ContainersDir, c.Pods)
	if err != nil {
		return nil, err
	}
	defer wl.Close()
	wl.Rate = c.Rate
	base, err := readAll(procs)
	if err != nil {
		return nil, err
	}
	harnessBase, err := ReadProc(os.Getpid())
	if err != nil {
		return nil, err
	}
	start := time.Now()
	werr := make(chan error, 1)
	go func() { werr <- wl.Run(ctx, c.Duration) }()
	if c.Profile {
		profiled := profile(ctx, setup, c.WorkDir, c.Duration, c.Progress)
		defer func() { <-profiled }()
	}

	mon := monitor{ledger: ledger, procs: procs, adm: adm, groups: setup.Groups(),
		start: start, out: c.Progress, every: c.ProgressEvery}
	writing := true
	var lastDelivered int64
	lastChange := time.Now()
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-werr:
			if err != nil {
				return nil, err
			}
			writing = false
			mon.phase = "drain"
			lastChange = time.Now() // stillness counts from the end of writing
		case <-tk.C:
		}
		for _, p := range procs {
			select {
			case <-p.Exited():
				return nil, p.ExitErr()
			default:
			}
		}
		s, err := mon.sample(ctx)
		if err != nil {
			return nil, err
		}
		res.Series = append(res.Series, s)
		if s.Delivered != lastDelivered {
			lastDelivered, lastChange = s.Delivered, time.Now()
		}
		if writing {
			continue
		}
		end := start.Add(c.Duration + c.Drain)
		if ledger.Lost() == 0 {
			res.DrainEnd = "complete"
			break
		}
		if time.Since(lastChange) > stillness {
			res.DrainEnd = "stalled"
			break
		}
		if time.Now().After(end) {
			res.DrainEnd = "deadline"
			break
		}
	}
	final, err := readAll(procs)
	if err != nil {
		return nil, err
	}
	harnessFinal, err := ReadProc(os.Getpid())
	if err != nil {
		return nil, err
	}
	res.HarnessCPUSeconds = (harnessFinal.CPU - harnessBase.CPU).Seconds()
	mon.finish(res, base, final)
	return res, nil
}

// deleteIndex removes a run's index and template from a real engine.
func deleteIndex(engine, index string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, path := range []string{"/" + index, "/_index_template/" + index} {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, strings.TrimSuffix(engine, "/")+path, nil)
		if err != nil {
			continue
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
}

func createTopics(ctx context.Context, adm *kadm.Client, topics []string, partitions int32) error {
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v := maxMessageBytes
	resp, err := adm.CreateTopics(cctx, partitions, 1, map[string]*string{"max.message.bytes": &v}, topics...)
	if err != nil {
		return fmt.Errorf("creating topics %v: %w", topics, err)
	}
	for _, r := range resp.Sorted() {
		if r.Err != nil {
			return fmt.Errorf("creating topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

// startServices writes the configurations and starts the processes; on an
// error it returns those already started, for the caller to stop.
func startServices(binDir string, s Setup) ([]*Proc, error) {
	var procs []*Proc
	cfgs := s.Configs()
	for i := len(Services) - 1; i >= 0; i-- {
		name := Services[i]
		path := filepath.Join(s.Dir, name+".yaml")
		if err := os.WriteFile(path, []byte(cfgs[name]), 0o644); err != nil {
			return procs, err
		}
		args := []string{"-config", path}
		if name == "parser" {
			args = append(args, "-watch-config", "0")
		}
		p, err := StartProc(name, filepath.Join(binDir, name), filepath.Join(s.Dir, name+".log"), args...)
		if err != nil {
			return procs, err
		}
		procs = append(procs, p)
	}
	return procs, nil
}

// waitReady waits until the indexer has called the bulk endpoint and both
// consumer groups are stable with members, so the first lines do not carry
// the services' start-up in their delay.
func waitReady(ctx context.Context, adm *kadm.Client, sink *Sink, procs []*Proc, groups []string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		for _, p := range procs {
			select {
			case <-p.Exited():
				return p.ExitErr()
			default:
			}
		}
		if sink.Pinged() {
			dg, err := adm.DescribeGroups(ctx, groups...)
			ready := err == nil && len(dg) == len(groups)
			for _, g := range dg {
				ready = ready && g.Err == nil && g.State == "Stable" && len(g.Members) > 0
			}
			if ready {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("the services did not become ready within 2 minutes (indexer pinged the bulk endpoint: " +
				strconv.FormatBool(sink.Pinged()) + "; groups " + fmt.Sprint(groups) + " stable?); see the service logs")
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func readAll(procs []*Proc) (map[string]ProcStats, error) {
	out := make(map[string]ProcStats, len(procs))
	for _, p := range procs {
		ps, err := ReadProc(p.PID())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		out[p.Name] = ps
	}
	return out, nil
}

// monitor samples the run once a second and prints the progress line.
type monitor struct {
	ledger    *Ledger
	procs     []*Proc
	adm       *kadm.Client
	groups    []string // parser's, indexer's
	start     time.Time
	out       io.Writer
	every     time.Duration
	phase     string
	last      Sample
	printed   Sample // the sample of the last progress line
	lastPrint time.Time
}

func (m *monitor) sample(ctx context.Context) (Sample, error) {
	now := time.Now()
	c := m.ledger.Counts()
	s := Sample{T: now.Sub(m.start).Seconds(), Written: c.Written, Delivered: c.Delivered,
		Backlog: c.Written - c.Delivered, RawLag: -1, ParsedLag: -1, RSSMiB: map[string]float64{}}
	// Where the backlog sits: the consumer groups' lag on the two topics
	// (from committed offsets, so it trails by the commit interval). A
	// failed read leaves -1 and is not plotted.
	lctx, cancel := context.WithTimeout(ctx, 800*time.Millisecond)
	lags, err := m.adm.Lag(lctx, m.groups...)
	cancel()
	if err == nil {
		if l, ok := lags[m.groups[0]]; ok && l.Error() == nil {
			s.RawLag = l.Lag.Total()
		}
		if l, ok := lags[m.groups[1]]; ok && l.Error() == nil {
			s.ParsedLag = l.Lag.Total()
		}
	}
	if dt := s.T - m.last.T; dt > 0 {
		s.Rate = float64(s.Delivered-m.last.Delivered) / dt
	}
	for _, p := range m.procs {
		ps, err := ReadProc(p.PID())
		if err != nil {
			return s, fmt.Errorf("%s: %w", p.Name, err)
		}
		s.RSSMiB[p.Name] = mib(ps.RSS)
	}
	m.last = s
	if m.out != nil && now.Sub(m.lastPrint) >= m.every {
		m.lastPrint = now
		phase := m.phase
		if phase == "" {
			phase = "write"
		}
		rate := 0.0
		if dt := s.T - m.printed.T; dt > 0 {
			rate = float64(s.Delivered-m.printed.Delivered) / dt
		}
		m.printed = s
		fmt.Fprintf(m.out, "bench-e2e %4.0fs %-5s written %9d delivered %9d %7.0f lines/s  backlog %7d (raw lag %7d, parsed lag %7d)  RSS MiB %.0f/%.0f/%.0f\n",
			s.T, phase, s.Written, s.Delivered, rate, s.Backlog, s.RawLag, s.ParsedLag,
			s.RSSMiB["shipper"], s.RSSMiB["parser"], s.RSSMiB["indexer"])
	}
	return s, nil
}

// finish fills the result from the ledger and the process readings taken
// when the workload started (base) and when the run ended (final).
func (m *monitor) finish(res *Result, base, final map[string]ProcStats) {
	c := m.ledger.Counts()
	first, last := m.ledger.Span()
	res.Counts = c
	res.Lost = m.ledger.Lost()
	if !first.IsZero() && last.After(first) {
		res.Seconds = last.Sub(first).Seconds()
		res.LinesPerSec = float64(c.Delivered) / res.Seconds
	}
	p50, p99, mx := m.ledger.DelayQuantiles()
	res.DelayP50, res.DelayP99, res.DelayMax = p50.Seconds(), p99.Seconds(), mx.Seconds()
	for _, name := range Services {
		cpu := (final[name].CPU - base[name].CPU).Seconds()
		sv := ServiceResult{Name: name, CPUSeconds: cpu, PeakRSSMiB: mib(final[name].HWM)}
		if c.Delivered > 0 {
			sv.CPUPerMLines = cpu / float64(c.Delivered) * 1e6
		}
		res.Services = append(res.Services, sv)
	}
}

// freePort returns a loopback address no one listens on now.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// profile takes each service's CPU profile over the middle half of the
// writing and its heap profile at the end of it, saving them in dir; the
// channel is closed when all are saved (or failed, which is reported on
// progress and does not fail the run).
func profile(ctx context.Context, s Setup, dir string, writing time.Duration, progress io.Writer) <-chan struct{} {
	done := make(chan struct{})
	var wg sync.WaitGroup
	get := func(name, kind, query string, wait time.Duration) {
		defer wg.Done()
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		pctx, cancel := context.WithTimeout(ctx, writing+30*time.Second)
		defer cancel()
		url := "http://" + s.Metrics[name] + "/debug/pprof/" + query
		err := func() error {
			req, err := http.NewRequestWithContext(pctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s", resp.Status)
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+"."+kind+".pprof"), b, 0o644)
		}()
		if err != nil && progress != nil {
			fmt.Fprintf(progress, "bench-e2e: %s %s profile: %v\n", name, kind, err)
		}
	}
	secs := max(int(writing.Seconds()/2), 1)
	for _, name := range Services {
		wg.Add(2)
		go get(name, "cpu", "profile?seconds="+strconv.Itoa(secs), writing/4)
		go get(name, "heap", "heap", writing-time.Second)
	}
	go func() { wg.Wait(); close(done) }()
	return done
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
