package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/logging/loggingtest"
)

var (
	adminLine = regexp.MustCompile(`(?m)^sluice-local: (\S+)\s+admin (127\.0\.0\.1:(\d+))\s+metrics http://127\.0\.0\.1:(\d+)/metrics$`)
	finalLine = regexp.MustCompile(`(?m)^sluice-local: (\d+) of (\d+) lines indexed into `)
)

func testOptions(t *testing.T) options {
	return options{dir: t.TempDir(), pods: 2, rate: 100, progress: 500 * time.Millisecond, drain: 30 * time.Second}
}

// TestInterruptDrains is the Ctrl-C of a run without a duration: the
// generator stops, the pipeline drains, every written line is counted as
// indexed and the run succeeds; progress lines were printed meanwhile.
func TestInterruptDrains(t *testing.T) {
	o := testOptions(t)
	o.duration = 0
	genCtx, interrupt := context.WithCancel(context.Background())
	var out loggingtest.Buffer
	done := make(chan error, 1)
	go func() { done <- run(genCtx, context.Background(), o, &out) }()
	// Interrupt while lines are being written, once some are through.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "running  written") {
		if time.Now().After(deadline) {
			t.Fatalf("no progress line:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	interrupt()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after interrupt: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no exit after interrupt:\n%s", out.String())
	}
	m := finalLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no final count:\n%s", out.String())
	}
	if m[1] != m[2] || m[2] == "0" {
		t.Fatalf("final count %s of %s:\n%s", m[1], m[2], out.String())
	}
	if !regexp.MustCompile(`(?m)^sluice-local: drained\s+written \d+  indexed \d+  lag parser \d+ indexer \d+$`).MatchString(out.String()) {
		t.Errorf("no drained progress line:\n%s", out.String())
	}
}

// TestFreePorts runs two pipelines at once with the default ports: each
// binds its own, printed, and both complete.
func TestFreePorts(t *testing.T) {
	var outs [2]loggingtest.Buffer
	errs := make(chan error, 2)
	for i := range outs {
		o := testOptions(t)
		o.duration = 1500 * time.Millisecond
		go func() { errs <- run(context.Background(), context.Background(), o, &outs[i]) }()
	}
	for range outs {
		if err := <-errs; err != nil {
			t.Fatalf("run: %v\n%s\n%s", err, outs[0].String(), outs[1].String())
		}
	}
	seen := map[string]string{}
	for i := range outs {
		ms := adminLine.FindAllStringSubmatch(outs[i].String(), -1)
		if len(ms) != 4 {
			t.Fatalf("run %d printed %d service addresses, want 4:\n%s", i, len(ms), outs[i].String())
		}
		for _, m := range ms {
			for _, port := range m[3:5] {
				if n, _ := strconv.Atoi(port); n == 9090 || n == 9091 || n == 9092 || n == 9093 {
					t.Errorf("run %d: %s on a well-known port %s", i, m[1], port)
				}
				if prev, dup := seen[port]; dup {
					t.Errorf("port %s used twice (%s and run %d %s)", port, prev, i, m[1])
				}
				seen[port] = strconv.Itoa(i) + " " + m[1]
			}
		}
	}
}

// TestCountSink counts an NDJSON file in steps as it grows: more than one
// read buffer at once, a partial last line, a line longer than the buffer.
func TestCountSink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sink.ndjson")
	p := &probe{sink: path}
	if got := p.countSink(); got != 0 {
		t.Fatalf("no file: %d lines, want 0", got)
	}
	doc := `{"message":"` + strings.Repeat("x", 1000) + `"}` + "\n"
	long := `{"message":"` + strings.Repeat("y", 600<<10) + `"}` + "\n"
	steps := []struct {
		name   string
		append string
		want   int64
	}{
		{"a megabyte of documents", strings.Repeat(doc, 1000), 1000},
		{"a partial line", doc[:10], 1000},
		{"its rest and one more", doc[10:] + doc, 1002},
		{"a line longer than the buffer", long, 1003},
		{"nothing new", "", 1003},
	}
	for _, s := range steps {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s.append); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got := p.countSink(); got != s.want {
			t.Fatalf("%s: %d lines, want %d", s.name, got, s.want)
		}
	}
}
