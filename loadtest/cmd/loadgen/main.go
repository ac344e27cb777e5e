// Command loadgen writes container log lines for Sluice to ship: nginx
// access lines in CRI format, each carrying its pod and a per-pod sequence
// number (so a verifier can find every missing or repeated line), at a
// target rate spread over many pods.
//
// File mode lays files out as a node does: the real file at
// <pods-dir>/<ns>_<pod>_<uid>/<container>/0.log and a symlink
// <dir>/<pod>_<ns>_<container>-<id>.log, rotated like the kubelet
// (rename to 0.log.<timestamp>, gzip older rotated files, keep
// -max-files). It resumes each pod's sequence from its files, so a
// restarted generator never repeats a number.
//
//	loadgen -dir /var/log/containers -rate 200          # the docker-compose demo workload
//	loadgen -dir /tmp/logs/containers -pods 50 -rate 20000 -rotate-bytes 1MiB -duration 5m
//
// Kafka mode produces sluice.logs.v1.RawRecord values straight into the
// raw topic, keyed as the shipper keys them, to load the parsers and the
// indexer without files or a shipper:
//
//	loadgen -kafka localhost:9092 -pods 20 -rate 50000 -duration 1m
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/loadtest/gen"
)

type options struct {
	dir, podsDir string
	pods         int
	rate         int
	duration     time.Duration
	lineBytes    int
	rotateBytes  int64
	maxFiles     int
	namespaces   []string
	kafka        []string
	topic, node  string
	seed         uint64
	reportEvery  time.Duration
}

func main() {
	var o options
	var rotate, namespaces, brokers string
	flag.StringVar(&o.dir, "dir", "/var/log/containers", "directory for the kubelet-style symlinks the shipper tails")
	flag.StringVar(&o.podsDir, "pods-dir", "", "directory for the real log files (default: pods beside -dir, e.g. /var/log/pods)")
	flag.IntVar(&o.pods, "pods", 4, "pods (containers) writing")
	flag.IntVar(&o.rate, "rate", 200, "lines per second over all pods")
	flag.DurationVar(&o.duration, "duration", 0, "how long to write; 0 until interrupted")
	flag.IntVar(&o.lineBytes, "line-bytes", 200, "approximate line size in bytes (padded in the referrer)")
	flag.StringVar(&rotate, "rotate-bytes", "10MiB", "rotate a pod's file at this size, like the kubelet's containerLogMaxSize; 0 never")
	flag.IntVar(&o.maxFiles, "max-files", 5, "files kept per container, the current one included (containerLogMaxFiles)")
	flag.StringVar(&namespaces, "namespaces", "shop,payments,search", "namespaces the pods are spread over")
	flag.StringVar(&brokers, "kafka", "", "comma-separated Kafka brokers: produce raw records instead of writing files")
	flag.StringVar(&o.topic, "topic", "logs.raw", "raw topic for -kafka")
	flag.StringVar(&o.node, "node", "loadgen", "node name in raw records for -kafka")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the generated addresses and statuses")
	flag.DurationVar(&o.reportEvery, "report", 10*time.Second, "how often to print progress; 0 never")
	flag.Parse()
	n, err := parseBytes(rotate)
	if err != nil {
		fail(2, "-rotate-bytes: %v", err)
	}
	o.rotateBytes = n
	o.namespaces = split(namespaces)
	o.kafka = split(brokers)
	if o.pods < 1 || o.rate < 1 || len(o.namespaces) == 0 {
		fail(2, "-pods, -rate and -namespaces must be positive")
	}
	if o.podsDir == "" {
		o.podsDir = filepath.Join(filepath.Dir(filepath.Clean(o.dir)), "pods")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	if len(o.kafka) > 0 {
		err = runKafka(ctx, o)
	} else {
		err = runFiles(ctx, o)
	}
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		fail(1, "%v", err)
	}
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(code)
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseBytes reads 0, 1048576, 512KiB, 10MiB, 1GiB (also KB/MB/GB as
// powers of two, as the kubelet reads containerLogMaxSize "10Mi").
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30},
		{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
}

// pace calls write(n) every tick with the lines owed for the time that
// actually passed, so a slow tick does not lower the rate, until ctx ends.
func pace(ctx context.Context, rate int, write func(n int) error) error {
	const tick = 50 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	last := time.Now()
	var owed float64
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-t.C:
			owed += float64(rate) * now.Sub(last).Seconds()
			last = now
			n := int(owed)
			owed -= float64(n)
			// Bound the catch-up after a long stall (a suspended
			// container) to one second of lines.
			n = min(n, rate)
			if n > 0 {
				if err := write(n); err != nil {
					return err
				}
			}
		}
	}
}

// spread writes n lines over k sinks in turn, starting where the last call
// stopped, so low rates still reach every pod.
type spread struct{ next int }

func (s *spread) each(n, k int, f func(i, lines int) error) error {
	per, extra := n/k, n%k
	for j := 0; j < k; j++ {
		i := (s.next + j) % k
		lines := per
		if j < extra {
			lines++
		}
		if lines > 0 {
			if err := f(i, lines); err != nil {
				return err
			}
		}
	}
	s.next = (s.next + extra) % k
	return nil
}

func runFiles(ctx context.Context, o options) error {
	var pods []*gen.RotatingPod
	for i := 0; i < o.pods; i++ {
		p, err := gen.NewRotatingPod(gen.PodOptions{
			Namespace: o.namespaces[i%len(o.namespaces)], Name: fmt.Sprintf("web-%d", i), Container: "nginx",
			PodsDir: o.podsDir, ContainersDir: o.dir,
			RotateBytes: o.rotateBytes, MaxFiles: o.maxFiles, LineBytes: o.lineBytes, Seed: o.seed + uint64(i),
		})
		if err != nil {
			return err
		}
		defer p.Close()
		pods = append(pods, p)
	}
	fmt.Fprintf(os.Stderr, "loadgen: %d pods, %d lines/s into %s (files under %s), rotating at %d bytes, keeping %d\n",
		o.pods, o.rate, o.dir, o.podsDir, o.rotateBytes, o.maxFiles)
	stat := func() (lines int64, rotations int) {
		for _, p := range pods {
			lines += p.Seq()
			rotations += p.Rotations()
		}
		return
	}
	start, _ := stat()
	began := time.Now()
	stopReport := every(ctx, o.reportEvery, func() {
		n, r := stat()
		fmt.Fprintf(os.Stderr, "loadgen: %d lines written (%.0f/s), %d rotations\n", n-start, float64(n-start)/time.Since(began).Seconds(), r)
	})
	defer stopReport()
	var s spread
	err := pace(ctx, o.rate, func(n int) error {
		return s.each(n, len(pods), func(i, lines int) error {
			_, err := pods[i].Write(lines)
			return err
		})
	})
	n, r := stat()
	fmt.Fprintf(os.Stderr, "loadgen: stopped after %d lines, %d rotations; last sequence per pod:", n-start, r)
	for _, p := range pods {
		fmt.Fprintf(os.Stderr, " %s=%d", p.Key(), p.Seq())
	}
	fmt.Fprintln(os.Stderr)
	return err
}

func runKafka(ctx context.Context, o options) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(o.kafka...), kgo.DefaultProduceTopic(o.topic),
		kgo.ProducerBatchCompression(kgo.SnappyCompression()), kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedBytes(64<<20))
	if err != nil {
		return err
	}
	defer cl.Close()
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	streams := make([]*gen.RawStream, o.pods)
	for i := range streams {
		streams[i] = gen.NewRawStream(o.namespaces[i%len(o.namespaces)], fmt.Sprintf("web-%d", i), "nginx", o.node, run, o.lineBytes, o.seed+uint64(i))
	}
	fmt.Fprintf(os.Stderr, "loadgen: %d streams, %d records/s into %s on %v (run %s)\n", o.pods, o.rate, o.topic, o.kafka, run)
	var produced, acked, failed atomic.Int64
	errc := make(chan error, 1)
	began := time.Now()
	stopReport := every(ctx, o.reportEvery, func() {
		fmt.Fprintf(os.Stderr, "loadgen: %d records produced (%.0f/s)\n", produced.Load(), float64(produced.Load())/time.Since(began).Seconds())
	})
	defer stopReport()
	var s spread
	err = pace(ctx, o.rate, func(n int) error {
		now := time.Now()
		return s.each(n, len(streams), func(i, lines int) error {
			for ; lines > 0; lines-- {
				key, val, err := streams[i].Next(now)
				if err != nil {
					return err
				}
				produced.Add(1)
				// A context without the deadline: records already handed
				// over are delivered, not cut off by -duration.
				cl.Produce(context.WithoutCancel(ctx), &kgo.Record{Key: key, Value: val}, func(_ *kgo.Record, err error) {
					if err != nil {
						failed.Add(1)
						select {
						case errc <- err:
						default:
						}
						return
					}
					acked.Add(1)
				})
			}
			select {
			case err := <-errc:
				return fmt.Errorf("producing: %w", err)
			default:
				return nil
			}
		})
	})
	fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ferr := cl.Flush(fctx); ferr != nil {
		return fmt.Errorf("flushing: %w", ferr)
	}
	fmt.Fprintf(os.Stderr, "loadgen: stopped after %d records, %d acknowledged, %d failed; last sequence per stream:", produced.Load(), acked.Load(), failed.Load())
	for _, st := range streams {
		fmt.Fprintf(os.Stderr, " %s=%d", st.Key(), st.Seq())
	}
	fmt.Fprintln(os.Stderr)
	return err
}

// every runs f every d until the returned function is called or ctx ends.
func every(ctx context.Context, d time.Duration, f func()) func() {
	if d <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				f()
			}
		}
	}()
	return cancel
}
