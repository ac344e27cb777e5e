package grok_test

import (
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/libs/corpus"
	"github.com/sluice-io/sluice/services/parser/internal/grok/grokspec"
)

// minSpecPassed is the number of shared spec cases that pass today; the test
// fails if a change makes fewer pass.
const minSpecPassed = 319

func TestSpecCases(t *testing.T) {
	dir := corpus.Dir(t, "grok")
	cases, err := grokspec.Load(filepath.Join(dir, "spec_cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	results, passed, failed := grokspec.NewEvaluator().Run(cases)
	if testing.Verbose() {
		for _, r := range results {
			if len(r.Diffs) > 0 {
				t.Logf("FAIL %s: %s: %v", r.Case.Source, r.Case.Description, r.Diffs)
			}
		}
	}
	t.Logf("%d passed, %d failed", passed, failed)
	if passed < minSpecPassed {
		t.Errorf("%d spec cases pass, want at least %d", passed, minSpecPassed)
	}
}
