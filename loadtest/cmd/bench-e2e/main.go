// Command bench-e2e is the end-to-end benchmark (`make bench-e2e`): it
// builds the shipper, parser and indexer, runs them as separate processes on
// the real Kafka broker of scripts/infra, writes CRI nginx access lines into
// kubelet-style files, receives the indexer's bulk requests itself, and ends
// with one summary line plus a JSON and an HTML report.
//
//	bench-e2e -duration 30s -rate 0 -partitions 6 -pods 12 -out bin/bench-e2e
//	bench-e2e -opensearch    # index into OpenSearch (scripts/infra/search-up.sh)
//	bench-e2e -profile       # also save the services' CPU and heap profiles
//
// It exits 1 when a line was lost or duplicated, 2 when the run failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-io/sluice/loadtest/benche2e"
)

func main() {
	var (
		c          benche2e.Config
		brokers    = flag.String("brokers", "", "Kafka brokers, comma-separated; empty starts scripts/infra/kafka-up.sh and uses 127.0.0.1:${SLUICE_KAFKA_PORT:-19092}")
		openSearch = flag.Bool("opensearch", false, "index into a real OpenSearch (through the harness, which still counts every line) instead of the discarding bulk server")
		searchURL  = flag.String("search-url", "", "with -opensearch: the engine's URL; empty starts scripts/infra/search-up.sh and uses http://127.0.0.1:${SLUICE_SEARCH_PORT:-19200}")
		out        = flag.String("out", "bin/bench-e2e", "output directory for bench-e2e.json, bench-e2e.html and the run's configurations and service logs")
		binDir     = flag.String("bin", ".cache/bench-e2e/bin", "where the service binaries are built")
		repo       = flag.String("repo", ".", "the repository root (the go.work workspace) the services are built from")
		keep       = flag.Bool("keep", false, "keep the generated pod log files")
	)
	flag.DurationVar(&c.Duration, "duration", 30*time.Second, "how long the workload writes")
	flag.DurationVar(&c.Drain, "drain", time.Minute, "how long to wait afterwards for the last lines")
	flag.Float64Var(&c.Rate, "rate", 0, "lines per second over all pods; 0 writes as fast as the pipeline drains")
	flag.IntVar(&c.Partitions, "partitions", 6, "partitions of the raw and parsed topics")
	flag.IntVar(&c.Pods, "pods", 12, "generated pod log files")
	flag.BoolVar(&c.Profile, "profile", false, "turn admin.pprof on and save each service's CPU profile (middle half of the writing) and heap profile (end of it) in OUT/run")
	flag.Parse()
	ok, err := run(&c, *brokers, *openSearch, *searchURL, *out, *binDir, *repo, *keep)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-e2e: %v\n", err)
		os.Exit(2)
	}
	if !ok {
		fmt.Fprintln(os.Stderr, "bench-e2e: lines were lost or duplicated")
		os.Exit(1)
	}
}

// run returns false when lines were lost or duplicated.
func run(c *benche2e.Config, brokers string, openSearch bool, searchURL, out, binDir, repo string, keep bool) (bool, error) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return false, fmt.Errorf("needs Linux /proc to measure the services: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if brokers == "" {
		if err := infra(ctx, repo, "kafka-up.sh"); err != nil {
			return false, err
		}
		brokers = "127.0.0.1:" + envOr("SLUICE_KAFKA_PORT", "19092")
	}
	c.Brokers = strings.Split(brokers, ",")
	for _, b := range c.Brokers {
		if err := loopback(b); err != nil {
			return false, fmt.Errorf("-brokers: %w", err)
		}
	}
	if openSearch {
		if searchURL == "" {
			if err := infra(ctx, repo, "search-up.sh"); err != nil {
				return false, err
			}
			searchURL = "http://127.0.0.1:" + envOr("SLUICE_SEARCH_PORT", "19200")
		}
		u, err := url.Parse(searchURL)
		if err != nil {
			return false, fmt.Errorf("-search-url: %w", err)
		}
		if err := loopback(u.Host); err != nil {
			return false, fmt.Errorf("-search-url: %w", err)
		}
		c.SearchURL, c.Flavor = searchURL, "opensearch"
	}

	fmt.Fprintln(os.Stderr, "bench-e2e: building the services")
	if err := benche2e.Build(ctx, repo, binDir); err != nil {
		return false, err
	}
	c.BinDir = binDir
	work, err := filepath.Abs(filepath.Join(out, "run"))
	if err != nil {
		return false, err
	}
	c.WorkDir = work
	if err := os.RemoveAll(c.WorkDir); err != nil {
		return false, err
	}
	if !keep {
		defer os.RemoveAll(filepath.Join(c.WorkDir, "pods"))
		defer os.RemoveAll(filepath.Join(c.WorkDir, "containers"))
	}
	c.Progress = os.Stderr
	fmt.Fprintf(os.Stderr, "bench-e2e: %v of writing on %s, configurations and service logs in %s\n", c.Duration, brokers, c.WorkDir)
	res, err := benche2e.Run(ctx, *c)
	if err != nil {
		return false, err
	}
	jsonPath, htmlPath, err := res.Save(out)
	if err != nil {
		return false, err
	}
	fmt.Println(res.Summary())
	fmt.Fprintf(os.Stderr, "bench-e2e: wrote %s and %s\n", jsonPath, htmlPath)
	return res.OK(), nil
}

// infra runs one of the scripts/infra start scripts; they are idempotent
// and share a running service.
func infra(ctx context.Context, repo, script string) error {
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(repo, "scripts", "infra", script))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scripts/infra/%s: %w", script, err)
	}
	return nil
}

// loopback refuses addresses off this machine: the benchmark generates
// heavy traffic and must not send it anywhere else.
func loopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%q is not a loopback address; the benchmark only talks to 127.0.0.1", hostport)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
