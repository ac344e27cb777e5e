package checkpoint

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func entry(fp string, off int64) Entry {
	return Entry{Fingerprint: fp, Path: "/var/log/pods/x/" + fp, Dev: 1, Inode: 42, Offset: off,
		Updated: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func openT(tb testing.TB, path string, opts ...Option) *Store {
	tb.Helper()
	s, err := Open(path, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "state.json")
	s := openT(t, path)
	if s.Warning() != nil {
		t.Fatalf("fresh store warning: %v", s.Warning())
	}
	s.Set(entry("a", 10))
	s.Set(entry("b", 20))
	s.Delete("b")
	s.Set(entry("c", 30))
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	s2 := openT(t, path)
	if !reflect.DeepEqual(s2.Entries(), s.Entries()) {
		t.Fatalf("reloaded %+v, want %+v", s2.Entries(), s.Entries())
	}
	if _, ok := s2.Get("b"); ok {
		t.Fatal("deleted entry came back")
	}
	if e, ok := s2.Get("c"); !ok || e.Offset != 30 {
		t.Fatalf("Get(c) = %+v, %v", e, ok)
	}
}

// TestCorruptFallback covers FAULTS row 16: a torn or corrupt state file
// falls back to the previous generation, then to empty, and never fails
// Open.
func TestCorruptFallback(t *testing.T) {
	tests := []struct {
		name        string
		damageCur   func(tb testing.TB, p string)
		damagePrev  func(tb testing.TB, p string)
		wantOffset  int64 // of entry "a"; -1 = empty state
		wantWarning bool
	}{
		{name: "intact", wantOffset: 200},
		{name: "torn current", damageCur: tear, wantOffset: 100, wantWarning: true},
		{name: "flipped byte in current", damageCur: flip, wantOffset: 100, wantWarning: true},
		{name: "empty current", damageCur: empty, wantOffset: 100, wantWarning: true},
		{name: "current missing (crash between renames)", damageCur: remove, wantOffset: 100},
		{name: "both corrupt", damageCur: flip, damagePrev: tear, wantOffset: -1, wantWarning: true},
		{name: "current corrupt, no prev", damageCur: flip, damagePrev: remove, wantOffset: -1, wantWarning: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			s := openT(t, path)
			s.Set(entry("a", 100))
			mustSave(t, s)
			s.Set(entry("a", 200))
			mustSave(t, s)
			if tc.damageCur != nil {
				tc.damageCur(t, path)
			}
			if tc.damagePrev != nil {
				tc.damagePrev(t, path+".prev")
			}
			s2, err := Open(path)
			if err != nil {
				t.Fatalf("Open failed: %v", err)
			}
			if got := s2.Warning() != nil; got != tc.wantWarning {
				t.Errorf("warning = %v, want %v", s2.Warning(), tc.wantWarning)
			}
			e, ok := s2.Get("a")
			switch {
			case tc.wantOffset < 0 && ok:
				t.Errorf("got %+v, want empty state", e)
			case tc.wantOffset >= 0 && (!ok || e.Offset != tc.wantOffset):
				t.Errorf("got %+v %v, want offset %d", e, ok, tc.wantOffset)
			}
			// The fallen-back store must be able to save again.
			s2.Set(entry("z", 1))
			mustSave(t, s2)
			if s3 := openT(t, path); s3.Warning() != nil {
				t.Errorf("after re-save: %v", s3.Warning())
			}
		})
	}
}

// TestRandomCorruption flips random bytes and tears at random lengths: the
// loaded state must always be exactly one of the generations written (or
// empty), never garbage, and offsets never ahead of what was saved.
func TestRandomCorruption(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	for i := 0; i < 150; i++ {
		path := filepath.Join(dir, "s", "state.json")
		os.RemoveAll(filepath.Dir(path))
		s := openT(t, path)
		for j := 0; j < 5; j++ {
			s.Set(entry(string(rune('a'+j)), int64(100+j)))
		}
		mustSave(t, s)
		for j := 0; j < 5; j++ {
			s.Set(entry(string(rune('a'+j)), int64(200+j)))
		}
		mustSave(t, s)
		data, _ := os.ReadFile(path)
		switch rng.IntN(3) {
		case 0:
			data = data[:rng.IntN(len(data))]
		case 1:
			k := rng.IntN(len(data))
			data[k] ^= byte(1 + rng.IntN(255))
		case 2:
			k := rng.IntN(len(data))
			data = append(data[:k:k], make([]byte, rng.IntN(64))...)
		}
		os.WriteFile(path, data, 0o644)
		s2, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		es := s2.Entries()
		if len(es) != 5 {
			t.Fatalf("iteration %d: %d entries", i, len(es))
		}
		base := es[0].Offset - 0
		if base != 100 && base != 200 {
			t.Fatalf("iteration %d: unexpected offset %d", i, base)
		}
		for j, e := range es {
			if e.Offset != base+int64(j) {
				t.Fatalf("iteration %d: mixed generations %+v", i, es)
			}
		}
	}
}

func mustSave(tb testing.TB, s *Store) {
	tb.Helper()
	if err := s.Save(); err != nil {
		tb.Fatal(err)
	}
}

func tear(tb testing.TB, p string) {
	data, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	os.WriteFile(p, data[:len(data)/2], 0o644)
}

func flip(tb testing.TB, p string) {
	data, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	data[len(data)-5] ^= 0x20
	os.WriteFile(p, data, 0o644)
}

func empty(tb testing.TB, p string) { os.WriteFile(p, nil, 0o644) }

func remove(tb testing.TB, p string) { os.Remove(p) }

// faultFS fails writes with ENOSPC while full is set (FAULTS row 23).
type faultFS struct {
	OSFS
	full    atomic.Bool
	failAt  string // "write", "sync", "rename", "create"
	created []string
}

type faultFile struct {
	*os.File
	fs *faultFS
}

func (f faultFile) Write(p []byte) (int, error) {
	if f.fs.full.Load() && f.fs.failAt == "write" {
		n := len(p) / 2
		f.File.Write(p[:n])
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Write(p)
}

func (f faultFile) Sync() error {
	if f.fs.full.Load() && f.fs.failAt == "sync" {
		return &os.PathError{Op: "sync", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Sync()
}

func (fs *faultFS) CreateTemp(dir, pattern string) (File, error) {
	if fs.full.Load() && fs.failAt == "create" {
		return nil, &os.PathError{Op: "open", Path: dir, Err: syscall.ENOSPC}
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	fs.created = append(fs.created, f.Name())
	return faultFile{f, fs}, nil
}

func (fs *faultFS) Rename(o, n string) error {
	if fs.full.Load() && fs.failAt == "rename" && !strings.HasSuffix(n, ".prev") {
		return &os.LinkError{Op: "rename", Old: o, New: n, Err: syscall.ENOSPC}
	}
	return fs.OSFS.Rename(o, n)
}

func TestSaveENOSPC(t *testing.T) {
	for _, at := range []string{"create", "write", "sync", "rename"} {
		t.Run(at, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			ffs := &faultFS{failAt: at}
			s := openT(t, path, WithFS(ffs))
			s.Set(entry("a", 100))
			mustSave(t, s)

			ffs.full.Store(true)
			s.Set(entry("a", 200))
			err := s.Save()
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Save = %v, want ENOSPC", err)
			}
			if e, _ := s.Get("a"); e.Offset != 200 {
				t.Fatalf("in-memory offset = %d, want 200 kept", e.Offset)
			}
			// No temporary file is left behind to fill the disk further.
			for _, c := range ffs.created {
				if _, err := os.Stat(c); err == nil {
					t.Errorf("temp file %s left behind", c)
				}
			}
			// What is on disk is a good older generation.
			disk := openT(t, path)
			e, ok := disk.Get("a")
			if !ok || e.Offset != 100 {
				t.Fatalf("on disk after failed save: %+v %v, want offset 100", e, ok)
			}
			if disk.Warning() != nil && at != "rename" {
				t.Errorf("warning: %v", disk.Warning())
			}
			// Space comes back: the next Save persists the newest state
			// even without a new Set (the store stayed dirty).
			ffs.full.Store(false)
			mustSave(t, s)
			if e, _ := openT(t, path).Get("a"); e.Offset != 200 {
				t.Fatalf("after recovery offset = %d, want 200", e.Offset)
			}
		})
	}
}

func TestOpenEmptyPath(t *testing.T) {
	if _, err := Open(""); err == nil {
		t.Fatal("want error")
	}
}
