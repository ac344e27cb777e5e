package gen

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// readSeqs returns every sequence number in the pod's files, in file order
// (rotated files oldest first, then the current file).
func readSeqs(t testing.TB, p *RotatingPod) []int64 {
	t.Helper()
	dir := filepath.Dir(p.LogPath())
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if e.Name() != "0.log" {
			names = append(names, e.Name())
		}
	}
	// The shipper's order: by name without .gz.
	sort.Slice(names, func(i, j int) bool {
		return strings.TrimSuffix(names[i], ".gz") < strings.TrimSuffix(names[j], ".gz")
	})
	names = append(names, "0.log")
	var out []int64
	for _, n := range names {
		if strings.HasSuffix(n, ".tmp") {
			t.Fatalf("temporary file %s left behind", n)
		}
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		if strings.HasSuffix(n, ".gz") {
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			r = zr
		}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			pod, seq, ok := PodSeqFromLine(sc.Bytes())
			if !ok || pod != p.Key() {
				t.Fatalf("%s: line without a sequence: %q", n, sc.Text())
			}
			out = append(out, seq)
		}
		f.Close()
	}
	return out
}

func TestRotatingPod(t *testing.T) {
	tests := []struct {
		name        string
		rotateBytes int64
		maxFiles    int
		lineBytes   int
		lines       int
		wantRotated bool
	}{
		{name: "no rotation", lines: 500},
		{name: "rotation keeps every line", rotateBytes: 16 << 10, maxFiles: 100, lines: 2000, wantRotated: true},
		{name: "old files deleted", rotateBytes: 8 << 10, maxFiles: 3, lines: 2000, wantRotated: true},
		{name: "padded lines", lineBytes: 400, rotateBytes: 32 << 10, maxFiles: 4, lines: 1000, wantRotated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			o := PodOptions{Namespace: "shop", Name: "web-0", Container: "nginx",
				PodsDir: filepath.Join(root, "pods"), ContainersDir: filepath.Join(root, "containers"),
				RotateBytes: tt.rotateBytes, MaxFiles: tt.maxFiles, LineBytes: tt.lineBytes}
			p, err := NewRotatingPod(o)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < tt.lines; i += 50 {
				if _, err := p.Write(50); err != nil {
					t.Fatal(err)
				}
			}
			p.Close()
			if got := p.Rotations() > 0; got != tt.wantRotated {
				t.Fatalf("rotated %d times", p.Rotations())
			}
			if target, err := os.Readlink(p.LinkPath()); err != nil || target != p.LogPath() {
				t.Fatalf("symlink %s → %q (%v), want %s", p.LinkPath(), target, err, p.LogPath())
			}
			deleted := map[int64]bool{}
			for _, r := range p.Deleted() {
				for s := r.From; s <= r.To; s++ {
					deleted[s] = true
				}
			}
			want := int64(1)
			for _, s := range readSeqs(t, p) {
				for deleted[want] {
					want++
				}
				if s != want {
					t.Fatalf("found seq %d, want %d", s, want)
				}
				want++
			}
			if want-1 != int64(tt.lines) {
				t.Fatalf("files end at seq %d, want %d", want-1, tt.lines)
			}
			if tt.lineBytes > 0 {
				b, _ := os.ReadFile(p.LogPath())
				lines := strings.Count(string(b), "\n")
				if avg := len(b) / lines; avg < tt.lineBytes*85/100 || avg > tt.lineBytes*115/100 {
					t.Fatalf("lines average %d bytes, want about %d", avg, tt.lineBytes)
				}
			}
			// A restarted generator continues the sequence.
			p2, err := NewRotatingPod(o)
			if err != nil {
				t.Fatal(err)
			}
			defer p2.Close()
			if p2.Seq() != int64(tt.lines) {
				t.Fatalf("resumed at %d, want %d", p2.Seq(), tt.lines)
			}
		})
	}
}

func TestRawStream(t *testing.T) {
	s := NewRawStream("shop", "web-0", "nginx", "node-1", "run", 0, 1)
	var last int64 = -1
	for i := 0; i < 3; i++ {
		key, val, err := s.Next(time.Now())
		if err != nil || string(key) != "shop/web-0/nginx" || len(val) == 0 {
			t.Fatalf("record %d: key %q, %d bytes, %v", i, key, len(val), err)
		}
		if s.offset <= last {
			t.Fatal("offsets do not advance")
		}
		last = s.offset
	}
	if s.Seq() != 3 {
		t.Fatalf("seq %d", s.Seq())
	}
}
