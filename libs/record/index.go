package record

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultIndexPattern is the index name pattern of a default configuration:
// one index per UTC day.
const DefaultIndexPattern = "logs-%{+yyyy.MM.dd}"

// IndexPattern is a compiled index name pattern, the one implementation
// both the parser (which renders the sluice-index header) and the indexer
// (which may compute a name itself) use, so the two can never disagree.
//
// A pattern is literal text with placeholders, Logstash style:
//
//	%{+<date format>}  the document's time in UTC, e.g. logs-%{+yyyy.MM.dd}
//	%{value}           a value the caller supplies (the indexer's field mode;
//	                   only with ParseIndexPatternWithValue)
//
// A date format is made of Joda-Time fields and literal text:
//
//	yyyy, YYYY, uuuu  year, 4 digits        yy, YY  year, 2 digits
//	MM                month 01-12           dd      day of month 01-31
//	HH                hour 00-23            ww      ISO 8601 week 01-53
//	xxxx              ISO 8601 week-based year, 4 digits
//	'text'            literal text ('' is a quote); any other non-letter
//	                  (. - _ digits) is literal as it is
//
// A week belongs to one week-based year, which can differ from the calendar
// year for the days around New Year (2021-01-03 is in week 53 of 2020,
// 2024-12-30 in week 1 of 2025). So in a format with ww the year fields
// stand for the week-based year whichever letter they use: logs-%{+yyyy.ww}
// is logs-%{+xxxx.ww}, and never puts the last days of December into week 1
// of the year they are in. (Joda and Logstash render the calendar year
// there, which files 2024-12-30 under 2024.01 next to January 2024.) For the
// same reason a format may not mix weeks with months or days.
//
// No field is finer than the hour, so a name depends on the time only
// through its UTC hour; callers may cache names by hour.
//
// An IndexPattern is immutable and safe for concurrent use.
type IndexPattern struct {
	src     string
	parts   []indexPart
	literal string // the whole name when there are no placeholders
	dated   bool
	valued  bool
}

// indexPart is one element of a pattern: literal text, a date field or the
// value.
type indexPart struct {
	kind  partKind
	lit   string
	field dateField
}

type partKind uint8

const (
	partLiteral partKind = iota
	partDate
	partValue
)

type dateField uint8

const (
	fieldYear dateField = iota + 1
	fieldYear2
	fieldWeekYear
	fieldWeekYear2
	fieldMonth
	fieldDay
	fieldHour
	fieldWeek
)

// ParseIndexPattern compiles an index name pattern with literal text and
// %{+<date format>} placeholders. The errors do not name a configuration
// key; callers add theirs.
func ParseIndexPattern(p string) (*IndexPattern, error) { return parseIndexPattern(p, false) }

// ParseIndexPatternWithValue is ParseIndexPattern that also accepts
// %{value}.
func ParseIndexPatternWithValue(p string) (*IndexPattern, error) {
	return parseIndexPattern(p, true)
}

// MustParseIndexPattern is ParseIndexPattern for patterns known to be good.
func MustParseIndexPattern(p string) *IndexPattern {
	ip, err := ParseIndexPattern(p)
	if err != nil {
		panic(err)
	}
	return ip
}

func parseIndexPattern(p string, withValue bool) (*IndexPattern, error) {
	if p == "" {
		return nil, errors.New("empty index name")
	}
	ip := &IndexPattern{src: p}
	for rest := p; rest != ""; {
		i := strings.Index(rest, "%{")
		if i < 0 {
			ip.parts = append(ip.parts, indexPart{kind: partLiteral, lit: rest})
			break
		}
		if i > 0 {
			ip.parts = append(ip.parts, indexPart{kind: partLiteral, lit: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("%q: unclosed %%{", p)
		}
		ref := rest[i+2 : i+j]
		rest = rest[i+j+1:]
		switch {
		case strings.HasPrefix(ref, "+"):
			parts, err := parseDateFormat(ref[1:])
			if err != nil {
				return nil, fmt.Errorf("%q: %w", p, err)
			}
			ip.parts = append(ip.parts, parts...)
			ip.dated = true
		case ref == "value" && withValue:
			ip.parts = append(ip.parts, indexPart{kind: partValue})
			ip.valued = true
		case ref == "value":
			return nil, fmt.Errorf("%q: %%{value} is only for a name chosen by a field", p)
		case withValue:
			return nil, fmt.Errorf("%q: unknown placeholder %%{%s} (want %%{+yyyy.MM.dd} or %%{value})", p, ref)
		default:
			return nil, fmt.Errorf("%q: unknown placeholder %%{%s} (want %%{+yyyy.MM.dd})", p, ref)
		}
	}
	if err := ip.resolveWeeks(); err != nil {
		return nil, fmt.Errorf("%q: %w", p, err)
	}
	if !ip.dated && !ip.valued {
		ip.literal = p
	}
	for _, pt := range ip.parts {
		if pt.kind != partLiteral {
			continue
		}
		for k := 0; k < len(pt.lit); k++ {
			if !ValidIndexNameByte(pt.lit[k]) {
				return nil, fmt.Errorf("%q: %q is not allowed in an index name (lowercase, no spaces or \\/*?\"<>|,#:)", p, pt.lit[k])
			}
		}
	}
	// Dates render as digits, so one sample shows whether every name the
	// pattern makes is valid (a value is checked by the caller that knows
	// the values).
	if err := CheckIndexName(string(ip.AppendName(nil, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "v"))); err != nil {
		return nil, err
	}
	return ip, nil
}

// parseDateFormat splits a Joda date format into parts.
func parseDateFormat(f string) ([]indexPart, error) {
	if f == "" {
		return nil, errors.New("empty date format")
	}
	var parts []indexPart
	lit := func(s string) {
		if n := len(parts); n > 0 && parts[n-1].kind == partLiteral {
			parts[n-1].lit += s
			return
		}
		parts = append(parts, indexPart{kind: partLiteral, lit: s})
	}
	for i := 0; i < len(f); {
		c := f[i]
		if c == '\'' {
			// Quoted literal text; '' is one quote.
			j := i + 1
			var text strings.Builder
			for {
				k := strings.IndexByte(f[j:], '\'')
				if k < 0 {
					return nil, fmt.Errorf("date format %q: unclosed quote", f)
				}
				text.WriteString(f[j : j+k])
				j += k + 1
				if j < len(f) && f[j] == '\'' {
					text.WriteByte('\'')
					j++
					continue
				}
				break
			}
			if i+1 == j-1 {
				text.WriteByte('\'') // '' outside quotes
			}
			lit(text.String())
			i = j
			continue
		}
		n := 1
		for i+n < len(f) && f[i+n] == c {
			n++
		}
		run := f[i : i+n]
		i += n
		var fd dateField
		switch run {
		case "yyyy", "YYYY", "uuuu":
			fd = fieldYear
		case "yy", "YY":
			fd = fieldYear2
		case "xxxx":
			fd = fieldWeekYear
		case "xx":
			fd = fieldWeekYear2
		case "MM":
			fd = fieldMonth
		case "dd":
			fd = fieldDay
		case "HH":
			fd = fieldHour
		case "ww":
			fd = fieldWeek
		default:
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				return nil, fmt.Errorf("unsupported date field %q (use yyyy, yy, MM, dd, HH, xxxx, ww)", run)
			}
			lit(run)
			continue
		}
		parts = append(parts, indexPart{kind: partDate, field: fd})
	}
	return parts, nil
}

// resolveWeeks makes the year fields of a week pattern week-based and
// rejects a pattern mixing weeks with months or days.
func (ip *IndexPattern) resolveWeeks() error {
	var weeks, calendar bool
	for _, pt := range ip.parts {
		switch {
		case pt.kind != partDate:
		case pt.field == fieldWeek || pt.field == fieldWeekYear || pt.field == fieldWeekYear2:
			weeks = true
		case pt.field == fieldMonth || pt.field == fieldDay:
			calendar = true
		}
	}
	if !weeks {
		return nil
	}
	if calendar {
		return errors.New("a date format cannot mix ISO weeks (ww, xxxx) with months or days (MM, dd): use xxxx.ww or yyyy.MM.dd")
	}
	for i := range ip.parts {
		switch ip.parts[i].field {
		case fieldYear:
			ip.parts[i].field = fieldWeekYear
		case fieldYear2:
			ip.parts[i].field = fieldWeekYear2
		}
	}
	return nil
}

// String returns the pattern as written.
func (ip *IndexPattern) String() string { return ip.src }

// Literal returns the name and true when the pattern has no placeholders.
func (ip *IndexPattern) Literal() (string, bool) { return ip.literal, ip.literal != "" }

// Dated reports whether names depend on the time.
func (ip *IndexPattern) Dated() bool { return ip.dated }

// Valued reports whether the pattern has %{value}.
func (ip *IndexPattern) Valued() bool { return ip.valued }

// Name renders the pattern for t, converted to UTC.
func (ip *IndexPattern) Name(t time.Time) string {
	if ip.literal != "" {
		return ip.literal
	}
	var buf [64]byte
	return string(ip.AppendName(buf[:0], t, ""))
}

// AppendName appends the name for t (converted to UTC) and value to dst.
func (ip *IndexPattern) AppendName(dst []byte, t time.Time, value string) []byte {
	if ip.literal != "" {
		return append(dst, ip.literal...)
	}
	t = t.UTC()
	var isoYear, isoWeek int
	if ip.dated {
		isoYear, isoWeek = t.ISOWeek()
	}
	for _, pt := range ip.parts {
		switch pt.kind {
		case partLiteral:
			dst = append(dst, pt.lit...)
		case partValue:
			dst = append(dst, value...)
		case partDate:
			switch pt.field {
			case fieldYear:
				dst = appendPad(dst, t.Year(), 4)
			case fieldYear2:
				dst = appendPad(dst, t.Year()%100, 2)
			case fieldWeekYear:
				dst = appendPad(dst, isoYear, 4)
			case fieldWeekYear2:
				dst = appendPad(dst, isoYear%100, 2)
			case fieldMonth:
				dst = appendPad(dst, int(t.Month()), 2)
			case fieldDay:
				dst = appendPad(dst, t.Day(), 2)
			case fieldHour:
				dst = appendPad(dst, t.Hour(), 2)
			case fieldWeek:
				dst = appendPad(dst, isoWeek, 2)
			}
		}
	}
	return dst
}

// appendPad appends v in decimal, zero-padded to width digits. A negative
// v (a year before 1 BC) keeps its sign in front.
func appendPad(b []byte, v, width int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// CheckIndexName reports why name is not a valid index or data stream
// name, as Elasticsearch's MetadataCreateIndexService sees it.
func CheckIndexName(name string) error {
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
		if c := name[i]; !ValidIndexNameByte(c) {
			return fmt.Errorf("index name %q: %q is not allowed (lowercase, no spaces or \\/*?\"<>|,#:)", name, c)
		}
	}
	return nil
}

// ValidIndexNameByte reports whether c may appear in an index or data
// stream name (anywhere but the first byte, which CheckIndexName checks).
func ValidIndexNameByte(c byte) bool {
	switch {
	case c >= 'A' && c <= 'Z', c <= ' ':
		return false
	}
	return !strings.ContainsRune(`\/*?"<>|,#:`, rune(c))
}
