package multiline

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/config"
)

func mustSpec(t testing.TB, r Rule) *Spec {
	t.Helper()
	sp, err := CompileRule(r, 1<<20)
	if err != nil {
		t.Fatalf("CompileRule: %v", err)
	}
	return sp
}

// join feeds lines one millisecond apart and flushes at the end.
func join(sp *Spec, lines []string) []Event[int] {
	var out []Event[int]
	j := NewJoiner(sp, func(ev Event[int]) { out = append(out, ev) })
	t0 := time.Unix(1000, 0)
	for i, l := range lines {
		j.Add([]byte(l), i, t0.Add(time.Duration(i)*time.Millisecond))
	}
	j.Flush()
	return out
}

func texts(evs []Event[int]) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Text))
	}
	return out
}

func TestBuiltinLanguages(t *testing.T) {
	tests := []struct {
		name  string
		langs []string
		in    []string
		want  []string
	}{{
		name:  "java trace between plain lines",
		langs: []string{"java"},
		in:    []string{"start", "java.lang.RuntimeException: x", "\tat a.B.c(B.java:1)", "Caused by: java.lang.Error: y", "\t... 3 more", "done"},
		want:  []string{"start", "java.lang.RuntimeException: x\n\tat a.B.c(B.java:1)\nCaused by: java.lang.Error: y\n\t... 3 more", "done"},
	}, {
		name:  "bare exception name at end of line starts a trace",
		langs: []string{"java"},
		in:    []string{"java.lang.NullPointerException", "    at a.b(c.java:1)", "after"},
		want:  []string{"java.lang.NullPointerException\n    at a.b(c.java:1)", "after"},
	}, {
		name:  "two traces back to back",
		langs: []string{"dotnet"},
		in:    []string{"System.Exception: a", "   at X.Y()", "System.Exception: b", "   at X.Z()"},
		want:  []string{"System.Exception: a\n   at X.Y()", "System.Exception: b\n   at X.Z()"},
	}, {
		name:  "python ends at the exception line",
		langs: []string{"python"},
		in:    []string{"Traceback (most recent call last):", "  File \"a.py\", line 1, in <module>", "    f()", "KeyError: 'k'", "Traceback (most recent call last):", "  File \"b.py\", line 2, in g", "    g()", "OSError: e"},
		want:  []string{"Traceback (most recent call last):\n  File \"a.py\", line 1, in <module>\n    f()\nKeyError: 'k'", "Traceback (most recent call last):\n  File \"b.py\", line 2, in g\n    g()\nOSError: e"},
	}, {
		name:  "go panic with goroutines",
		langs: []string{"go"},
		in:    []string{"panic: oops", "", "goroutine 1 [running]:", "main.main()", "\t/m.go:5 +0x1", "", "goroutine 2 [sleep]:", "time.Sleep(0x1)", "\t/t.go:1 +0x2", "exit"},
		want:  []string{"panic: oops\n\ngoroutine 1 [running]:\nmain.main()\n\t/m.go:5 +0x1\n\ngoroutine 2 [sleep]:\ntime.Sleep(0x1)\n\t/t.go:1 +0x2", "exit"},
	}, {
		name:  "word boundary before panic",
		langs: []string{"go"},
		in:    []string{"tympanic: no", "next"},
		want:  []string{"tympanic: no", "next"},
	}, {
		name:  "rails trace",
		langs: []string{"ruby"},
		in:    []string{"NoMethodError (undefined method `x' for nil):", "  app/a.rb:3:in `f'", "  app/b.rb:4:in `g'", "Completed"},
		want:  []string{"NoMethodError (undefined method `x' for nil):\n  app/a.rb:3:in `f'\n  app/b.rb:4:in `g'", "Completed"},
	}, {
		name:  "languages not chosen are not joined",
		langs: []string{"python"},
		in:    []string{"java.lang.Error: x", "\tat a.b(c.java:1)"},
		want:  []string{"java.lang.Error: x", "\tat a.b(c.java:1)"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := texts(join(mustSpec(t, Rule{Type: TypeBuiltin, Languages: tt.langs}), tt.in))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	trace := []string{"java.lang.Error: x", "\tat a(1)", "\tat b(2)", "\tat c(3)", "\tat d(4)", "end"}
	tests := []struct {
		name  string
		rule  Rule
		want  []string
		cut   []bool
		trunc []bool
	}{{
		name:  "split at max_lines keeps every line",
		rule:  Rule{Type: TypeBuiltin, Languages: []string{"java"}, MaxLines: 3},
		want:  []string{"java.lang.Error: x\n\tat a(1)\n\tat b(2)", "\tat c(3)", "\tat d(4)", "end"},
		cut:   []bool{true, false, false, false},
		trunc: []bool{false, false, false, false},
	}, {
		name:  "drop past max_lines",
		rule:  Rule{Type: TypePattern, Pattern: `^\s`, MaxLines: 2, OnLimit: "drop"},
		want:  []string{"java.lang.Error: x\n\tat a(1)", "end"},
		cut:   []bool{false, false},
		trunc: []bool{true, false},
	}, {
		name:  "split before max_bytes",
		rule:  Rule{Type: TypeBuiltin, Languages: []string{"java"}, MaxBytes: 30},
		want:  []string{"java.lang.Error: x\n\tat a(1)", "\tat b(2)", "\tat c(3)", "\tat d(4)", "end"},
		cut:   []bool{true, false, false, false, false},
		trunc: []bool{false, false, false, false, false},
	}, {
		name:  "drop cuts the text at max_bytes",
		rule:  Rule{Type: TypePattern, Pattern: `^\s`, MaxBytes: 22, OnLimit: "drop"},
		want:  []string{"java.lang.Error: x\n\tat", "end"},
		cut:   []bool{false, false},
		trunc: []bool{true, false},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := join(mustSpec(t, tt.rule), trace)
			if got := texts(evs); !slices.Equal(got, tt.want) {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
			lines := 0
			for i, e := range evs {
				if e.Cut != tt.cut[i] || e.Truncated != tt.trunc[i] {
					t.Errorf("event %d: cut %v truncated %v, want %v %v", i, e.Cut, e.Truncated, tt.cut[i], tt.trunc[i])
				}
				if e.Lines != len(e.Tokens) {
					t.Errorf("event %d: Lines %d, %d tokens", i, e.Lines, len(e.Tokens))
				}
				lines += e.Lines
			}
			if lines != len(trace) {
				t.Errorf("events consumed %d lines, want %d", lines, len(trace))
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		from string
		// at 0, 4s, 8s lines arrive; the timeout is 5s.
		wantEvents int
	}{{"last_line", 0}, {"first_line", 1}} {
		t.Run(tc.from, func(t *testing.T) {
			var out []Event[int]
			sp := mustSpec(t, Rule{Type: TypeCondition, StartPattern: "^S", ConditionPattern: `^\s`, Mode: ModeContinueThrough,
				Timeout: config.Duration(5 * time.Second), TimeoutFrom: tc.from})
			j := NewJoiner(sp, func(ev Event[int]) { out = append(out, ev) })
			j.Add([]byte("S"), 0, t0)
			j.Tick(t0.Add(4 * time.Second))
			j.Add([]byte(" a"), 1, t0.Add(4*time.Second))
			j.Tick(t0.Add(6 * time.Second))
			if len(out) != tc.wantEvents {
				t.Fatalf("%d events after 6s, want %d", len(out), tc.wantEvents)
			}
			j.Tick(t0.Add(20 * time.Second))
			if _, ok := j.Pending(); ok {
				t.Fatal("still pending long after the timeout")
			}
			if !out[len(out)-1].TimedOut {
				t.Error("last event not marked TimedOut")
			}
		})
	}
}

func TestCompileRuleErrorsNameKeys(t *testing.T) {
	tests := []struct {
		rule Rule
		key  string
	}{
		{Rule{}, "type"},
		{Rule{Type: "nope"}, "type"},
		{Rule{Type: TypeBuiltin}, "languages"},
		{Rule{Type: TypeBuiltin, Languages: []string{"cobol"}}, "languages[0]"},
		{Rule{Type: TypePattern, Pattern: "("}, "pattern"},
		{Rule{Type: TypePattern, Pattern: "a", MatchMode: "sideways"}, "match_mode"},
		{Rule{Type: TypeCondition, StartPattern: "a", ConditionPattern: "b"}, "mode"},
		{Rule{Type: TypeCount}, "count_lines"},
		{Rule{Type: TypeRecombine}, "is_first_entry"},
		{Rule{Type: TypeRecombine, IsFirstEntry: "body =="}, "is_first_entry"},
		{Rule{Type: TypeStates, States: []StateRule{{From: []string{"start_state"}, Pattern: `/(\w)\1/`, To: "x"}}}, "states[0].pattern"},
		{Rule{Type: TypeStates, States: []StateRule{{From: []string{"a"}, Pattern: `/x/`, To: "b"}}}, "states"},
		{Rule{Type: TypeSplit}, "line_start_pattern"},
		{Rule{Type: TypeBuiltin, Languages: []string{"go"}, OnLimit: "explode"}, "on_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, err := CompileRule(tt.rule, 1<<20)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.key+":") {
				t.Errorf("error %q does not start with key %q", err, tt.key)
			}
		})
	}
}

func TestCompileForeign(t *testing.T) {
	tests := []struct {
		expr    string
		slashes bool
		line    string
		want    bool
	}{
		{`/^\[/`, true, "[x", true},
		{`/^\[/`, false, "/[x", false},
		{`/abc/i`, true, "xABCx", true},
		{`^(?!\[\d+\]).*`, false, "[12] start", false},
		{`^(?!\[\d+\]).*`, false, "  continued", true},
		{`^(?!\[\d+\])`, false, "", true},
		{`previous (?x:)location`, false, "previous location", true},
		{`\h+`, false, "beef", true},
		{`(?<lvl>INFO|WARN)`, false, "a WARN b", true},
		{`a++b`, false, "aab", true},
		{`\/path\/`, false, "/path/", true},
	}
	for _, tt := range tests {
		m, err := CompileForeign(tt.expr, tt.slashes, false)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if got := m.Match(tt.line); got != tt.want {
			t.Errorf("%s on %q: %v, want %v", tt.expr, tt.line, got, tt.want)
		}
	}
	for _, bad := range []string{`(a)\1`, `a(?=b)`, `(?<!x)y`, `^(?!abc`} {
		if _, err := CompileForeign(bad, false, false); err == nil {
			t.Errorf("%s: compiled, want an error", bad)
		}
	}
	m, err := CompileForeign(`Error[:\r\n]$`, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Match("java.lang.Error\n") || m.Match("Errors\n") {
		t.Error(`lineEnd: "$" must match before the trailing newline only`)
	}
}

func TestParseExpr(t *testing.T) {
	tests := []struct {
		expr string
		line string
		want bool
	}{
		{`body == 'end'`, "end", true},
		{`$body == "end"`, "end ", false},
		{`body != 'x'`, "y", true},
		{`body matches "^\\s"`, "  at", true},
		{`body.message matches "^\\S"`, "  at", false},
		{`body startsWith "[" and not (body contains "DEBUG")`, "[x] INFO", true},
		{`body startsWith "[" && !(body contains "DEBUG")`, "[x] DEBUG", false},
		{`true`, "", true},
		{`attributes["x"] == "y"`, "y", false},
		{`body endsWith ";" or body == ""`, "", true},
	}
	for _, tt := range tests {
		p, err := ParseExpr(tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if got := p(tt.line); got != tt.want {
			t.Errorf("%s on %q: %v, want %v", tt.expr, tt.line, got, tt.want)
		}
	}
	for _, bad := range []string{`body ==`, `(body == 'a'`, `body == 'a`, `body # 1`, `body matches "("`} {
		if _, err := ParseExpr(bad); err == nil {
			t.Errorf("%s: parsed, want an error", bad)
		}
	}
}

func TestSetKeepsStreamsApartAndOrdersFlush(t *testing.T) {
	sp := mustSpec(t, Rule{Type: TypeBuiltin, Languages: []string{"java"}})
	var got []string
	s := NewSet(func(key string, ev Event[int]) { got = append(got, key+":"+string(ev.Text)) })
	now := time.Unix(0, 0)
	feed := []struct{ key, line string }{
		{"out", "java.lang.Error: a"}, {"err", "java.lang.Error: b"},
		{"out", "\tat a(1)"}, {"err", "\tat b(1)"}, {"out", "plain"},
	}
	for i, f := range feed {
		s.Add(f.key, sp, []byte(f.line), i, now)
	}
	s.FlushAll()
	want := []string{"out:java.lang.Error: a\n\tat a(1)", "out:plain", "err:java.lang.Error: b\n\tat b(1)"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	s.Prune(now.Add(time.Second))
	if s.Len() != 0 {
		t.Errorf("%d streams after Prune, want 0", s.Len())
	}
}

func TestReadFluentBit(t *testing.T) {
	const conf = `
[PARSER]
    Name   json
    Format json

@SET cont_re=/^\s+at/
[MULTILINE_PARSER]
    name          multiline-java
    type          regex
    flush_timeout 1000
    rule      "start_state"   "/^\d{4}-\d\d-\d\d .* ERROR/"  "cont"
    rule      "cont"          "${cont_re}"                    "cont"

[MULTILINE_PARSER]
    name      backslash
    type      endswith
    match_str \
    negate    on
`
	rules, err := ReadFluentBit(strings.NewReader(conf))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].Name != "multiline-java" || rules[1].Type != TypeEndsWith {
		t.Fatalf("rules = %+v", rules)
	}
	if rules[0].Timeout.D() != time.Second || rules[0].States[1].Pattern != `/^\s+at/` {
		t.Errorf("rule 0 = %+v", rules[0])
	}
	got := texts(join(mustSpec(t, rules[0]), []string{"2026-01-01 x ERROR y", "  at a", "  at b", "2026-01-01 x INFO z"}))
	want := []string{"2026-01-01 x ERROR y\n  at a\n  at b", "2026-01-01 x INFO z"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, bad := range []string{
		"[MULTILINE_PARSER]\n type regex\n rule \"start_state\" \"/x/\" \"a\"\n",
		"[MULTILINE_PARSER]\n name a\n type csv\n",
		"[MULTILINE_PARSER]\n name a\n type regex\n rule \"start_state\" \"/x/\"\n",
		"@INCLUDE other.conf\n",
	} {
		if _, err := ReadFluentBit(strings.NewReader(bad)); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}

func TestRegistrySelect(t *testing.T) {
	reg, err := NewRegistry(Config{Rules: []Rule{
		{Name: "nginx-cont", Type: TypePattern, Pattern: `^\s`, Match: Selector{Namespaces: []string{"web-*"}, Labels: map[string]string{"app": "nginx"}}},
		{Name: "py", Type: TypeBuiltin, Languages: []string{"python"}},
	}}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    Container
		want string
		err  bool
	}{
		{"pod annotation", Container{Container: "app", Annotations: map[string]string{AnnotationMultiline: "java"}}, "java", false},
		{"container annotation wins", Container{Container: "app", Annotations: map[string]string{AnnotationMultiline: "java", AnnotationMultiline + "-app": "py"}}, "py", false},
		{"other container's annotation", Container{Container: "side", Annotations: map[string]string{AnnotationMultiline: "java", AnnotationMultiline + "-app": "py"}}, "java", false},
		{"none turns it off", Container{Namespace: "web-1", Labels: map[string]string{"app": "nginx"}, Annotations: map[string]string{AnnotationMultiline: "none"}}, "", false},
		{"config match", Container{Namespace: "web-1", Labels: map[string]string{"app": "nginx"}}, "nginx-cont", false},
		{"label mismatch", Container{Namespace: "web-1", Labels: map[string]string{"app": "api"}}, "", false},
		{"unknown name", Container{Annotations: map[string]string{AnnotationMultiline: "cobol"}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp, err := reg.Select(tt.c)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v", err)
			}
			got := ""
			if sp != nil {
				got = sp.Name()
			}
			if got != tt.want {
				t.Errorf("rule %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{Rules: []Rule{{Name: "a", Type: TypeBuiltin, Languages: []string{"go"}}, {Name: "a", Type: "x"}, {Type: TypeCount, CountLines: 2}}}
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{"multiline.rules[1].name", "multiline.rules[1].type", "multiline.rules[2].name"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("error %q lacks %s", err, key)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("empty config: %v", err)
	}
}

func TestWindowHoldsCheckpointAtCuts(t *testing.T) {
	type ack struct {
		fp  string
		end int64
	}
	var acks []ack
	w := NewWindow(func(fp string, end int64) { acks = append(acks, ack{fp, end}) })
	// stdout trace a1 a2 a3 interleaved with stderr lines s1 s2.
	a1 := w.Open("f", 10)
	s1 := w.Open("f", 20)
	a2 := w.Open("f", 30)
	s2 := w.Open("f", 40)
	a3 := w.Open("f", 50)
	w.Done([]Slot{s1})
	if len(acks) != 0 {
		t.Fatalf("acked %v while the trace's first line is held", acks)
	}
	w.Close([]Slot{a1, a2, a3})
	w.Done([]Slot{a1, a2, a3})
	// s2 is in flight: a checkpoint after a1, s1 or a2 would split the
	// trace on restart, so nothing is passed on yet.
	if len(acks) != 0 {
		t.Fatalf("acks %v while a line inside the trace is in flight", acks)
	}
	w.Done([]Slot{s2})
	if want := []ack{{"f", 10}, {"f", 20}, {"f", 30}, {"f", 40}, {"f", 50}}; !slices.Equal(acks, want) {
		t.Fatalf("acks %v, want %v", acks, want)
	}
	if w.Tracks("f") || w.Pending() != 0 {
		t.Error("window still tracks the file")
	}
}

// FuzzJoiner checks, for any lines under every engine, that each line is
// consumed exactly once and in order, that split-mode events are exactly
// their lines joined, and that limits hold.
func FuzzJoiner(f *testing.F) {
	f.Add("java.lang.Error: x\n\tat a(1)\nplain\nTraceback (most recent call last):\n  File \"a\"\n    x\nE: y", uint8(0))
	f.Add("panic: p\n\ngoroutine 1 [running]:\nmain.main()\n\t/a.go:1\n", uint8(1))
	f.Add("[1] a\n b\n[2] c\\\nd", uint8(2))
	rules := []Rule{
		{Type: TypeBuiltin, Languages: []string{"all"}, MaxLines: 7, MaxBytes: 64},
		{Type: TypeStates, Parsers: []string{"java", "python", "go", "ruby"}, MaxLines: 5},
		{Type: TypePattern, Pattern: `^\[`, Negate: true, MaxLines: 3, MaxBytes: 40, OnLimit: "drop"},
		{Type: TypeCondition, StartPattern: `^\S`, ConditionPattern: `^\s`, Mode: ModeContinueThrough, MaxBytes: 50},
		{Type: TypeRecombine, IsFirstEntry: `body matches "^\\["`, MaxLines: 4},
		{Type: TypeSplit, LineEndPattern: `\\\n`},
		{Type: TypeEndsWith, EndsWith: `\`, Negate: true},
		{Type: TypeWhilePattern, Pattern: `^\s`},
		{Type: TypeCount, CountLines: 3},
	}
	specs := make([]*Spec, len(rules))
	for i, r := range rules {
		specs[i] = mustSpec(f, r)
	}
	f.Fuzz(func(t *testing.T, input string, which uint8) {
		r, sp := rules[int(which)%len(rules)], specs[int(which)%len(rules)]
		lines := strings.Split(input, "\n")
		evs := join(sp, lines)
		next := 0
		for _, e := range evs {
			if len(e.Tokens) == 0 || e.Lines != len(e.Tokens) {
				t.Fatalf("event with %d tokens, Lines %d", len(e.Tokens), e.Lines)
			}
			for _, tok := range e.Tokens {
				if tok != next {
					t.Fatalf("line %d consumed out of order (want %d)", tok, next)
				}
				next++
			}
			if sp.onLimit == limitSplit && !sp.trim {
				var parts []string
				for _, tok := range e.Tokens {
					parts = append(parts, lines[tok])
				}
				if want := strings.Join(parts, sp.sep); string(e.Text) != want {
					t.Fatalf("event text %q, want %q", e.Text, want)
				}
				if sp.maxLines > 0 && e.Lines > sp.maxLines {
					t.Fatalf("%d lines over max_lines %d", e.Lines, sp.maxLines)
				}
				if sp.maxBytes > 0 && e.Lines > 1 && len(e.Text) > sp.maxBytes {
					t.Fatalf("%d bytes over max_bytes %d", len(e.Text), sp.maxBytes)
				}
			}
			if sp.onLimit == limitDrop && r.MaxBytes > 0 && len(e.Text) > int(r.MaxBytes) {
				t.Fatalf("drop mode: %d bytes over %d", len(e.Text), r.MaxBytes)
			}
		}
		if next != len(lines) {
			t.Fatalf("%d of %d lines consumed", next, len(lines))
		}
	})
}

func ExampleNewJoiner() {
	sp, _ := CompileRule(Rule{Type: TypeBuiltin, Languages: []string{"java"}}, 1<<20)
	j := NewJoiner(sp, func(ev Event[int64]) { fmt.Printf("offset %d, %d lines: %q\n", ev.Tokens[0], ev.Lines, ev.Text) })
	now := time.Now()
	j.Add([]byte("java.lang.IllegalStateException: boom"), 0, now)
	j.Add([]byte("\tat com.acme.Main.main(Main.java:3)"), 39, now)
	j.Add([]byte("next line"), 76, now)
	j.Flush()
	// Output:
	// offset 0, 2 lines: "java.lang.IllegalStateException: boom\n\tat com.acme.Main.main(Main.java:3)"
	// offset 76, 1 lines: "next line"
}

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`(?:Exception|Error|Throwable)[:\r\n]`, []string{"xception", "rror", "Throwable"}}, // the parser factors out the common "E"
		{`\bpanic: `, []string{"panic: "}},
		{`^Traceback \(most recent call last\):$`, []string{"Traceback (most recent call last):"}},
		{`(?i)error`, nil},
		{`a|b*`, nil},
		{`^\s+at `, []string{"at "}},
		{`x*`, nil},
	}
	for _, tt := range tests {
		if got := requiredLiterals(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.expr, got, tt.want)
		}
	}
}

// FuzzPrefilter checks that the literal prefilter never changes a match.
func FuzzPrefilter(f *testing.F) {
	patterns := []string{`(?:Exception|Error|Throwable|V8 errors stack trace)[:\r\n]`, `\bpanic: `, `^[\t ]+(?:eval )?at `,
		`^(?:[^\s.:]+\.)*[^\s.():]+\(|^created by `, `a(bc|de)+f`, `x{2,3}y`, `^(?:[^\s.():]+\.)*[^\s.():]+:`}
	for _, s := range []string{"java.lang.Error: x", "  at a", "tympanic: x", "created by main", "abcdebcf", "xxy"} {
		f.Add(s)
	}
	ms := make([]*Matcher, len(patterns))
	for i, p := range patterns {
		m, err := Compile(p)
		if err != nil {
			f.Fatal(err)
		}
		ms[i] = m
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range ms {
			if got, want := m.Match(s), m.re.MatchString(s); got != want {
				t.Fatalf("%s on %q: prefiltered %v, regexp %v", m, s, got, want)
			}
		}
	})
}

func TestCheckReportsFailures(t *testing.T) {
	cases := []Case{
		{ID: "ok", Style: "vector", Mode: "custom", Rule: map[string]any{"start_pattern": `^\S`, "condition_pattern": `^\s`, "mode": "continue_through"},
			Input: []string{"a", " b", "c"}, Expect: []string{"a\n b", "c"}},
		{ID: "wrong", Style: "vector", Mode: "custom", Rule: map[string]any{"start_pattern": `^\S`, "condition_pattern": `^\s`, "mode": "continue_through"},
			Input: []string{"a", " b", "c"}, Expect: []string{"a", " b", "c"}},
		{ID: "unknown-style", Style: "logstash", Mode: "custom", Input: []string{"a"}, Expect: []string{"a"}},
	}
	res := Check(cases)
	if res.Passed != 1 || res.Failed != 2 {
		t.Fatalf("%d passed, %d failed; want 1, 2", res.Passed, res.Failed)
	}
	if f := res.Results[1].Failure; !strings.HasPrefix(f, "FAIL wrong") || !strings.Contains(f, `got:  "a\n b"`) {
		t.Errorf("failure report lacks details:\n%s", f)
	}
	if f := res.Results[2].Failure; !strings.Contains(f, `unknown style "logstash"`) {
		t.Errorf("failure report: %s", f)
	}
}
