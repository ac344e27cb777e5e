package multiline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/libs/corpus"
)

// TestSharedCases runs the shared corpus's conformance cases (other
// collectors' multiline tests, in their own settings) through the joiner;
// every case must pass.
func TestSharedCases(t *testing.T) {
	dir := corpus.Dir(t, "multiline")
	f, err := os.Open(filepath.Join(dir, "cases.jsonl"))
	if err != nil {
		t.Skipf("shared corpus has no multiline/cases.jsonl: %v", err)
	}
	defer f.Close()
	cases, err := ReadCases(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases read")
	}
	res := Check(cases)
	for _, r := range res.Results {
		if r.Failure != "" {
			t.Error(r.Failure)
		}
	}
	t.Logf("%d passed, %d failed", res.Passed, res.Failed)
}

// TestCasesFixture runs the repository's own cases (testdata/cases.jsonl,
// written for Sluice in the same format), so the check runs without the
// shared corpus too.
func TestCasesFixture(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := ReadCases(f)
	if err != nil {
		t.Fatal(err)
	}
	res := Check(cases)
	for _, r := range res.Results {
		if r.Failure != "" {
			t.Error(r.Failure)
		}
	}
	if res.Passed != len(cases) || len(cases) < 5 {
		t.Errorf("%d passed, %d failed of %d", res.Passed, res.Failed, len(cases))
	}
}
