package weblog

import (
	"strings"
	"testing"
)

func FuzzIndexSeparators(f *testing.F) {
	for _, s := range []string{"", " ", " - ", "a - b", "-- - -", "a [b", "[ [", " [", "x- -  - [[ ["} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := indexSpaceDash(s), strings.Index(s, " - "); got != want {
			t.Fatalf("indexSpaceDash(%q) = %d, want %d", s, got, want)
		}
		if got, want := indexSpaceBracket(s), strings.Index(s, " ["); got != want {
			t.Fatalf("indexSpaceBracket(%q) = %d, want %d", s, got, want)
		}
	})
}
