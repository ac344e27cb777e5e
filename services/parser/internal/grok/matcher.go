package grok

import (
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"strconv"
	"sync"
)

// Kind is the type of a captured Value.
type Kind uint8

const (
	KindString Kind = iota // Bytes holds the text
	KindInt                // Int holds the value (from a :int capture)
	KindFloat              // Float holds the value (from a :float capture)
)

// Value is one captured value. For KindString, Bytes aliases the input line
// passed to Match and is only valid until Match returns; copy it (or call
// String) to keep it.
type Value struct {
	Kind  Kind
	Bytes []byte
	Int   int64
	Float float64
}

// String returns the value as text (numbers formatted).
func (v Value) String() string {
	switch v.Kind {
	case KindInt:
		return strconv.FormatInt(v.Int, 10)
	case KindFloat:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	}
	return string(v.Bytes)
}

// Any returns the value as string, int64 or float64.
func (v Value) Any() any {
	switch v.Kind {
	case KindInt:
		return v.Int
	case KindFloat:
		return v.Float
	}
	return string(v.Bytes)
}

// Capture describes one field a Matcher can produce.
type Capture struct {
	Name string   // field reference as written, e.g. "[http][version]"
	Path []string // its path segments, e.g. ["http", "version"]
	Conv Conv
}

// Matcher is a compiled grok expression. It is safe for concurrent use.
type Matcher struct {
	expr     string
	expanded string
	re       *regexp.Regexp
	prog     *prog // nil: RE2 only
	fields   []fieldSlot
	ncap     int
	pool     sync.Pool
}

type fieldSlot struct {
	group int // regexp group index
	toEOL bool
	Capture
}

// Compile expands expr against the library and compiles it. Errors name the
// offending pattern: unknown references, recursion, size limits, and
// constructs RE2 cannot express (lookaround, backreferences).
func (l *Library) Compile(expr string) (*Matcher, error) {
	expanded, fields, err := l.expand(expr)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(expanded)
	if err != nil {
		return nil, fmt.Errorf("grok: compiling %q: %w", clip(expr), err)
	}
	m := &Matcher{expr: expr, expanded: expanded, re: re, ncap: re.NumSubexp() + 1}
	byGroup := make(map[string]field, len(fields))
	for _, f := range fields {
		byGroup[f.group] = f
	}
	for i, name := range re.SubexpNames() {
		if f, ok := byGroup[name]; ok {
			m.fields = append(m.fields, fieldSlot{group: i, toEOL: f.toEOL, Capture: Capture{Name: f.name, Path: f.path, Conv: f.conv}})
		}
	}
	if parsed, err := syntax.Parse(expanded, syntax.Perl); err == nil {
		m.prog = buildProg(parsed, m.ncap)
	}
	m.pool.New = func() any {
		mc := &machine{caps: make([]int, 2*m.ncap), stack: make([]int, 0, 64)}
		if m.prog != nil {
			mc.las = make([]la, m.prog.nla)
		}
		return mc
	}
	return m, nil
}

// String returns the grok expression the matcher was compiled from.
func (m *Matcher) String() string { return m.expr }

// Expanded returns the regular expression (RE2 syntax) the expression
// expanded to; field captures are the groups named g0, g1, ...
func (m *Matcher) Expanded() string { return m.expanded }

// Captures lists the fields the matcher can produce, in group order.
func (m *Matcher) Captures() []Capture {
	out := make([]Capture, len(m.fields))
	for i, f := range m.fields {
		out[i] = f.Capture
	}
	return out
}

// FastPath reports whether the expression has a fast-path program (lines
// it cannot decide still go to RE2).
func (m *Matcher) FastPath() bool { return m.prog != nil }

// Match matches line and, on success, calls fn for every capture that took
// part in the match, in capture order. As in Logstash, captures that did not
// participate or matched the empty string are skipped (an empty :int/:float
// capture yields 0). path is shared and must not be modified; string values
// alias line. Match does not allocate when the fast path decides the line.
func (m *Matcher) Match(line []byte, fn func(path []string, v Value)) bool {
	mc := m.pool.Get().(*machine)
	caps, ok := m.locate(mc, line)
	if ok && fn != nil {
		m.emit(line, caps, fn)
	}
	mc.in = nil
	m.pool.Put(mc)
	return ok
}

// locate returns submatch positions in FindSubmatchIndex layout.
func (m *Matcher) locate(mc *machine, line []byte) ([]int, bool) {
	if m.prog != nil {
		mc.in = line
		switch m.prog.exec(mc) {
		case stMatch:
			return mc.caps, true
		case stNo:
			return nil, false
		}
	}
	if !m.re.Match(line) {
		return nil, false
	}
	return m.re.FindSubmatchIndex(line), true
}

// matchRE2 is Match restricted to the RE2 path; used by tests.
func (m *Matcher) matchRE2(line []byte) []int { return m.re.FindSubmatchIndex(line) }

// matchFast runs only the fast path; used by tests.
func (m *Matcher) matchFast(line []byte) ([]int, status) {
	if m.prog == nil {
		return nil, stUnknown
	}
	mc := &machine{caps: make([]int, 2*m.ncap), in: line, las: make([]la, m.prog.nla)}
	st := m.prog.exec(mc)
	return mc.caps, st
}

func (m *Matcher) emit(line []byte, caps []int, fn func([]string, Value)) {
	for i := range m.fields {
		f := &m.fields[i]
		a, b := caps[2*f.group], caps[2*f.group+1]
		if a < 0 {
			continue
		}
		if f.toEOL {
			b = len(line)
		}
		s := line[a:b]
		switch f.Conv {
		case ConvInt:
			fn(f.Path, Value{Kind: KindInt, Int: rubyInt(s)})
		case ConvFloat:
			fn(f.Path, Value{Kind: KindFloat, Float: rubyFloat(s)})
		default:
			if len(s) == 0 {
				continue
			}
			fn(f.Path, Value{Kind: KindString, Bytes: s})
		}
	}
}

// MatchMap matches line and returns its captures as nested maps
// (map[string]any, leaves string/int64/float64). A field captured more than
// once becomes a []any of its values, as Logstash does.
func (m *Matcher) MatchMap(line string) (map[string]any, bool) {
	out := map[string]any{}
	ok := m.Match([]byte(line), func(path []string, v Value) {
		SetField(out, path, v.Any())
	})
	if !ok {
		return nil, false
	}
	return out, true
}

// SetField stores v at path inside the nested map root with Logstash's
// rules for repeated captures: a missing field is set; a string becomes
// [old, v]; an array gets v appended; any other existing value is kept.
func SetField(root map[string]any, path []string, v any) {
	cur := root
	for _, seg := range path[:len(path)-1] {
		next, ok := cur[seg].(map[string]any)
		if !ok {
			if _, exists := cur[seg]; exists {
				return
			}
			next = map[string]any{}
			cur[seg] = next
		}
		cur = next
	}
	last := path[len(path)-1]
	switch old := cur[last].(type) {
	case nil:
		cur[last] = v
	case []any:
		cur[last] = append(old, v)
	case string:
		cur[last] = []any{old, v}
	}
}

// rubyInt converts like Ruby's String#to_i: optional leading whitespace and
// sign, then digits (single underscores allowed between them); anything
// else ends the number; no digits gives 0. Out-of-range values saturate.
func rubyInt(s []byte) int64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var n uint64
	over := false
	for ; i < len(s); i++ {
		c := s[i]
		if c == '_' && i > 0 && isDigit(s[i-1]) && i+1 < len(s) && isDigit(s[i+1]) {
			continue
		}
		if !isDigit(c) {
			break
		}
		if n > (math.MaxUint64-9)/10 {
			over = true
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if over || n > 1<<63 {
			return math.MinInt64
		}
		return -int64(n)
	}
	if over || n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// rubyFloat converts like Ruby's String#to_f: the longest leading decimal
// number (sign, digits, fraction, exponent); nothing parsable gives 0.
func rubyFloat(s []byte) float64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	var buf [64]byte
	b := buf[:0]
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		b = append(b, s[i])
		i++
	}
	digits := func() int {
		n := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c == '_' && n > 0 && i+1 < len(s) && isDigit(s[i+1]) {
				continue
			}
			if !isDigit(c) {
				break
			}
			b = append(b, c)
			n++
		}
		return n
	}
	n := digits()
	if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
		b = append(b, '.')
		i++
		n += digits()
	}
	if n == 0 {
		return 0
	}
	if i+1 < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			b = append(b, 'e')
			b = append(b, s[i+1:j]...)
			i = j
			digits()
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil && f == 0 {
		return 0
	}
	return f
}
