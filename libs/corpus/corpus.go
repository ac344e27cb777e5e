// Package corpus locates the shared test corpus: real logs and other
// projects' conformance cases that tests read but the repository does not
// carry (their licenses keep them out). CI always has it beside the checkout;
// a user's clone may not, and the tests that need it then skip and say why.
package corpus

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar overrides where the corpus is looked for.
const EnvVar = "SLUICE_CORPUS"

// Path returns the corpus directory, or "" when it cannot be found. It looks
// at $SLUICE_CORPUS, then at ../shared/corpus beside the repository root (the
// directory that holds go.work), walking up from the working directory.
func Path() string {
	if p := os.Getenv(EnvVar); p != "" {
		if isDir(p) {
			return p
		}
		return ""
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			p := filepath.Join(dir, "..", "shared", "corpus")
			if isDir(p) {
				return filepath.Clean(p)
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Dir returns the corpus directory joined with elem, or skips the test with
// a message saying where the corpus was looked for.
func Dir(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := Path()
	if p == "" {
		tb.Skipf("shared corpus not found: set %s or place it at ../shared/corpus beside the repository root", EnvVar)
	}
	full := filepath.Join(append([]string{p}, elem...)...)
	if _, err := os.Stat(full); err != nil {
		tb.Skipf("shared corpus has no %s: %v", filepath.Join(elem...), err)
	}
	return full
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
