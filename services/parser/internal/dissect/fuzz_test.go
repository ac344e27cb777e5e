package dissect

import (
	"strings"
	"testing"
)

// FuzzDissect compiles arbitrary patterns and matches arbitrary lines: no
// panics, values are substrings of the line unless appended, and a pattern
// built only from plain keys re-assembles the line it matched.
func FuzzDissect(f *testing.F) {
	f.Add("%{a} %{b},%{c}", "foo bar,baz")
	f.Add("%{a->} %{+a/2} %{*r}:%{&r}", "x   y k:v")
	f.Add("[%{ts}]%{->}[%{level}]", "[t]   [WARN]")
	f.Add("%{?x} %{&x}", "hello world")
	f.Add("%{", "")
	f.Fuzz(func(t *testing.T, pattern, line string) {
		d, err := Compile(pattern, AppendSeparator(" "))
		if err != nil {
			return
		}
		simple := true
		for _, fl := range d.fields {
			if fl.kind != kindPlain || fl.pad {
				simple = false
			}
		}
		var b strings.Builder
		b.WriteString(d.prefix)
		err = d.Dissect(line, func(k, v string) {
			if simple && !strings.Contains(line, v) {
				t.Fatalf("value %q is not part of %q", v, line)
			}
		})
		if err != nil || !simple {
			return
		}
		// Rebuild: prefix + value + delimiter ... must be a prefix of line.
		var vals []string
		_ = d.Dissect(line, func(_, v string) { vals = append(vals, v) })
		for i, fl := range d.fields {
			b.WriteString(vals[i])
			b.WriteString(fl.delim)
		}
		if !strings.HasPrefix(line, b.String()) && b.String() != line {
			t.Fatalf("rebuilt %q is not a prefix of %q", b.String(), line)
		}
	})
}
