package fluentbitconf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// format writes sections back in the classic format, without @SET: values
// are already expanded and an unknown ${name} is kept as written, so reading
// the output again must give the same names, keys and values.
func format(sections []Section) string {
	var b strings.Builder
	for _, s := range sections {
		b.WriteString("[" + s.Name + "]\n")
		for _, p := range s.Properties {
			b.WriteString("    " + p.Key + " " + p.Value + "\n")
		}
	}
	return b.String()
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"[PARSER]\n    Name   json\n    Format json\n",
		"@SET re=^\\s+at\n[MULTILINE_PARSER]\n name java\n type regex\n rule \"start_state\" \"/x/\" \"cont\"\n rule \"cont\" \"${re}\" \"cont\"\n",
		"[P]\n\tk\tv w\n",
		"[P]\n a ${x}\n@SET x=${x}${x}\n b ${x}\n",
		"@SET e=\n[P]\n k ${e} v\n",
		"[P\n",
		"k v\n",
		"@INCLUDE a.conf\n",
		"@NOPE\n",
		"[P]\r\n k v\r\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, conf string) {
		sections, err := Parse(strings.NewReader(conf))
		if err != nil {
			// The sections before a syntax error are complete up to it:
			// reading just those lines must give them back unchanged.
			var ce *Error
			if !errors.As(err, &ce) {
				return // a line over MaxLineBytes
			}
			lines := strings.SplitAfter(conf, "\n")
			before, err2 := Parse(strings.NewReader(strings.Join(lines[:ce.Line-1], "")))
			if err2 != nil || !reflect.DeepEqual(before, sections) {
				t.Fatalf("lines before the error give %+v, %v; want %+v", before, err2, sections)
			}
			return
		}
		last := 0
		for _, s := range sections {
			if s.Line <= last {
				t.Fatalf("section %q at line %d after line %d", s.Name, s.Line, last)
			}
			last = s.Line
			for _, p := range s.Properties {
				if p.Line <= last {
					t.Fatalf("property %q at line %d after line %d", p.Key, p.Line, last)
				}
				last = p.Line
				if p.Key == "" || strings.ContainsAny(p.Key, " \t") || p.Lower != strings.ToLower(p.Key) {
					t.Fatalf("bad key %q / %q", p.Key, p.Lower)
				}
				if !strings.Contains(p.Raw, "${") && p.Value != p.Raw {
					t.Fatalf("value %q expanded from %q, which names no variable", p.Value, p.Raw)
				}
			}
		}

		again, err := Parse(strings.NewReader(format(sections)))
		if err != nil {
			t.Fatalf("reading formatted sections: %v\n%s", err, format(sections))
		}
		if len(again) != len(sections) {
			t.Fatalf("%d sections, want %d", len(again), len(sections))
		}
		for i, s := range sections {
			a := again[i]
			if a.Name != s.Name || len(a.Properties) != len(s.Properties) {
				t.Fatalf("section %d = %q with %d properties, want %q with %d", i, a.Name, len(a.Properties), s.Name, len(s.Properties))
			}
			for j, p := range s.Properties {
				// An empty @SET value can leave blanks at either end of an
				// expanded value; a written line cannot keep them.
				want := strings.TrimSpace(p.Value)
				if q := a.Properties[j]; q.Key != p.Key || q.Lower != p.Lower || q.Raw != want || q.Value != want {
					t.Fatalf("section %d property %d = %q %q, want %q %q", i, j, q.Key, q.Value, p.Key, want)
				}
			}
		}
	})
}
