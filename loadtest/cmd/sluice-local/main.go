// Command sluice-local runs the whole pipeline on one machine with nothing
// installed but Go: an embedded Kafka cluster, the shipper tailing a demo
// log directory that a generator fills with nginx access lines in CRI
// format, two parsers and the indexer. Documents go to Elasticsearch when
// ES_URL is set, and to an NDJSON file otherwise.
//
//	go run ./loadtest/cmd/sluice-local              # 15 s demo, then a summary
//	go run ./loadtest/cmd/sluice-local -duration 0  # until Ctrl-C
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-io/sluice/loadtest/gen"
	"github.com/sluice-io/sluice/loadtest/stack"
)

func main() {
	dir := flag.String("dir", "", "working directory (default: a new temporary directory)")
	duration := flag.Duration("duration", 15*time.Second, "how long the demo generator writes; 0 runs until interrupted")
	pods := flag.Int("pods", 4, "demo pods writing logs")
	rate := flag.Int("rate", 200, "lines per second per pod")
	verbose := flag.Bool("v", false, "print the services' logs")
	adminPort := flag.Int("admin-port", 9090, "first of the loopback admin API ports (shipper, indexer, parsers); 0 picks free ports")
	flag.Parse()
	if err := run(*dir, *duration, *pods, *rate, *adminPort, *verbose); err != nil {
		fmt.Fprintf(os.Stderr, "sluice-local: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string, duration time.Duration, pods, rate, adminPort int, verbose bool) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "sluice-local-")
		if err != nil {
			return err
		}
		dir = d
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	opts := stack.Options{
		Dir:        dir,
		SearchURL:  os.Getenv("ES_URL"),
		Log:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		AdminPorts: adminPort,
	}
	fmt.Printf("sluice-local: working directory %s\n", dir)
	st, err := stack.Start(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Printf("sluice-local: embedded Kafka on %v; shipper tailing %s\n", st.Brokers(), st.LogDir())
	time.Sleep(200 * time.Millisecond) // the admin servers bind as the services start
	admins := st.AdminAddrs()
	var all []string
	for _, name := range []string{"shipper", "parser-0", "parser-1", "indexer"} {
		if a, ok := admins[name]; ok {
			fmt.Printf("sluice-local: %s admin API on %s\n", name, a)
			all = append(all, a)
		}
	}
	if len(all) > 0 {
		fmt.Printf("sluice-local: try  go run ./services/sluicectl/cmd/sluicectl --addr %s top\n", strings.Join(all, ","))
	}

	var writers []*gen.Pod
	for i := 0; i < pods; i++ {
		p, err := gen.NewPod(st.LogDir(), []string{"shop", "payments"}[i%2], fmt.Sprintf("web-%d", i), "nginx")
		if err != nil {
			st.Stop()
			return err
		}
		writers = append(writers, p)
	}
	genCtx := ctx
	if duration > 0 {
		var cancel context.CancelFunc
		genCtx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var written int64
	perTick := max(rate/10, 1)
loop:
	for {
		select {
		case <-genCtx.Done():
			break loop
		case <-tick.C:
			for _, p := range writers {
				if _, err := p.Write(perTick); err != nil {
					st.Stop()
					return err
				}
				written += int64(perTick)
			}
		}
	}
	fmt.Printf("sluice-local: wrote %d lines; waiting for the pipeline to drain\n", written)
	if opts.SearchURL == "" {
		waitForFile(ctx, st.SinkPath(), written, 60*time.Second)
	} else {
		time.Sleep(3 * time.Second)
	}
	st.Stop()
	if opts.SearchURL != "" {
		fmt.Printf("sluice-local: documents indexed into %s (index logs-*)\n", opts.SearchURL)
		return nil
	}
	n, sample := summarize(st.SinkPath())
	fmt.Printf("sluice-local: sample document:\n%s\n", sample)
	fmt.Printf("sluice-local: %d of %d lines indexed as parsed documents in %s\n", n, written, st.SinkPath())
	if n != written {
		return fmt.Errorf("%d lines written but %d documents indexed", written, n)
	}
	return nil
}

func waitForFile(ctx context.Context, path string, want int64, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if n, _ := summarize(path); n >= want {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
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
