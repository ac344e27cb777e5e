package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/bulktest"
	"github.com/sluice-io/sluice/libs/kafkatest"
	"github.com/sluice-io/sluice/loadtest/gen"
	"github.com/sluice-io/sluice/loadtest/report"
	"github.com/sluice-io/sluice/loadtest/stack"
	"github.com/sluice-io/sluice/loadtest/verify"
	shippercfg "github.com/sluice-io/sluice/services/shipper/config"
)

// ThroughputConfig configures an end-to-end throughput measurement.
type ThroughputConfig struct {
	// Mode "files" (default) writes Lines into pod log files first and
	// times shipper → Kafka → parsers → indexer; "kafka" produces Lines
	// raw records into the raw topic first and times parsers → indexer.
	Mode string
	// Lines to push through; default 200000.
	Lines int64
	// Pods (files or record keys); default 8.
	Pods int
	// Parsers replicas; default 2.
	Parsers int
	// LineBytes is the approximate line size; default 200.
	LineBytes int
	// Dir is the working directory; default tb.TempDir().
	Dir string
	// Timeout bounds the measurement; default 10 minutes.
	Timeout time.Duration
	// Progress receives a progress line; nil for none.
	Progress io.Writer
	// Log receives the services' logs; default discards.
	Log *slog.Logger
}

// MeasureThroughput pushes Lines through the pipeline on embedded Kafka
// into a bulk-API server that accepts and discards every document, and
// reports lines per second and the process's peak memory. The clock runs
// from the start of the services (their start-up included) to the last
// document accepted; the input is prepared before, so the generator does
// not compete for CPU.
func MeasureThroughput(ctx context.Context, tb testing.TB, tc ThroughputConfig) (report.Throughput, report.Run, error) {
	if tc.Mode == "" {
		tc.Mode = "files"
	}
	if tc.Lines == 0 {
		tc.Lines = 200_000
	}
	if tc.Pods == 0 {
		tc.Pods = 8
	}
	if tc.Parsers == 0 {
		tc.Parsers = 2
	}
	if tc.LineBytes == 0 {
		tc.LineBytes = 200
	}
	if tc.Timeout == 0 {
		tc.Timeout = 10 * time.Minute
	}
	if tc.Dir == "" {
		tc.Dir = tb.TempDir()
	}
	ctx, cancel := context.WithTimeout(ctx, tc.Timeout)
	defer cancel()
	out := report.Throughput{Mode: tc.Mode, Pods: tc.Pods, Parsers: tc.Parsers}
	run := report.Run{Name: "throughput-" + tc.Mode, Scenario: "throughput",
		Params: report.Params{Pods: tc.Pods, Parsers: tc.Parsers, LineBytes: tc.LineBytes}}

	es := bulktest.New(tb, bulktest.WithDiscard())
	opts := stack.Options{Dir: tc.Dir, SearchURL: es.URL(), Parsers: tc.Parsers, Log: tc.Log, Node: "loadtest"}
	var bytes int64
	switch tc.Mode {
	case "files":
		podsDir, containersDir := filepath.Join(tc.Dir, "pods"), filepath.Join(tc.Dir, "containers")
		opts.LogDir = containersDir
		opts.TuneShipper = func(c *shippercfg.Config) { c.Tail.Roots = append(c.Tail.Roots, podsDir) }
		n, err := writeFiles(podsDir, containersDir, tc)
		if err != nil {
			return out, run, err
		}
		bytes = n
	case "kafka":
		emb, err := kafkatest.StartEmbedded(1, "", 6, stack.RawTopic, stack.ParsedTopic, stack.DLQTopic)
		if err != nil {
			return out, run, err
		}
		defer emb.Close()
		opts.Brokers = emb.Brokers()
		n, err := produceRaw(ctx, emb.Brokers(), tc)
		if err != nil {
			return out, run, err
		}
		bytes = n
	default:
		return out, run, fmt.Errorf("unknown mode %q (want files or kafka)", tc.Mode)
	}
	out.Lines, out.Bytes = tc.Lines, bytes

	peakHeap := &peak{}
	stopPeak := peakHeap.sample(100 * time.Millisecond)
	start := time.Now()
	st, err := stack.Start(ctx, opts)
	if err != nil {
		stopPeak()
		return out, run, err
	}
	defer st.Stop()
	var last int
	lastT := start
	lastPrint := time.Time{}
	for es.Count() < int(tc.Lines) {
		select {
		case <-ctx.Done():
			stopPeak()
			return out, run, fmt.Errorf("%d of %d lines indexed when the measurement timed out: %w", es.Count(), tc.Lines, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
		now, n := time.Now(), es.Count()
		t := now.Sub(start).Seconds()
		rate := float64(n-last) / now.Sub(lastT).Seconds()
		run.Series.Indexed = append(run.Series.Indexed, verify.Point{T: t, V: float64(n)})
		run.Series.IndexRate = append(run.Series.IndexRate, verify.Point{T: t, V: rate})
		run.Series.Lag = append(run.Series.Lag, verify.Point{T: t, V: float64(tc.Lines - int64(n))})
		last, lastT = n, now
		if tc.Progress != nil && now.Sub(lastPrint) >= progressEvery(tc.Progress) {
			lastPrint = now
			fmt.Fprintf(tc.Progress, "%sthroughput-%s %5.1fs  indexed %8d of %d  %6.0f lines/s  heap %4.0fMiB%s",
				clearLine(tc.Progress), tc.Mode, t, n, tc.Lines, rate, float64(peakHeap.last.Load())/(1<<20), lineEnd(tc.Progress))
		}
	}
	elapsed := time.Since(start)
	stopPeak()
	out.Seconds = elapsed.Seconds()
	out.LinesPerSec = float64(tc.Lines) / out.Seconds
	out.MBPerSec = float64(bytes) / (1 << 20) / out.Seconds
	out.PeakHeapMB = float64(peakHeap.max.Load()) / (1 << 20)
	out.PeakRSSMB = float64(PeakRSS()) / (1 << 20)
	run.OK, run.Seconds = true, out.Seconds
	run.Params.Seconds = out.Seconds
	run.Result = verify.Result{Written: tc.Lines, Indexed: int64(es.Count()), Reordered: -1}
	if tc.Progress != nil {
		fmt.Fprintf(tc.Progress, "%sthroughput-%s: %d lines in %.1fs = %.0f lines/s (%.1f MB/s); peak RSS %.0f MiB, peak heap %.0f MiB\n",
			clearLine(tc.Progress), tc.Mode, tc.Lines, out.Seconds, out.LinesPerSec, out.MBPerSec, out.PeakRSSMB, out.PeakHeapMB)
	}
	return out, run, nil
}

// writeFiles writes tc.Lines lines over tc.Pods pod files and returns the
// bytes written. The files are not rotated: a shipper starting on a node
// skips rotated files that predate it (they are history, not backlog).
func writeFiles(podsDir, containersDir string, tc ThroughputConfig) (int64, error) {
	var total int64
	for i := 0; i < tc.Pods; i++ {
		p, err := gen.NewRotatingPod(gen.PodOptions{
			Namespace: "bench", Name: fmt.Sprintf("web-%d", i), Container: "nginx",
			PodsDir: podsDir, ContainersDir: containersDir,
			LineBytes: tc.LineBytes, Seed: uint64(i),
		})
		if err != nil {
			return 0, err
		}
		n := tc.Lines / int64(tc.Pods)
		if int64(i) < tc.Lines%int64(tc.Pods) {
			n++
		}
		for n > 0 {
			k := min(n, 1000)
			w, err := p.Write(int(k))
			total += int64(w)
			if err != nil {
				p.Close()
				return total, err
			}
			n -= k
		}
		if err := p.Close(); err != nil {
			return total, err
		}
	}
	return total, nil
}

// produceRaw produces tc.Lines raw records over tc.Pods streams and
// returns the bytes of the lines.
func produceRaw(ctx context.Context, brokers []string, tc ThroughputConfig) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(stack.RawTopic),
		kgo.ProducerBatchCompression(kgo.SnappyCompression()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	streams := make([]*gen.RawStream, tc.Pods)
	for i := range streams {
		streams[i] = gen.NewRawStream("bench", fmt.Sprintf("web-%d", i), "nginx", "loadtest", strconv.FormatInt(time.Now().UnixNano(), 36), tc.LineBytes, uint64(i))
	}
	var firstErr atomic.Pointer[error]
	var total int64
	now := time.Now()
	for n := int64(0); n < tc.Lines; n++ {
		key, val, err := streams[n%int64(len(streams))].Next(now)
		if err != nil {
			return total, err
		}
		total += int64(tc.LineBytes)
		cl.Produce(ctx, &kgo.Record{Key: key, Value: val}, func(_ *kgo.Record, err error) {
			if err != nil {
				firstErr.CompareAndSwap(nil, &err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return total, err
	}
	if e := firstErr.Load(); e != nil {
		return total, *e
	}
	return total, nil
}

// peak samples the live heap and keeps its maximum.
type peak struct {
	max, last atomic.Uint64
}

func (p *peak) sample(every time.Duration) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			metrics.Read(s)
			v := s[0].Value.Uint64()
			p.last.Store(v)
			if v > p.max.Load() {
				p.max.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// PeakRSS returns the process's peak resident set size (VmHWM) in bytes,
// 0 where /proc is not available.
func PeakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
