package tail

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sluice-io/sluice/services/shipper/internal/checkpoint"
)

// env is a fake node: <dir>/pods/<ns>_<pod>_<uid>/<container>/<n>.log and
// <dir>/containers/<pod>_<ns>_<container>-<id>.log symlinks.
type env struct {
	tb        testing.TB
	dir       string
	pods      string
	links     string
	statePath string
	cfg       Config
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	dir := tb.TempDir()
	e := &env{tb: tb, dir: dir, pods: filepath.Join(dir, "pods"), links: filepath.Join(dir, "containers"),
		statePath: filepath.Join(dir, "state", "checkpoint.json")}
	for _, d := range []string{e.pods, e.links} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	e.cfg = DefaultConfig()
	e.cfg.Include = []string{filepath.Join(e.links, "*.log")}
	e.cfg.Roots = []string{e.pods, e.links}
	e.cfg.PollInterval = 5 * time.Millisecond
	e.cfg.CheckpointInterval = 10 * time.Millisecond
	e.cfg.DeletedGrace = 30 * time.Millisecond
	e.cfg.ReadBufferBytes = 4 << 10
	e.cfg.MaxEventBytes = 64 << 10
	return e
}

// container creates the pod directory and the symlink for one container
// and returns the path of its 0.log (not yet created).
func (e *env) container(name string) string {
	e.tb.Helper()
	d := filepath.Join(e.pods, "ns_pod-"+name+"_uid", name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		e.tb.Fatal(err)
	}
	p := filepath.Join(d, "0.log")
	if err := os.Symlink(p, filepath.Join(e.links, "pod-"+name+"_ns_"+name+"-abc.log")); err != nil {
		e.tb.Fatal(err)
	}
	return p
}

func appendFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// criLine formats one CRI record with a unique, increasing timestamp.
func criLine(seq int, stream, tag, msg string) string {
	ts := time.Date(2024, 4, 13, 7, 59, 37, 0, time.UTC).Add(time.Duration(seq) * time.Microsecond)
	return fmt.Sprintf("%s %s %s %s\n", ts.Format(time.RFC3339Nano), stream, tag, msg)
}

func dockerLine(seq int, stream, log string) string {
	ts := time.Date(2024, 4, 13, 7, 59, 37, 0, time.UTC).Add(time.Duration(seq) * time.Microsecond)
	b, _ := jsonString(log)
	return fmt.Sprintf(`{"log":%s,"stream":"%s","time":"%s"}`+"\n", b, stream, ts.Format(time.RFC3339Nano))
}

func (e *env) openStore() *checkpoint.Store {
	e.tb.Helper()
	s, err := checkpoint.Open(e.statePath)
	if err != nil {
		e.tb.Fatal(err)
	}
	return s
}

// got is an event copied out of emit.
type got struct {
	Path, Target, FP string
	Content          string
	Stream           string
	Offset, End      int64
	Truncated        bool
	Flags            []string
	Time             int64
	ReadAt, Emitted  time.Time
}

// run is one running Tailer with a collecting emit.
type run struct {
	tb     testing.TB
	t      *Tailer
	store  *checkpoint.Store
	cancel context.CancelFunc
	done   chan error

	mu     sync.Mutex
	events []got
	// ackMode: "all" acks every event on emit; "none" acks nothing.
	autoAck bool
	block   chan struct{} // when non-nil, emit waits on it
}

func (e *env) start(autoAck bool) *run {
	e.tb.Helper()
	return e.startWith(e.cfg, e.openStore(), autoAck)
}

func (e *env) startWith(cfg Config, store *checkpoint.Store, autoAck bool) *run {
	e.tb.Helper()
	return e.startRun(cfg, store, autoAck, nil)
}

// startBlocked starts a run whose emit waits until unblock is called.
func (e *env) startBlocked(autoAck bool) (r *run, unblock func()) {
	e.tb.Helper()
	ch := make(chan struct{})
	r = e.startRun(e.cfg, e.openStore(), autoAck, ch)
	return r, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.block != nil {
			close(r.block)
			r.block = nil
		}
	}
}

func (e *env) startRun(cfg Config, store *checkpoint.Store, autoAck bool, block chan struct{}) *run {
	e.tb.Helper()
	var logger *slog.Logger
	if os.Getenv("TAIL_DEBUG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	tl, err := New(cfg, store, logger)
	if err != nil {
		e.tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{tb: e.tb, t: tl, store: store, cancel: cancel, done: make(chan error, 1), autoAck: autoAck, block: block}
	go func() {
		r.done <- tl.Run(ctx, func(ctx context.Context, ev Event) error {
			r.mu.Lock()
			blk := r.block
			r.mu.Unlock()
			if blk != nil {
				select {
				case <-blk:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			g := got{Path: ev.Path, Target: ev.Target, FP: ev.Fingerprint, Content: string(ev.Content),
				Stream: ev.Stream.String(), Offset: ev.Offset, End: ev.End, Truncated: ev.Truncated,
				Flags: append([]string(nil), ev.Flags...), Time: ev.Time, ReadAt: ev.ReadAt, Emitted: time.Now()}
			r.mu.Lock()
			r.events = append(r.events, g)
			r.mu.Unlock()
			if r.autoAck {
				tl.Ack(ev.Fingerprint, ev.End)
			}
			return nil
		})
	}()
	e.tb.Cleanup(func() { r.stop() })
	return r
}

// stop cancels Run and waits for it.
func (r *run) stop() {
	r.tb.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			r.tb.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		r.tb.Fatal("Run did not return")
	}
}

func (r *run) snapshot() []got {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]got(nil), r.events...)
}

// waitN waits until at least n events arrived.
func (r *run) waitN(n int, timeout time.Duration) []got {
	r.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs := r.snapshot()
		if len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			r.tb.Fatalf("got %d events, want %d: %s", len(evs), n, summarize(evs))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func waitUntil(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Errorf("timed out waiting for %s", what)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func summarize(evs []got) string {
	var b bytes.Buffer
	for i, e := range evs {
		if i == 20 {
			fmt.Fprintf(&b, "… (%d more)", len(evs)-20)
			break
		}
		c := e.Content
		if len(c) > 40 {
			c = c[:40] + "…"
		}
		fmt.Fprintf(&b, "\n  [%d,%d) %s %q %v", e.Offset, e.End, e.Stream, c, e.Flags)
	}
	return b.String()
}

func jsonString(s string) (string, error) {
	var b bytes.Buffer
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}
