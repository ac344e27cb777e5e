package timefmt

import (
	"fmt"
	"strings"
	"time"
)

// FutureTolerance is how far ahead of the reference clock a timestamp from a
// year-less layout may be before an earlier year is chosen.
const FutureTolerance = 7 * 24 * time.Hour

// Option configures a Parser.
type Option func(*config)

type config struct {
	loc      *time.Location
	now      func() time.Time
	trailing bool
}

// WithLocation sets the zone used for inputs that carry no zone or offset.
// The default is UTC. A nil location is ignored.
func WithLocation(loc *time.Location) Option {
	return func(c *config) {
		if loc != nil {
			c.loc = loc
		}
	}
}

// WithNow sets the reference clock used to infer the year for layouts that
// have none (and the century pivot of Joda "yy"). The default is time.Now.
func WithNow(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithTrailing makes Parse ignore input left over once the layout is
// consumed, as strptime(3) and Fluent Bit do ("…%S.%L" then matches
// "….123Z"). By default the whole input must match.
func WithTrailing() Option {
	return func(c *config) { c.trailing = true }
}

type kind uint8

const (
	kindOps kind = iota
	kindISO8601
	kindRFC3339
	kindUnix
	kindUnixMS
	kindUnixUS
	kindUnixNS
	kindTAI64N
)

var keywords = map[string]kind{
	"ISO8601": kindISO8601,
	"RFC3339": kindRFC3339,
	"UNIX":    kindUnix,
	"UNIX_MS": kindUnixMS,
	"UNIX_US": kindUnixUS,
	"UNIX_NS": kindUnixNS,
	"TAI64N":  kindTAI64N,
}

// Parser parses timestamps of one layout. It is safe for concurrent use.
type Parser struct {
	layout   string
	kind     kind
	ops      []op
	loc      *time.Location
	now      func() time.Time
	trailing bool
	joda     bool // Joda "yy" pivot rather than POSIX %y
	hasYear  bool
	hasMonth bool
	hasDay   bool
	hasZone  bool
}

// Layout returns the layout the Parser was compiled from.
func (p *Parser) Layout() string { return p.layout }

// HasYear reports whether inputs carry a year (false means it is inferred).
func (p *Parser) HasYear() bool { return p.hasYear }

// HasZone reports whether inputs carry a zone or offset (false means the
// WithLocation zone is used).
func (p *Parser) HasZone() bool { return p.hasZone }

// MustCompile is like Compile but panics on error. It is meant for layouts
// that are constants in code.
func MustCompile(layout string, opts ...Option) *Parser {
	p, err := Compile(layout, opts...)
	if err != nil {
		panic(err)
	}
	return p
}

// Compile compiles a layout: a keyword (ISO8601, RFC3339, UNIX, UNIX_MS,
// UNIX_US, UNIX_NS, TAI64N), a strftime layout (prefixed "strftime:" or
// containing '%'), or otherwise a Joda/Logstash date pattern.
func Compile(layout string, opts ...Option) (*Parser, error) {
	c := config{loc: time.UTC, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	p := &Parser{layout: layout, loc: c.loc, now: c.now, trailing: c.trailing}
	if k, ok := keywords[layout]; ok {
		p.kind = k
		p.hasYear, p.hasMonth, p.hasDay = true, true, true
		p.hasZone = k != kindISO8601
		return p, nil
	}
	var err error
	switch {
	case strings.HasPrefix(layout, "strftime:"):
		p.ops, err = compileStrftime(layout[len("strftime:"):])
	case strings.IndexByte(layout, '%') >= 0:
		p.ops, err = compileStrftime(layout)
	default:
		p.joda = true
		p.ops, err = compileJoda(layout)
	}
	if err != nil {
		return nil, fmt.Errorf("timefmt: layout %q: %w", layout, err)
	}
	if len(p.ops) == 0 {
		return nil, fmt.Errorf("timefmt: layout %q is empty", layout)
	}
	for _, o := range p.ops {
		switch o.kind {
		case opYear, opYear2:
			p.hasYear = true
		case opMonth, opMonthName:
			p.hasMonth = true
		case opDay:
			p.hasDay = true
		case opYDay:
			p.hasMonth, p.hasDay = true, true
		case opOffset, opZoneAbbr, opZoneID, opZLit:
			p.hasZone = true
		case opEpoch:
			p.hasYear, p.hasMonth, p.hasDay, p.hasZone = true, true, true, true
		}
	}
	return p, nil
}

// ParseError describes an input that does not match a layout.
type ParseError struct {
	Value  string // the input
	Layout string // the layout it was parsed with
	Offset int    // byte offset in Value where matching failed
	Reason string // optional detail, such as "day out of range"
}

func (e *ParseError) Error() string {
	v := e.Value
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	msg := fmt.Sprintf("timefmt: %q does not match %q at byte %d", v, e.Layout, e.Offset)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

func (p *Parser) fail(s string, off int, reason string) error {
	return &ParseError{Value: s, Layout: p.layout, Offset: off, Reason: reason}
}

// Parse parses s according to the compiled layout.
func (p *Parser) Parse(s string) (time.Time, error) {
	switch p.kind {
	case kindOps:
		return p.parseOps(s)
	case kindISO8601:
		return p.parseISO(s, false)
	case kindRFC3339:
		return p.parseISO(s, true)
	case kindUnix:
		return p.parseEpoch(s, 1e9, true)
	case kindUnixMS:
		return p.parseEpoch(s, 1e6, false)
	case kindUnixUS:
		return p.parseEpoch(s, 1e3, false)
	case kindUnixNS:
		return p.parseEpoch(s, 1, false)
	case kindTAI64N:
		return p.parseTAI64N(s)
	}
	return time.Time{}, p.fail(s, 0, "unknown layout kind")
}

// ParseBytes is Parse for a byte slice; it does not retain b.
func (p *Parser) ParseBytes(b []byte) (time.Time, error) {
	t, err := p.Parse(unsafeString(b))
	if err != nil {
		// The error holds the input: give it its own copy.
		if pe, ok := err.(*ParseError); ok {
			pe.Value = string(b)
		}
	}
	return t, err
}
