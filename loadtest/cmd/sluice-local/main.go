// Command sluice-local runs the whole pipeline on one machine with nothing
// installed but Go: an embedded Kafka cluster, the shipper tailing a demo
// log directory that a generator fills with nginx access lines in CRI
// format, two parsers and the indexer. Documents go to Elasticsearch when
// ES_URL is set, and to an NDJSON file otherwise.
//
//	go run ./loadtest/cmd/sluice-local              # 15 s demo, then a summary
//	go run ./loadtest/cmd/sluice-local -duration 0  # until Ctrl-C
//
// Every service listens on free loopback ports chosen at start (printed), so
// two runs, a local Prometheus (9090) or a local Kafka (9092) do not
// collide; -admin-port fixes them. A progress line every -progress says
// how many lines were written and indexed and the consumer lag. When the
// generator stops, at the end of -duration or on Ctrl-C, the pipeline
// drains first: the run waits until every written line is indexed (at most
// -drain), then stops the services and prints the final count. A second
// Ctrl-C stops at once.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sluice-io/sluice/loadtest/gen"
	"github.com/sluice-io/sluice/loadtest/stack"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// options are the command's flags.
type options struct {
	dir       string
	duration  time.Duration
	pods      int
	rate      int
	verbose   bool
	adminPort int
	progress  time.Duration
	drain     time.Duration
	searchURL string
}

func main() {
	var o options
	flag.StringVar(&o.dir, "dir", "", "working directory (default: a new temporary directory)")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "how long the demo generator writes; 0 runs until interrupted")
	flag.IntVar(&o.pods, "pods", 4, "demo pods writing logs")
	flag.IntVar(&o.rate, "rate", 200, "lines per second per pod")
	flag.BoolVar(&o.verbose, "v", false, "print the services' logs")
	flag.IntVar(&o.adminPort, "admin-port", 0, "first of the loopback admin API ports (shipper, indexer, parsers); 0 picks free ports")
	flag.DurationVar(&o.progress, "progress", 3*time.Second, "interval of the progress line; 0 turns it off")
	flag.DurationVar(&o.drain, "drain", time.Minute, "how long to wait for written lines to be indexed before stopping")
	flag.Parse()
	o.searchURL = os.Getenv("ES_URL")

	// The first signal stops the generator and starts the drain; the
	// second cancels the drain.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	genCtx, stopGen := context.WithCancel(context.Background())
	drainCtx, stopDrain := context.WithCancel(context.Background())
	go func() {
		<-sigs
		fmt.Println("\nsluice-local: interrupted: draining the pipeline (Ctrl-C again to stop at once)")
		stopGen()
		<-sigs
		stopDrain()
	}()
	if err := run(genCtx, drainCtx, o, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "sluice-local: %v\n", err)
		os.Exit(1)
	}
}

// run starts the stack, writes demo lines until genCtx ends or the
// duration is over, drains until every line is indexed or drainCtx ends or
// o.drain passes, and prints the summary to out. It returns an error only
// when lines written were not indexed after the drain.
func run(genCtx, drainCtx context.Context, o options, out io.Writer) error {
	if o.dir == "" {
		d, err := os.MkdirTemp("", "sluice-local-")
		if err != nil {
			return err
		}
		o.dir = d
	}
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	sopts := stack.Options{
		Dir:        o.dir,
		SearchURL:  o.searchURL,
		Log:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		AdminPorts: o.adminPort,
		Metrics:    true,
	}
	fmt.Fprintf(out, "sluice-local: working directory %s\n", o.dir)
	// The services run on a context of their own: a Ctrl-C stops the
	// generator, never the services in the middle of their work.
	st, err := stack.Start(context.Background(), sopts)
	if err != nil {
		return err
	}
	defer st.Stop()
	fmt.Fprintf(out, "sluice-local: embedded Kafka on %v; shipper tailing %s\n", st.Brokers(), st.LogDir())
	admins := waitForAddrs(st, 30*time.Second)
	printAddrs(out, admins, st.MetricsAddrs())

	var writers []*gen.Pod
	for i := 0; i < o.pods; i++ {
		p, err := gen.NewPod(st.LogDir(), []string{"shop", "payments"}[i%2], fmt.Sprintf("web-%d", i), "nginx")
		if err != nil {
			return err
		}
		defer p.Close()
		writers = append(writers, p)
	}
	sink := ""
	if o.searchURL == "" {
		sink = st.SinkPath()
	}
	p := newProbe(sink, admins)
	defer p.close()

	ctx := genCtx
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(genCtx, o.duration)
		defer cancel()
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	progress := newTicker(o.progress)
	defer progress.Stop()
	var written int64
	perTick := max(o.rate/10, 1)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-progress.C:
			p.report(out, "running", written)
		case <-tick.C:
			for _, w := range writers {
				if _, err := w.Write(perTick); err != nil {
					return err
				}
				written += int64(perTick)
			}
		}
	}
	fmt.Fprintf(out, "sluice-local: wrote %d lines; draining\n", written)
	indexed := p.indexed()
	deadline := time.After(o.drain)
	poll := time.NewTicker(200 * time.Millisecond)
	defer poll.Stop()
	// Once every line is indexed the consumers still commit their last
	// offsets; a few seconds more let the drained line show the lag at 0.
	var settled <-chan time.Time
drain:
	for {
		if indexed >= written {
			if pl, il := p.lag(); pl == 0 && il == 0 {
				break
			}
			if settled == nil {
				settled = time.After(10 * time.Second)
			}
		}
		select {
		case <-settled:
			break drain
		case <-drainCtx.Done():
			break drain
		case <-deadline:
			break drain
		case <-progress.C:
			p.report(out, "draining", written)
		case <-poll.C:
			indexed = p.indexed()
		}
	}
	p.report(out, "drained", written)
	st.Stop()
	if o.searchURL == "" {
		_, sample := summarize(st.SinkPath())
		fmt.Fprintf(out, "sluice-local: sample document:\n%s\n", sample)
	}
	where := st.SinkPath()
	if o.searchURL != "" {
		where = o.searchURL + " (index logs-*)"
	}
	fmt.Fprintf(out, "sluice-local: %d of %d lines indexed into %s\n", indexed, written, where)
	if indexed < written {
		return fmt.Errorf("%d of %d lines still in the pipeline when it stopped (drain cut short after %v): not indexed in this run",
			written-indexed, written, o.drain)
	}
	return nil
}

// newTicker is time.NewTicker that never fires for d <= 0.
func newTicker(d time.Duration) *time.Ticker {
	if d <= 0 {
		t := time.NewTicker(time.Hour)
		t.Stop()
		return t
	}
	return time.NewTicker(d)
}

// waitForAddrs waits for every service's admin server to bind, at most d
// (they bind in milliseconds; d allows for a loaded machine).
func waitForAddrs(st *stack.Stack, d time.Duration) map[string]string {
	deadline := time.Now().Add(d)
	for {
		a := st.AdminAddrs()
		if len(a) >= 4 || time.Now().After(deadline) {
			return a
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func printAddrs(out io.Writer, admins, metrics map[string]string) {
	names := make([]string, 0, len(admins))
	for n := range admins {
		names = append(names, n)
	}
	sort.Strings(names)
	var all []string
	for _, n := range names {
		fmt.Fprintf(out, "sluice-local: %-8s admin %s  metrics http://%s/metrics\n", n, admins[n], metrics[n])
		all = append(all, admins[n])
	}
	if len(all) > 0 {
		fmt.Fprintf(out, "sluice-local: try  go run ./services/sluicectl/cmd/sluicectl --addr %s top\n", strings.Join(all, ","))
	}
}

// probe reads the pipeline's progress: documents indexed (the NDJSON sink's
// lines, counted incrementally, or the indexer's counters with a search
// engine) and the consumer lag from the admin APIs.
type probe struct {
	sink  string // the NDJSON sink's path; "" when documents go to a search engine
	conns map[string]*grpc.ClientConn

	sinkOff   int64
	sinkLines int64
}

func newProbe(sink string, admins map[string]string) *probe {
	p := &probe{sink: sink, conns: map[string]*grpc.ClientConn{}}
	for name, addr := range admins {
		if c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials())); err == nil {
			p.conns[name] = c
		}
	}
	return p
}

func (p *probe) close() {
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *probe) stats(name string) *adminv1.GetStatsResponse {
	c := p.conns[name]
	if c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r, err := adminv1.NewAdminServiceClient(c).GetStats(ctx, &adminv1.GetStatsRequest{})
	if err != nil {
		return nil
	}
	return r
}

// indexed returns how many documents are in the output so far.
func (p *probe) indexed() int64 {
	if p.sink != "" {
		return p.countSink()
	}
	c := p.stats("indexer").GetCounters()
	return c["documents_indexed"] + c["documents_already_indexed"]
}

// countSink counts the NDJSON sink's complete lines, reading only what was
// appended since the last call. A partial last line is read again, whole,
// next time.
func (p *probe) countSink() int64 {
	f, err := os.Open(filepath.Clean(p.sink))
	if err != nil {
		return p.sinkLines // not created yet
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	for {
		n, err := f.ReadAt(buf, p.sinkOff)
		chunk := buf[:n]
		last := bytes.LastIndexByte(chunk, '\n')
		if last < 0 {
			if n == len(buf) {
				// One document longer than the buffer: read it whole.
				buf = make([]byte, 2*len(buf))
				continue
			}
			break
		}
		p.sinkLines += int64(bytes.Count(chunk[:last+1], []byte{'\n'}))
		p.sinkOff += int64(last + 1)
		if err != nil {
			break
		}
	}
	return p.sinkLines
}

// lag sums the consumer lag the parsers and the indexer report (each group
// once: the first replica that answers).
func (p *probe) lag() (parser, indexer int64) {
	for name := range p.conns {
		if !strings.HasPrefix(name, "parser") {
			continue
		}
		if r := p.stats(name); r != nil && len(r.GetLag()) > 0 {
			parser = sumLag(r)
			break
		}
	}
	return parser, sumLag(p.stats("indexer"))
}

func sumLag(r *adminv1.GetStatsResponse) int64 {
	var n int64
	for _, l := range r.GetLag() {
		n += l.GetLag()
	}
	return n
}

func (p *probe) report(out io.Writer, phase string, written int64) {
	pl, il := p.lag()
	fmt.Fprintf(out, "sluice-local: %-8s written %d  indexed %d  lag parser %d indexer %d\n", phase, written, p.indexed(), pl, il)
}

// summarize counts the documents in the sink and pretty-prints the last one.
func summarize(path string) (int64, string) {
	f, err := os.Open(filepath.Clean(path))
	if err != nil {
		return 0, ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var n int64
	var last []byte
	for sc.Scan() {
		n++
		last = append(last[:0], sc.Bytes()...)
	}
	var v any
	if json.Unmarshal(last, &v) != nil {
		return n, string(last)
	}
	pretty, _ := json.MarshalIndent(v, "", "  ")
	return n, string(pretty)
}
