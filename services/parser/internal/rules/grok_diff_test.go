package rules

import (
	"fmt"
	"testing"

	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
	"github.com/sluice-io/sluice/services/parser/internal/grok"
)

// flatten turns grok.Matcher.MatchMap's nested maps into dotted paths.
func flatten(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			flatten(p, sub, out)
			continue
		}
		out[p] = v
	}
}

// FuzzGrokProcReference checks the grok processor (compile-time joined
// paths, values sharing the message) against the matcher's plain
// MatchMap on the same line: the same fields with the same values.
func FuzzGrokProcReference(f *testing.F) {
	f.Add(`67.43.156.13 - - [25/Oct/2016:14:49:34 +0200] "GET /favicon.ico HTTP/1.1" 404 571 "http://localhost:8080/" "Mozilla/5.0"`)
	f.Add(`10.0.0.1 - bob [07/Dec/2016:11:05:07 +0100] "POST /a?b=c HTTP/2.0" 200 - "-" "curl/8"`)
	f.Add(`::1 - - [01/Jan/2026:00:00:00 +0000] "-" 400 0 "-" "-"`)
	exprs := []string{"%{COMBINEDAPACHELOG}", "%{IP:client} %{WORD:verb} %{NUMBER:n:int} %{NUMBER:f:float} %{GREEDYDATA:[a][b][c]}"}
	procs := make([]Processor, len(exprs))
	matchers := make([]*grok.Matcher, len(exprs))
	for i, expr := range exprs {
		p, err := compileGrok(&config.Grok{Patterns: []string{expr}}, nil)
		if err != nil {
			f.Fatal(err)
		}
		procs[i] = p
		if matchers[i], err = grok.NewLibrary(grok.ModeECS).Compile(expr); err != nil {
			f.Fatal(err)
		}
	}
	f.Add("1.2.3.4 GET 12 3.5 rest of it")
	f.Fuzz(func(t *testing.T, line string) {
		for i := range procs {
			var d document.Doc
			d.Set("message", document.S(line))
			err := procs[i].Process(&d)
			m, ok := matchers[i].MatchMap(line)
			if ok != (err == nil) {
				t.Fatalf("%s: processor error %v, MatchMap ok %v", exprs[i], err, ok)
			}
			if !ok {
				continue
			}
			want := map[string]any{}
			flatten("", m, want)
			for p, w := range want {
				if _, many := w.([]any); many {
					continue // captured twice: the document keeps the last
				}
				v, found := d.Get(p)
				if !found {
					t.Fatalf("%s: %s missing from the document", exprs[i], p)
				}
				var got any
				switch v.Kind {
				case document.Int:
					got = v.Int
				case document.Float:
					got = v.Float
				default:
					got = v.Str
				}
				if fmt.Sprint(got) != fmt.Sprint(w) {
					t.Fatalf("%s: %s = %#v, MatchMap %#v", exprs[i], p, got, w)
				}
			}
			// Nothing else was added (message, the input, aside).
			n, wantN := 0, len(want)
			d.Each(func(p string, _ document.Value) {
				if p != "message" {
					n++
				}
			})
			if _, ok := want["message"]; ok {
				wantN--
			}
			if n != wantN {
				t.Fatalf("%s: %d fields, MatchMap %d: %v", exprs[i], n, wantN, want)
			}
		}
	})
}
