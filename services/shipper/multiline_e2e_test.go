package shipper

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/kafkatest"
	"github.com/sluice-io/sluice/libs/service"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/shipper/internal/kube"
	"github.com/sluice-io/sluice/services/shipper/internal/multiline"
)

// criLine is one physical CRI line: stream, P or F, text.
type criLine struct {
	stream, tag, text string
}

func appendCRI(t testing.TB, path string, lines []criLine) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&b, "2026-12-04T10:00:00.%09dZ %s %s %s\n", i, l.stream, l.tag, l.text)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
}

// TestMultilineAcrossRestart writes Java, Python and Go stack traces
// interleaved with ordinary lines on stdout and stderr, some frames split
// into CRI partial lines, aborts the shipper (as kill -9 would) while two
// traces are half written, writes the rest and starts it again: each trace
// must come out as exactly one document, whole, with the offset of its
// first line (so its _id is the same whichever run produced it).
func TestMultilineAcrossRestart(t *testing.T) {
	c := kafkatest.New(t, 1, "logs.raw")
	dir := t.TempDir()
	path := filepath.Join(dir, "api-1_shop_app-"+containerID+".log")
	cfg := testConfig(t, c, dir)
	cfg.Multiline = multiline.Config{Rules: []multiline.Rule{{
		Name: "traces", Type: multiline.TypeBuiltin, Languages: []string{"java", "python", "go"},
		Match: multiline.Selector{Namespaces: []string{"shop"}},
	}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	appendCRI(t, path, []criLine{
		{"stdout", "F", "normal 0"},
		{"stderr", "F", "err normal 0"},
		{"stdout", "F", "java.lang.IllegalStateException: boom"},
		{"stderr", "F", "Traceback (most recent call last):"},
		{"stdout", "F", "\tat com.acme.A.run(A.java:10)"},
		{"stderr", "F", `  File "/app/x.py", line 3, in <module>`},
		{"stdout", "P", "\tat com.acme.Main.ma"},
		{"stderr", "F", "    run()"},
		{"stdout", "F", "in(Main.java:5)"},
	})
	s, err := New(cfg, "test", slog.New(slog.NewTextHandler(testLogWriter(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, abort := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	first := decodeAll(t, c.ReadAll("logs.raw", 2, 30*time.Second))
	if len(first) != 2 {
		t.Fatalf("%d records before the abort, want the 2 plain lines", len(first))
	}
	time.Sleep(3 * cfg.State.Interval.D()) // let checkpoints be saved
	abort(service.ErrAbort)
	if err := <-done; err != nil {
		t.Fatalf("Run after abort: %v", err)
	}

	appendCRI(t, path, []criLine{
		{"stderr", "F", "ValueError: bad"},
		{"stdout", "F", "Caused by: java.io.IOException: disk"},
		{"stdout", "F", "\t... 3 more"},
		{"stdout", "F", "normal 1"},
		{"stdout", "F", "panic: runtime error: index out of range [3] with length 3"},
		{"stdout", "F", ""},
		{"stdout", "F", "goroutine 1 [running]:"},
		{"stderr", "F", "err normal 1"},
		{"stdout", "F", "main.main()"},
		{"stdout", "P", "\t/app/ma"},
		{"stdout", "F", "in.go:9 +0x1d"},
		{"stdout", "F", "exit status 2"},
	})
	stop := startShipper(t, cfg)
	deadline := time.Now().Add(30 * time.Second)
	var recs []*kgo.Record
	for time.Now().Before(deadline) {
		recs = c.ReadAll("logs.raw", 1_000, 500*time.Millisecond)
		if raws := decodeAll(t, recs); len(raws) > 0 && string(raws[len(raws)-1].GetLine()) == "exit status 2" {
			break
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	recs = c.ReadToEnd("logs.raw", 30*time.Second)
	raws := decodeAll(t, recs)

	javaTrace := "java.lang.IllegalStateException: boom\n\tat com.acme.A.run(A.java:10)\n\tat com.acme.Main.main(Main.java:5)\nCaused by: java.io.IOException: disk\n\t... 3 more"
	pyTrace := "Traceback (most recent call last):\n  File \"/app/x.py\", line 3, in <module>\n    run()\nValueError: bad"
	goTrace := "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:9 +0x1d"
	want := map[string]struct {
		lines  int
		stream logsv1.Stream
	}{
		"normal 0": {1, logsv1.Stream_STREAM_STDOUT}, "err normal 0": {1, logsv1.Stream_STREAM_STDERR},
		javaTrace: {5, logsv1.Stream_STREAM_STDOUT}, pyTrace: {4, logsv1.Stream_STREAM_STDERR},
		"normal 1": {1, logsv1.Stream_STREAM_STDOUT}, goTrace: {5, logsv1.Stream_STREAM_STDOUT},
		"err normal 1": {1, logsv1.Stream_STREAM_STDERR}, "exit status 2": {1, logsv1.Stream_STREAM_STDOUT},
	}
	// A document is identified by its source (the _id derives from it).
	docs := map[string][]int64{}
	for i, r := range raws {
		text := string(r.GetLine())
		w, ok := want[text]
		if !ok {
			t.Errorf("record %d is not one of the expected events (a trace split?): %q", i, text)
			continue
		}
		if r.GetStream() != w.stream {
			t.Errorf("%q on %v, want %v", text, r.GetStream(), w.stream)
		}
		joinedFlag := slices.Contains(r.GetFlags(), flagMultiline)
		if joinedFlag != (w.lines > 1) {
			t.Errorf("%q: flags %v", text, r.GetFlags())
		}
		var hdr string
		for _, h := range recs[i].Headers {
			if h.Key == headerLines {
				hdr = string(h.Value)
			}
		}
		if w.lines > 1 && hdr != fmt.Sprint(w.lines) {
			t.Errorf("%q: %s header %q, want %d", text, headerLines, hdr, w.lines)
		}
		off := r.GetSource().GetOffset()
		if !slices.Contains(docs[text], off) {
			docs[text] = append(docs[text], off)
		}
	}
	for text := range want {
		if offs := docs[text]; len(offs) != 1 {
			t.Errorf("%q: %d distinct documents (offsets %v), want exactly 1", text, len(offs), offs)
		}
	}
	t.Logf("%d records for %d documents", len(raws), len(docs))
}

// annotatedMeta gives pod "py" the annotation sluice.io/multiline: python
// for its container "app" only, and pod "plain" none.
type annotatedMeta struct{}

func (annotatedMeta) Lookup(_ string, m kube.Meta) (*logsv1.Kubernetes, string, bool) {
	k := &logsv1.Kubernetes{Namespace: m.Namespace, Pod: m.Pod, Container: m.Container}
	if m.Pod == "py" {
		k.Annotations = map[string]string{multiline.AnnotationMultiline + "-app": "python"}
	}
	return k, "", false
}

// TestMultilineByAnnotation: the per-container annotation selects the
// built-in python rule; a pod without it is shipped line by line.
func TestMultilineByAnnotation(t *testing.T) {
	c := kafkatest.New(t, 1, "logs.raw")
	dir := t.TempDir()
	trace := []criLine{
		{"stderr", "F", "Traceback (most recent call last):"},
		{"stderr", "F", `  File "/app/x.py", line 3, in <module>`},
		{"stderr", "F", "    run()"},
		{"stderr", "F", "ValueError: bad"},
		{"stdout", "F", "ok"},
	}
	appendCRI(t, filepath.Join(dir, "py_shop_app-"+containerID+".log"), trace)
	appendCRI(t, filepath.Join(dir, "plain_shop_app-"+containerID+".log"), trace)
	stop := startShipper(t, testConfig(t, c, dir), WithMetadata(annotatedMeta{}))
	recs := decodeAll(t, c.ReadAll("logs.raw", 7, 30*time.Second))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range recs {
		got[r.GetKubernetes().GetPod()] = append(got[r.GetKubernetes().GetPod()], string(r.GetLine()))
	}
	wantPy := []string{"Traceback (most recent call last):\n  File \"/app/x.py\", line 3, in <module>\n    run()\nValueError: bad", "ok"}
	if !slices.Equal(got["py"], wantPy) {
		t.Errorf("annotated pod: %q, want %q", got["py"], wantPy)
	}
	if len(got["plain"]) != len(trace) {
		t.Errorf("pod without the annotation: %d records, want %d (one per line)", len(got["plain"]), len(trace))
	}
}

// TestMultilineReplayKeepsID: a trace produced before a crash whose
// checkpoint is lost (FAULTS row 16: the shipper falls back to reading the
// file again) is produced again after the restart with the same text and
// the same first-line offset, so it stays one document (create answers 409
// for the replay).
func TestMultilineReplayKeepsID(t *testing.T) {
	c := kafkatest.New(t, 1, "logs.raw")
	dir := t.TempDir()
	path := filepath.Join(dir, "api-1_shop_app-"+containerID+".log")
	cfg := testConfig(t, c, dir)
	cfg.Multiline = multiline.Config{Rules: []multiline.Rule{{
		Name: "java", Type: multiline.TypeBuiltin, Languages: []string{"java"},
		Match: multiline.Selector{Pods: []string{"api-*"}},
	}}}
	appendCRI(t, path, []criLine{
		{"stdout", "F", "before"},
		{"stdout", "F", "java.lang.IllegalStateException: boom"},
		{"stderr", "F", "unrelated"},
		{"stdout", "P", "\tat com.acme.A.r"},
		{"stdout", "F", "un(A.java:10)"},
		{"stdout", "F", "after"},
	})
	run := func(abortAfter int) {
		s, err := New(cfg, "test", slog.New(slog.NewTextHandler(testLogWriter(), nil)))
		if err != nil {
			t.Fatal(err)
		}
		ctx, abort := context.WithCancelCause(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		if n := len(c.ReadAll("logs.raw", abortAfter, 30*time.Second)); n < abortAfter {
			t.Fatalf("%d records, want %d", n, abortAfter)
		}
		abort(service.ErrAbort)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	run(4)
	matches, _ := filepath.Glob(cfg.State.Path + "*")
	for _, m := range matches {
		if err := os.Remove(m); err != nil {
			t.Fatal(err)
		}
	}
	run(8)
	raws := decodeAll(t, c.ReadToEnd("logs.raw", 30*time.Second))
	trace := "java.lang.IllegalStateException: boom\n\tat com.acme.A.run(A.java:10)"
	var offsets []int64
	for _, r := range raws {
		if string(r.GetLine()) == trace {
			offsets = append(offsets, r.GetSource().GetOffset())
		}
	}
	if len(offsets) != 2 || offsets[0] != offsets[1] {
		t.Fatalf("trace records at offsets %v, want the same offset twice (one per run)", offsets)
	}
	if len(raws) != 8 {
		t.Errorf("%d records, want 8 (4 events, each produced by both runs)", len(raws))
	}
}
