package grok

import (
	"testing"
	"time"
)

// FuzzMatch checks the fast path against RE2 for the expressions of
// TestDifferential on arbitrary input.
func FuzzMatch(f *testing.F) {
	for i, s := range diffSeeds {
		f.Add(uint8(i), []byte(s))
	}
	ms := make([]*Matcher, len(diffExprs))
	for i, de := range diffExprs {
		m, err := NewLibrary(de.mode).Compile(de.expr)
		if err != nil {
			f.Fatal(err)
		}
		ms[i] = m
	}
	f.Fuzz(func(t *testing.T, which uint8, line []byte) {
		differential(t, ms[int(which)%len(ms)], line)
	})
}

// FuzzCompile compiles arbitrary expressions (with pattern references) and,
// when they compile, checks the fast path against RE2 on a few lines. It
// also bounds compile time so hostile patterns are refused fast.
func FuzzCompile(f *testing.F) {
	seeds := []string{
		"%{COMBINEDAPACHELOG}", "%{IP:ip} %{WORD:w}", "(?<a>x+)|%{INT:n:int}", "%{DATA:a}-%{DATA:b}$",
		"^(?:%{NUMBER:n}|%{QS:q})*", "a{2,5}?b", `\bfoo\B`, "%{FOO}", "%{", "(?i)abc%{GREEDYDATA:x}",
		"%{SELF=%{SELF}}",
	}
	for _, s := range seeds {
		f.Add(s, []byte("1.2.3.4 foo \"q\" 12-34 abcABC xx"))
	}
	lib := NewLibrary(ModeLegacy)
	f.Fuzz(func(t *testing.T, expr string, line []byte) {
		start := time.Now()
		m, err := lib.Compile(expr)
		if d := time.Since(start); d > 10*time.Second { // pathological, not merely slow under -race
			t.Fatalf("Compile(%q) took %v", expr, d)
		}
		if err != nil {
			return
		}
		differential(t, m, line)
		m.Match(line, func([]string, Value) {})
	})
}
