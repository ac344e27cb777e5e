package harness

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// cmdTB is a testing.TB for code outside tests: it keeps cleanups, turns
// Fatal into a panic the harness recovers, and makes temporary directories.
// Embedding the interface satisfies its unexported method; anything not
// overridden here is not used by the helpers the harness calls.
type cmdTB struct {
	testing.TB
	name string

	mu       sync.Mutex
	cleanups []func()
	dirs     []string
	failed   bool
}

// fatal is what Fatal panics with.
type fatal struct{ msg string }

// NewTB returns a testing.TB for use outside tests and the function that
// runs its cleanups (last registered first) and removes its directories.
func NewTB(name string) (testing.TB, func()) {
	t := &cmdTB{name: name}
	return t, t.cleanup
}

func (t *cmdTB) cleanup() {
	t.mu.Lock()
	fns, dirs := t.cleanups, t.dirs
	t.cleanups, t.dirs = nil, nil
	t.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
	for _, d := range dirs {
		os.RemoveAll(d)
	}
}

func (t *cmdTB) Helper()                   {}
func (t *cmdTB) Name() string              { return t.name }
func (t *cmdTB) Logf(string, ...any)       {}
func (t *cmdTB) Log(...any)                {}
func (t *cmdTB) Failed() bool              { return t.failed }
func (t *cmdTB) Cleanup(f func())          { t.mu.Lock(); t.cleanups = append(t.cleanups, f); t.mu.Unlock() }
func (t *cmdTB) Errorf(f string, a ...any) { t.failed = true; fmt.Fprintf(os.Stderr, f+"\n", a...) }
func (t *cmdTB) Error(a ...any)            { t.failed = true; fmt.Fprintln(os.Stderr, a...) }
func (t *cmdTB) Fatalf(f string, a ...any) {
	t.failed = true
	panic(fatal{fmt.Sprintf(f, a...)})
}
func (t *cmdTB) Fatal(a ...any) { t.failed = true; panic(fatal{fmt.Sprint(a...)}) }
func (t *cmdTB) FailNow()       { t.failed = true; panic(fatal{"FailNow"}) }
func (t *cmdTB) Fail()          { t.failed = true }
func (t *cmdTB) TempDir() string {
	d, err := os.MkdirTemp("", "sluice-loadtest-")
	if err != nil {
		panic(fatal{err.Error()})
	}
	t.mu.Lock()
	t.dirs = append(t.dirs, d)
	t.mu.Unlock()
	return d
}
