package multiline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sluice-io/sluice/libs/config"
)

// langRule is one transition of a built-in language table: from any of
// from, a line matching pattern moves to to.
type langRule struct {
	from    []string
	pattern string
	to      string
}

func lr(from, pattern, to string) langRule {
	return langRule{from: strings.Split(from, ","), pattern: pattern, to: to}
}

// languageTables are Sluice's built-in stack-trace rules. Lines are
// matched with their "\n" kept, so "Error" at the end of a line counts as
// "Error" followed by a line break and a blank line is "^[\r\n]*$".
//
// Java's table also covers JavaScript (V8: "    at f (file.js:1:2)") and
// .NET ("   at Ns.Type.Method() in file.cs:line 3", inner exceptions with
// "--- End of inner exception stack trace ---").
var languageTables = map[string][]langRule{
	"java": {
		lr("start_state,java_start_exception", `(?:Exception|Error|Throwable|V8 errors stack trace)[:\r\n]`, "java_after_exception"),
		lr("java_after_exception", `^[\t ]*nested exception is:[\t ]*`, "java_start_exception"),
		lr("java_after_exception", `^[\r\n]*$`, "java_after_exception"),
		lr("java_after_exception,java", `^[\t ]+(?:eval )?at `, "java"),
		lr("java_after_exception,java", `^[\t ]+--- End of inner exception stack trace ---$`, "java"),
		lr("java_after_exception,java", `^--- End of stack trace from previous location where exception was thrown ---$`, "java"),
		lr("java_after_exception,java", `^[\t ]*(?:Caused by|Suppressed):`, "java_after_exception"),
		lr("java_after_exception,java", `^[\t ]*... \d+ (?:more|common frames omitted)`, "java"),
	},
	"python": {
		lr("start_state", `^Traceback \(most recent call last\):$`, "python"),
		lr("python", `^[\t ]+File `, "python_code"),
		lr("python_code", `[^\t ]`, "python"),
		// The exception line returns to start_state: the trace ends there.
		lr("python", `^(?:[^\s.():]+\.)*[^\s.():]+:`, "start_state"),
	},
	"go": {
		lr("start_state", `\bpanic: `, "go_after_panic"),
		lr("start_state", `http: panic serving`, "go_goroutine"),
		lr("go_after_panic,go_after_signal,go_frame_1", `^$`, "go_goroutine"),
		lr("go_after_panic", `^\[signal `, "go_after_signal"),
		lr("go_goroutine", `^goroutine \d+ \[[^\]]+\]:$`, "go_frame_1"),
		lr("go_frame_1", `^(?:[^\s.:]+\.)*[^\s.():]+\(|^created by `, "go_frame_2"),
		lr("go_frame_2", `^\s`, "go_frame_1"),
	},
	"ruby": {
		lr("start_state", `Error \(.*\):$`, "ruby_before_rails_trace"),
		lr("ruby_before_rails_trace", `^  $`, "ruby"),
		lr("ruby_before_rails_trace,ruby", `^[\t ]+.*?\.rb:\d+:in `+"`", "ruby"),
	},
}

var languageAliases = map[string]string{
	"java": "java", "js": "java", "javascript": "java", "node": "java", "nodejs": "java",
	"csharp": "java", "dotnet": "java", "c#": "java",
	"python": "python", "py": "python",
	"go": "go", "golang": "go",
	"ruby": "ruby", "rb": "ruby",
}

type compiledLangRule struct {
	m  *Matcher
	to string
}

// builtinDecider compiles the tables of languages into one machine.
func builtinDecider(languages []string) (func() decider, error) {
	if len(languages) == 0 {
		return nil, config.Errorf("languages", "at least one language is required for type builtin")
	}
	var tables []string
	for i, l := range languages {
		l = strings.ToLower(strings.TrimSpace(l))
		if l == "all" {
			for _, t := range []string{"java", "python", "go", "ruby"} {
				if !slices.Contains(tables, t) {
					tables = append(tables, t)
				}
			}
			continue
		}
		t, ok := languageAliases[l]
		if !ok {
			return nil, config.Errorf(fmt.Sprintf("languages[%d]", i), "unknown language %q (want java, python, go, ruby, dotnet, js, csharp or all)", l)
		}
		if !slices.Contains(tables, t) {
			tables = append(tables, t)
		}
	}
	byState := map[string][]compiledLangRule{}
	for _, t := range tables {
		for _, r := range languageTables[t] {
			m, err := CompileForeign(r.pattern, false, true)
			if err != nil {
				return nil, fmt.Errorf("built-in %s rule %q: %w", t, r.pattern, err)
			}
			for _, f := range r.from {
				byState[f] = append(byState[f], compiledLangRule{m: m, to: r.to})
			}
		}
	}
	return func() decider { return &langDecider{byState: byState, state: startState} }, nil
}

// langDecider runs the built-in tables. From a state every rule leaving it
// is a candidate, start rules included (so the exception line after
// "nested exception is:" continues the trace). A line no rule takes resets
// the machine and is tried again as the start of a new trace.
type langDecider struct {
	byState map[string][]compiledLangRule
	state   string
	buf     []byte
}

func (d *langDecider) step(line string) bool {
	for _, r := range d.byState[d.state] {
		if r.m.Match(line) {
			d.state = r.to
			return true
		}
	}
	d.state = startState
	return false
}

func (d *langDecider) decide(line string, _ pending) action {
	d.buf = append(append(d.buf[:0], line...), '\n')
	text := string(d.buf)
	before := d.state != startState
	matched := d.step(text)
	if !matched && before {
		before = false
		d.step(text)
	}
	after := d.state != startState
	switch {
	case before && after:
		return actAppend
	case before:
		return actAppendFlush
	case after:
		return actStart
	}
	return actSingle
}

func (d *langDecider) reset() { d.state = startState }
