package indexname

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// pattern is a compiled name pattern: literals, %{+<date format>} and %{value}.
type pattern struct {
	parts   []part
	dated   bool
	valued  bool
	literal string // the whole name when the pattern has no placeholders
}

type partKind uint8

const (
	partLiteral partKind = iota
	partDate
	partValue
)

type part struct {
	kind partKind
	lit  string
	date []dateTok
}

// dateTok is one element of a Joda-style date format as Elasticsearch and
// Logstash write them (yyyy.MM.dd): a field of the time, or a literal.
type dateTok struct {
	field byte // 'y' (4 digits), 'Y' (2 digits), 'M', 'd', 'H', 'w' (ISO week), 'x' (ISO week-year); 0 for lit
	lit   string
}

// compile parses p. %{value} is allowed only when withValue is set.
func compile(p string, withValue bool) (*pattern, error) {
	if p == "" {
		return nil, errors.New("empty name")
	}
	out := &pattern{}
	rest := p
	for rest != "" {
		i := strings.Index(rest, "%{")
		if i < 0 {
			out.parts = append(out.parts, part{kind: partLiteral, lit: rest})
			break
		}
		if i > 0 {
			out.parts = append(out.parts, part{kind: partLiteral, lit: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("%q: unclosed %%{", p)
		}
		ref := rest[i+2 : i+j]
		rest = rest[i+j+1:]
		switch {
		case strings.HasPrefix(ref, "+"):
			toks, err := parseDateFormat(ref[1:])
			if err != nil {
				return nil, fmt.Errorf("%q: %w", p, err)
			}
			out.parts = append(out.parts, part{kind: partDate, date: toks})
			out.dated = true
		case ref == "value" && withValue:
			out.parts = append(out.parts, part{kind: partValue})
			out.valued = true
		case ref == "value":
			return nil, fmt.Errorf("%q: %%{value} is only for index.mode: field", p)
		default:
			return nil, fmt.Errorf("%q: unknown placeholder %%{%s} (want %%{+yyyy.MM.dd} or %%{value})", p, ref)
		}
	}
	if !out.dated && !out.valued {
		out.literal = p
		if err := checkName(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func parseDateFormat(f string) ([]dateTok, error) {
	if f == "" {
		return nil, errors.New("empty date format")
	}
	var toks []dateTok
	for i := 0; i < len(f); {
		c := f[i]
		n := 1
		for i+n < len(f) && f[i+n] == c {
			n++
		}
		run := f[i : i+n]
		i += n
		switch {
		case run == "yyyy" || run == "YYYY" || run == "uuuu":
			toks = append(toks, dateTok{field: 'y'})
		case run == "yy" || run == "YY":
			toks = append(toks, dateTok{field: 'Y'})
		case run == "MM":
			toks = append(toks, dateTok{field: 'M'})
		case run == "dd":
			toks = append(toks, dateTok{field: 'd'})
		case run == "HH":
			toks = append(toks, dateTok{field: 'H'})
		case run == "ww":
			toks = append(toks, dateTok{field: 'w'})
		case run == "xxxx":
			toks = append(toks, dateTok{field: 'x'})
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			return nil, fmt.Errorf("unsupported date field %q (use yyyy, yy, MM, dd, HH, xxxx, ww)", run)
		default:
			toks = append(toks, dateTok{lit: run})
		}
	}
	return toks, nil
}

// appendName renders the pattern for t (UTC) and value into b.
func (p *pattern) appendName(b []byte, t time.Time, value string) []byte {
	if p.literal != "" {
		return append(b, p.literal...)
	}
	t = t.UTC()
	for _, pt := range p.parts {
		switch pt.kind {
		case partLiteral:
			b = append(b, pt.lit...)
		case partValue:
			b = append(b, value...)
		case partDate:
			for _, tok := range pt.date {
				switch tok.field {
				case 0:
					b = append(b, tok.lit...)
				case 'y':
					b = appendPad(b, t.Year(), 4)
				case 'Y':
					b = appendPad(b, t.Year()%100, 2)
				case 'M':
					b = appendPad(b, int(t.Month()), 2)
				case 'd':
					b = appendPad(b, t.Day(), 2)
				case 'H':
					b = appendPad(b, t.Hour(), 2)
				case 'w':
					_, w := t.ISOWeek()
					b = appendPad(b, w, 2)
				case 'x':
					y, _ := t.ISOWeek()
					b = appendPad(b, y, 4)
				}
			}
		}
	}
	return b
}

func appendPad(b []byte, v, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// checkName reports why name is not a valid index or data stream name, as
// Elasticsearch's MetadataCreateIndexService sees it.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty index name")
	case len(name) > 255:
		return fmt.Errorf("index name %q is longer than 255 bytes", name)
	case name == "." || name == "..":
		return fmt.Errorf("index name %q is reserved", name)
	case name[0] == '-' || name[0] == '_' || name[0] == '+':
		return fmt.Errorf("index name %q must not start with -, _ or +", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !validNameByte(c) {
			return fmt.Errorf("index name %q: %q is not allowed (lowercase, no spaces or \\/*?\"<>|,#:)", name, c)
		}
	}
	return nil
}

func validNameByte(c byte) bool {
	switch {
	case c >= 'A' && c <= 'Z', c <= ' ':
		return false
	}
	return !strings.ContainsRune(`\/*?"<>|,#:`, rune(c))
}
