package multiline

import (
	"fmt"
	"strings"

	"github.com/sluice-io/sluice/libs/config"
)

const startState = "start_state"

// fbRule is one compiled Fluent Bit rule.
type fbRule struct {
	from  []string
	m     *Matcher
	to    string
	start bool
}

// fbParser is one compiled Fluent Bit multiline parser of type regex.
type fbParser struct {
	starts []*fbRule
	// cont maps a state to the non-start rules leaving it, in order.
	cont map[string][]*fbRule
	// flushAt: states from which a start rule leaves. Reaching one ends
	// the event at once (Python's final "Error: msg" line, Java's
	// "nested exception is:").
	flushAt map[string]bool
}

func compileFluentBitParser(rules []StateRule, key string) (*fbParser, error) {
	p := &fbParser{cont: map[string][]*fbRule{}, flushAt: map[string]bool{}}
	var errs config.Problems
	for i, r := range rules {
		k := fmt.Sprintf("%s[%d]", key, i)
		m, err := CompileForeign(r.Pattern, true, false)
		if err != nil {
			errs.Addf(k+".pattern", "%v", err)
			continue
		}
		if len(r.From) == 0 || r.To == "" {
			errs.Addf(k, "from and to are required")
			continue
		}
		fr := &fbRule{from: r.From, m: m, to: r.To}
		for _, f := range r.From {
			if f == startState {
				fr.start = true
			}
		}
		if fr.start {
			p.starts = append(p.starts, fr)
			for _, f := range r.From {
				p.flushAt[f] = true
			}
		} else {
			for _, f := range r.From {
				p.cont[f] = append(p.cont[f], fr)
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if len(p.starts) == 0 {
		return nil, config.Errorf(key, "no rule leaves start_state")
	}
	return p, nil
}

// statesDecider builds Fluent Bit's rule engine over custom rules and
// Fluent Bit's built-in parsers.
//
// Per stream the engine remembers the parser and state of the last match.
// A line first tries that state's continuation rules (start rules are
// never continuations); then every parser's start rules in order; else it
// is not part of any event and goes out alone. The state survives flushes,
// as in Fluent Bit.
func statesDecider(rules []StateRule, builtins []string) (func() decider, error) {
	var parsers []*fbParser
	if len(rules) > 0 {
		p, err := compileFluentBitParser(rules, "states")
		if err != nil {
			return nil, err
		}
		parsers = append(parsers, p)
	}
	for i, name := range builtins {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "docker" || name == "cri" {
			// Fluent Bit's partial-line parsers: the tailer merges CRI and
			// docker partial lines before joining.
			continue
		}
		tbl, ok := fluentBitBuiltins[name]
		if !ok {
			return nil, config.Errorf(fmt.Sprintf("parsers[%d]", i), "unknown Fluent Bit built-in parser %q (want java, python, go or ruby)", name)
		}
		p, err := compileFluentBitParser(tbl, fmt.Sprintf("parsers[%d]", i))
		if err != nil {
			return nil, err
		}
		parsers = append(parsers, p)
	}
	if len(parsers) == 0 && len(builtins) == 0 {
		return nil, config.Errorf("states", "states or parsers is required for type states")
	}
	return func() decider {
		return &fbDecider{parsers: parsers, last: -1, state: make([]string, len(parsers))}
	}, nil
}

type fbDecider struct {
	parsers []*fbParser
	last    int
	state   []string
}

func (d *fbDecider) decide(line string, _ pending) action {
	if d.last >= 0 {
		p := d.parsers[d.last]
		for _, r := range p.cont[d.state[d.last]] {
			if r.m.Match(line) {
				d.state[d.last] = r.to
				if p.flushAt[r.to] {
					return actAppendFlush
				}
				return actAppend
			}
		}
	}
	for i, p := range d.parsers {
		for _, r := range p.starts {
			if r.m.Match(line) {
				d.last, d.state[i] = i, r.to
				if p.flushAt[r.to] {
					return actSingle
				}
				return actStart
			}
		}
	}
	return actSingle
}

// reset keeps the state: Fluent Bit's flush timer does not touch it.
func (d *fbDecider) reset() {}

func st(from string, pattern, to string) StateRule {
	return StateRule{From: strings.Split(from, ","), Pattern: pattern, To: to}
}

// fluentBitBuiltins are Fluent Bit's built-in language parsers, as its
// documentation and tests describe their behaviour.
var fluentBitBuiltins = map[string][]StateRule{
	"java": {
		st("start_state,java_start_exception", `/(.)(?:Exception|Error|Throwable|V8 errors stack trace)[:\r\n]/`, "java_after_exception"),
		st("java_after_exception", `/^[\t ]*nested exception is:[\t ]*/`, "java_start_exception"),
		st("java_after_exception", `/^[\r\n]*$/`, "java_after_exception"),
		st("java_after_exception,java", `/^[\t ]+(?:eval )?at /`, "java"),
		st("java_after_exception,java", `/^[\t ]+--- End of inner exception stack trace ---$/`, "java"),
		st("java_after_exception,java", `/^--- End of stack trace from previous location where exception was thrown ---$/`, "java"),
		st("java_after_exception,java", `/^[\t ]*(?:Caused by|Suppressed):/`, "java_after_exception"),
		st("java_after_exception,java", `/^[\t ]*... \d+ (?:more|common frames omitted)/`, "java"),
	},
	"python": {
		st("start_state", `/^Traceback \(most recent call last\):$/`, "python"),
		st("python", `/^[\t ]+File /`, "python_code"),
		st("python_code", `/[^\t ]/`, "python"),
		st("python", `/^(?:[^\s.():]+\.)*[^\s.():]+:/`, "start_state"),
	},
	"go": {
		st("start_state", `/\bpanic: /`, "go_after_panic"),
		st("start_state", `/http: panic serving/`, "go_goroutine"),
		st("go_after_panic", `/^$/`, "go_goroutine"),
		st("go_after_panic,go_after_signal,go_frame_1", `/^$/`, "go_goroutine"),
		st("go_after_panic", `/^\[signal /`, "go_after_signal"),
		st("go_goroutine", `/^goroutine \d+ \[[^\]]+\]:$/`, "go_frame_1"),
		st("go_frame_1", `/^(?:[^\s.:]+\.)*[^\s.():]+\(|^created by /`, "go_frame_2"),
		st("go_frame_2", `/^\s/`, "go_frame_1"),
	},
	"ruby": {
		st("start_state,ruby_start_exception", `/^.+:\d+:in\s+.*/`, "ruby_after_exception"),
		st("ruby_after_exception,ruby", `/^\s+from\s+.*:\d+:in\s+.*/`, "ruby"),
	},
}

// endsWithDecider is Fluent Bit's endswith type: a line ending with suffix
// ends the event, or with negate continues it.
func endsWithDecider(suffix string, negate bool) func() decider {
	return func() decider { return endsWith{suffix: suffix, negate: negate} }
}

type endsWith struct {
	suffix string
	negate bool
}

func (e endsWith) decide(line string, _ pending) action {
	if strings.HasSuffix(line, e.suffix) != e.negate {
		return actAppendFlush
	}
	return actAppend
}

func (endsWith) reset() {}
