package multiline

import (
	"github.com/sluice-io/sluice/libs/config"
)

// patternDecider is Filebeat's pattern and while_pattern types.
//
// pattern: the first line of a stream, or the first after any flush,
// always opens an event. Then a line matching flush_pattern is added and
// ends the event; otherwise match "after" tests the current line and
// "before" the previous one, negate inverting the test: true appends, false
// emits the event and opens the next with this line.
//
// while_pattern: consecutive lines matching (negate: not matching) form one
// event; any other line is an event of its own.
func patternDecider(r Rule) (func() decider, error) {
	if r.Pattern == "" {
		return nil, config.Errorf("pattern", "required for type %s", r.Type)
	}
	m, err := CompileForeign(r.Pattern, false, false)
	if err != nil {
		return nil, config.Errorf("pattern", "%v", err)
	}
	var flush *Matcher
	if r.FlushPattern != "" {
		if flush, err = CompileForeign(r.FlushPattern, false, false); err != nil {
			return nil, config.Errorf("flush_pattern", "%v", err)
		}
	}
	negate := r.Negate
	if r.Type == TypeWhilePattern {
		return func() decider { return whilePattern{m: m, negate: negate} }, nil
	}
	var before bool
	switch r.MatchMode {
	case "", "after":
	case "before":
		before = true
	default:
		return nil, config.Errorf("match_mode", "unknown value %q (want after or before)", r.MatchMode)
	}
	return func() decider { return &beatsPattern{m: m, negate: negate, before: before, flush: flush} }, nil
}

type beatsPattern struct {
	m, flush       *Matcher
	negate, before bool
	last           string
}

func (b *beatsPattern) decide(line string, p pending) action {
	prev := b.last
	b.last = line
	if !p.open {
		return actAppend
	}
	if b.flush != nil && b.flush.Match(line) {
		return actAppendFlush
	}
	subject := line
	if b.before {
		subject = prev
	}
	if b.m.Match(subject) != b.negate {
		return actAppend
	}
	return actStart
}

func (b *beatsPattern) reset() {}

type whilePattern struct {
	m      *Matcher
	negate bool
}

func (w whilePattern) decide(line string, _ pending) action {
	if w.m.Match(line) != w.negate {
		return actAppend
	}
	return actSingle
}

func (whilePattern) reset() {}

// countDecider is Filebeat's count type: every n lines form an event.
func countDecider(n int) decider { return counter(n) }

type counter int

func (c counter) decide(_ string, p pending) action {
	if p.lines+1 >= int(c) {
		return actAppendFlush
	}
	return actAppend
}

func (counter) reset() {}

// Vector's modes.
const (
	ModeContinueThrough = "continue_through"
	ModeContinuePast    = "continue_past"
	ModeHaltBefore      = "halt_before"
	ModeHaltWith        = "halt_with"
)

// conditionDecider is Vector's multiline: with no open group, a line
// matching start opens one and any other passes through; with a group
// open, condition decides by mode.
func conditionDecider(start, cond, mode string) (func() decider, error) {
	sm, err := CompileForeign(start, false, false)
	if err != nil {
		return nil, config.Errorf("start_pattern", "%v", err)
	}
	cm, err := CompileForeign(cond, false, false)
	if err != nil {
		return nil, config.Errorf("condition_pattern", "%v", err)
	}
	switch mode {
	case ModeContinueThrough, ModeContinuePast, ModeHaltBefore, ModeHaltWith:
	case "":
		return nil, config.Errorf("mode", "required for type condition (continue_through, continue_past, halt_before or halt_with)")
	default:
		return nil, config.Errorf("mode", "unknown mode %q (want continue_through, continue_past, halt_before or halt_with)", mode)
	}
	return func() decider { return condition{start: sm, cond: cm, mode: mode} }, nil
}

type condition struct {
	start, cond *Matcher
	mode        string
}

// fresh handles a line with no group open.
func (c condition) fresh(line string) action {
	if c.start.Match(line) {
		return actStart
	}
	return actSingle
}

func (c condition) decide(line string, p pending) action {
	if !p.open {
		return c.fresh(line)
	}
	match := c.cond.Match(line)
	switch c.mode {
	case ModeContinueThrough:
		if match {
			return actAppend
		}
		return c.fresh(line)
	case ModeContinuePast:
		if match {
			return actAppend
		}
		return actAppendFlush
	case ModeHaltBefore:
		if match {
			return c.fresh(line)
		}
		return actAppend
	default: // halt_with
		if match {
			return actAppendFlush
		}
		return actAppend
	}
}

func (condition) reset() {}

// splitDecider is the OpenTelemetry filelog receiver's multiline split:
// a line matching start begins a token (whatever came before the first
// match is one token); a line matching end closes one. Patterns see the
// line with its "\n", in multi-line mode, as the byte-stream split does.
func splitDecider(start, end string) (func() decider, error) {
	switch {
	case start != "" && end != "":
		return nil, config.Errorf("line_start_pattern", "only one of line_start_pattern and line_end_pattern may be set")
	case start != "":
		m, err := Compile("(?m)" + start)
		if err != nil {
			return nil, config.Errorf("line_start_pattern", "%v", err)
		}
		return func() decider { return &split{m: m} }, nil
	case end != "":
		m, err := Compile("(?m)" + end)
		if err != nil {
			return nil, config.Errorf("line_end_pattern", "%v", err)
		}
		return func() decider { return &split{m: m, end: true} }, nil
	}
	return nil, config.Errorf("line_start_pattern", "line_start_pattern or line_end_pattern is required for type split")
}

type split struct {
	m   *Matcher
	end bool
	buf []byte
}

func (s *split) decide(line string, _ pending) action {
	s.buf = append(append(s.buf[:0], line...), '\n')
	match := s.m.Match(string(s.buf))
	switch {
	case s.end && match:
		return actAppendFlush
	case !s.end && match:
		return actStart
	}
	return actAppend
}

func (s *split) reset() {}
