package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"4096", 4096, true}, {"512KiB", 512 << 10, true}, {"10MiB", 10 << 20, true},
		{"10Mi", 10 << 20, true}, {"1GB", 1 << 30, true}, {"ten", 0, false}, {"-1", 0, false},
	} {
		got, err := parseBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v", tt.in, got, err)
		}
	}
}

func TestSpread(t *testing.T) {
	var s spread
	got := make([]int, 3)
	for range 4 {
		s.each(1, 3, func(i, n int) error { got[i] += n; return nil })
	}
	if got[0] != 2 || got[1] != 1 || got[2] != 1 {
		t.Fatalf("one line at a time over 3 pods went %v", got)
	}
}

func TestRunFiles(t *testing.T) {
	root := t.TempDir()
	o := options{dir: filepath.Join(root, "containers"), podsDir: filepath.Join(root, "pods"), pods: 3, rate: 2000,
		lineBytes: 200, rotateBytes: 16 << 10, maxFiles: 3, namespaces: []string{"a", "b"}}
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	if err := runFiles(ctx, o); err != context.DeadlineExceeded {
		t.Fatal(err)
	}
	links, _ := filepath.Glob(filepath.Join(o.dir, "*.log"))
	gz, _ := filepath.Glob(filepath.Join(o.podsDir, "*", "nginx", "0.log.*.gz"))
	if len(links) != 3 || len(gz) == 0 {
		t.Fatalf("%d symlinks, %d gzipped rotated files", len(links), len(gz))
	}
	if _, err := os.Stat(links[0]); err != nil {
		t.Fatalf("symlink does not resolve: %v", err)
	}
}
