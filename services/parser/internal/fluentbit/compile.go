package fluentbit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-io/sluice/services/parser/internal/logfmt"
	"github.com/sluice-io/sluice/services/parser/internal/timefmt"
)

// ErrNoMatch is returned (wrapped) when a line does not match a regex parser.
var ErrNoMatch = errors.New("line does not match")

// ErrMultilineUnsupported is returned (wrapped) by Compile for
// [MULTILINE_PARSER] sections.
var ErrMultilineUnsupported = errors.New("[MULTILINE_PARSER] sections are recorded but not supported: multiline assembly happens before per-line parsing")

// TimeError reports a Time_Key value that does not match Time_Format. Parse
// returns it together with the record's fields, in which the raw value is
// kept.
type TimeError struct {
	Parser string
	Value  string
	Err    error
}

func (e *TimeError) Error() string {
	return fmt.Sprintf("fluentbit: parser %q: invalid time %q: %v", e.Parser, e.Value, e.Err)
}

func (e *TimeError) Unwrap() error { return e.Err }

type typeKind uint8

const (
	typeString typeKind = iota
	typeInt
	typeFloat
	typeBool
	typeHex
)

type group struct {
	name  string
	index int
}

// Compiled is a ready-to-run parser. It is safe for concurrent use.
type Compiled struct {
	def      Parser
	re       *regexp.Regexp
	goRegex  string
	groups   []group
	timeKey  string
	time     *timefmt.Parser
	types    map[string]typeKind
	decoders map[string][]Decoder
	decOrder []string
}

// Definition returns the parser definition this was compiled from.
func (c *Compiled) Definition() Parser { return c.def }

// GoRegex returns the translated Go regular expression ("" unless Format
// is regex).
func (c *Compiled) GoRegex() string { return c.goRegex }

// Compile validates the definition and prepares it to run. Options are
// passed to timefmt.Compile for Time_Format, after the zone implied by
// Time_Offset / Time_System_Timezone; tests use timefmt.WithNow to pin the
// year inferred for year-less formats.
func (p *Parser) Compile(opts ...timefmt.Option) (*Compiled, error) {
	if p.Multiline {
		return nil, fmt.Errorf("fluentbit: parser %q: %w", p.Name, ErrMultilineUnsupported)
	}
	c := &Compiled{def: *p}
	switch p.Format {
	case "regex":
		re, goRe, err := TranslateRegex(p.Regex)
		if err != nil {
			var re *RegexError
			if errors.As(err, &re) {
				re.Parser = p.Name
			}
			return nil, err
		}
		c.re, c.goRegex = re, goRe
		for i, name := range re.SubexpNames() {
			if name != "" {
				c.groups = append(c.groups, group{name: name, index: i})
			}
		}
		if len(c.groups) == 0 {
			return nil, fmt.Errorf("fluentbit: parser %q: regex has no named groups, so it would produce no fields", p.Name)
		}
	case "json", "logfmt", "ltsv":
	case "":
		return nil, fmt.Errorf("fluentbit: parser %q: no Format", p.Name)
	default:
		return nil, fmt.Errorf("fluentbit: parser %q: unknown Format %q (want regex, json, logfmt or ltsv)", p.Name, p.Format)
	}
	if p.TimeFormat != "" {
		c.timeKey = p.TimeKey
		if c.timeKey == "" {
			c.timeKey = "time"
		}
		var tOpts []timefmt.Option
		switch {
		case p.TimeOffset != "":
			off, err := parseOffset(p.TimeOffset)
			if err != nil {
				return nil, fmt.Errorf("fluentbit: parser %q: Time_Offset %q: %v", p.Name, p.TimeOffset, err)
			}
			tOpts = append(tOpts, timefmt.WithLocation(time.FixedZone("", off)))
		case p.TimeSystemTimezone:
			tOpts = append(tOpts, timefmt.WithLocation(time.Local))
		}
		tOpts = append(tOpts, timefmt.WithTrailing())
		tOpts = append(tOpts, opts...)
		tp, err := timefmt.Compile("strftime:"+p.TimeFormat, tOpts...)
		if err != nil {
			return nil, fmt.Errorf("fluentbit: parser %q: Time_Format: %w", p.Name, err)
		}
		c.time = tp
	}
	if len(p.Types) > 0 {
		c.types = map[string]typeKind{}
		for _, t := range p.Types {
			var k typeKind
			switch t.Type {
			case "string":
				k = typeString
			case "integer":
				k = typeInt
			case "float":
				k = typeFloat
			case "bool":
				k = typeBool
			case "hex":
				k = typeHex
			default:
				return nil, fmt.Errorf("fluentbit: parser %q: Types %s:%s: unknown type (want string, integer, float, bool or hex)", p.Name, t.Key, t.Type)
			}
			c.types[t.Key] = k
		}
	}
	for _, d := range p.Decoders {
		switch d.Decoder {
		case "json", "escaped", "escaped_utf8", "mysql_quoted":
		default:
			return nil, fmt.Errorf("fluentbit: parser %q: unknown decoder %q (want json, escaped, escaped_utf8 or mysql_quoted)", p.Name, d.Decoder)
		}
		switch d.Action {
		case "", "try_next", "do_next":
		default:
			return nil, fmt.Errorf("fluentbit: parser %q: unknown decoder action %q (want try_next or do_next)", p.Name, d.Action)
		}
		if c.decoders == nil {
			c.decoders = map[string][]Decoder{}
		}
		if _, ok := c.decoders[d.Field]; !ok {
			c.decOrder = append(c.decOrder, d.Field)
		}
		c.decoders[d.Field] = append(c.decoders[d.Field], d)
	}
	return c, nil
}

func parseOffset(s string) (int, error) {
	if s == "Z" || s == "UTC" {
		return 0, nil
	}
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, errors.New("want ±HHMM or ±HH:MM")
	}
	digits := strings.ReplaceAll(s[1:], ":", "")
	if len(digits) != 4 && len(digits) != 2 {
		return 0, errors.New("want ±HHMM or ±HH:MM")
	}
	h, err1 := strconv.Atoi(digits[:2])
	m := 0
	var err2 error
	if len(digits) == 4 {
		m, err2 = strconv.Atoi(digits[2:])
	}
	if err1 != nil || err2 != nil || h > 23 || m > 59 {
		return 0, errors.New("want ±HHMM or ±HH:MM")
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off, nil
}

// state carries the time lookup through field collection.
type state struct {
	ts      time.Time
	hasTime bool
	timeErr error
}

// Parse parses one line. fields holds the record; ts and hasTime the time
// taken from Time_Key. A line that a regex parser does not match returns an
// error wrapping ErrNoMatch. A Time_Key value that does not parse returns
// the fields (with the raw value kept) and a *TimeError.
func (c *Compiled) Parse(line []byte) (fields map[string]any, ts time.Time, hasTime bool, err error) {
	var st state
	switch c.def.Format {
	case "regex":
		fields, err = c.parseRegex(line, &st)
	case "json":
		fields, err = c.parseJSON(line, &st)
	case "logfmt":
		fields, err = c.parseLogfmt(line, &st)
	case "ltsv":
		fields, err = c.parseLTSV(line, &st)
	}
	if err != nil {
		return nil, time.Time{}, false, err
	}
	if c.decoders != nil {
		c.decode(fields)
	}
	return fields, st.ts, st.hasTime, st.timeErr
}

// add stores one string field, applying time lookup and Types.
func (c *Compiled) add(fields map[string]any, key, val string, st *state) {
	if c.time != nil && key == c.timeKey {
		t, err := c.time.Parse(val)
		if err != nil {
			st.timeErr = &TimeError{Parser: c.def.Name, Value: val, Err: err}
		} else {
			st.ts, st.hasTime = t, true
			if !c.def.TimeKeep {
				return
			}
		}
	}
	fields[key] = c.convert(key, val)
}

func (c *Compiled) convert(key, val string) any {
	if c.types == nil {
		return val
	}
	k, ok := c.types[key]
	if !ok {
		return val
	}
	switch k {
	case typeInt:
		if n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64); err == nil {
			return n
		}
	case typeFloat:
		if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			return f
		}
	case typeBool:
		switch strings.ToLower(strings.TrimSpace(val)) {
		case "true":
			return true
		case "false":
			return false
		}
	case typeHex:
		h := strings.TrimSpace(val)
		h = strings.TrimPrefix(strings.TrimPrefix(h, "0x"), "0X")
		if n, err := strconv.ParseUint(h, 16, 64); err == nil {
			if n <= 1<<63-1 {
				return int64(n)
			}
			return n
		}
	}
	return val
}

func (c *Compiled) parseRegex(line []byte, st *state) (map[string]any, error) {
	m := c.re.FindSubmatchIndex(line)
	if m == nil {
		return nil, fmt.Errorf("fluentbit: parser %q: %w", c.def.Name, ErrNoMatch)
	}
	fields := make(map[string]any, len(c.groups))
	for _, g := range c.groups {
		a, b := m[2*g.index], m[2*g.index+1]
		if a < 0 {
			continue // group did not take part in the match
		}
		if a == b && c.def.SkipEmptyValues {
			continue
		}
		c.add(fields, g.name, string(line[a:b]), st)
	}
	return fields, nil
}

func (c *Compiled) parseJSON(line []byte, st *state) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("fluentbit: parser %q: json: %w", c.def.Name, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("fluentbit: parser %q: json: not an object", c.def.Name)
	}
	if rest := bytes.TrimSpace(line[dec.InputOffset():]); len(rest) > 0 {
		return nil, fmt.Errorf("fluentbit: parser %q: json: unexpected data after the object at byte %d", c.def.Name, dec.InputOffset())
	}
	fields := make(map[string]any, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			c.add(fields, k, s, st)
			continue
		}
		fields[k] = normalizeJSON(v)
	}
	return fields, nil
}

// normalizeJSON turns json.Number into int64, uint64 or float64.
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		if n, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeJSON(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeJSON(e)
		}
	}
	return v
}

func (c *Compiled) parseLogfmt(line []byte, st *state) (map[string]any, error) {
	fields := map[string]any{}
	var bare string
	err := logfmt.Decode(line, func(k, v []byte) error {
		if v == nil {
			if c.def.LogfmtNoBareKeys {
				bare = string(k)
				return errBareKey
			}
			fields[string(k)] = true
			return nil
		}
		c.add(fields, string(k), string(v), st)
		return nil
	})
	if err == errBareKey {
		return nil, fmt.Errorf("fluentbit: parser %q: bare key %q with Logfmt_No_Bare_Keys on", c.def.Name, bare)
	}
	if err != nil {
		return nil, fmt.Errorf("fluentbit: parser %q: %w", c.def.Name, err)
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("fluentbit: parser %q: %w", c.def.Name, ErrNoMatch)
	}
	return fields, nil
}

var errBareKey = errors.New("bare key")

func (c *Compiled) parseLTSV(line []byte, st *state) (map[string]any, error) {
	fields := map[string]any{}
	s := string(bytes.TrimRight(line, "\r\n"))
	for s != "" {
		var item string
		if i := strings.IndexByte(s, '\t'); i >= 0 {
			item, s = s[:i], s[i+1:]
		} else {
			item, s = s, ""
		}
		k, v, ok := strings.Cut(item, ":")
		if !ok || k == "" {
			continue
		}
		c.add(fields, k, v, st)
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("fluentbit: parser %q: %w", c.def.Name, ErrNoMatch)
	}
	return fields, nil
}
