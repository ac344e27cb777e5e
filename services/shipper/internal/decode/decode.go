package decode

import (
	"bytes"
	"errors"
	"time"
)

// Stream is the container output stream a line was written to.
type Stream uint8

const (
	// StreamUnknown is the zero Stream: the line could not be decoded.
	StreamUnknown Stream = 0
	StreamStdout  Stream = 1
	StreamStderr  Stream = 2
)

func (s Stream) String() string {
	switch s {
	case StreamStdout:
		return "stdout"
	case StreamStderr:
		return "stderr"
	}
	return "unknown"
}

// Format is the on-disk format of a container log file.
type Format uint8

const (
	FormatUnknown Format = iota
	FormatCRI
	FormatDocker
)

func (f Format) String() string {
	switch f {
	case FormatCRI:
		return "cri"
	case FormatDocker:
		return "docker"
	}
	return "unknown"
}

// Line is one decoded physical line.
type Line struct {
	// Time is the runtime's timestamp in Unix nanoseconds.
	Time   int64
	Stream Stream
	// Partial reports that the runtime split the application's line and the
	// next record of the same stream continues it.
	Partial bool
	// Content is the text without the trailing newline; see the package
	// documentation for aliasing.
	Content []byte
}

// ErrMalformed is matched (errors.Is) by every decoding error.
var ErrMalformed = errors.New("decode: malformed line")

// SyntaxError describes why a line could not be decoded.
type SyntaxError struct {
	Format Format
	Reason string
}

func (e *SyntaxError) Error() string {
	return "decode: malformed " + formatName(e.Format) + " line: " + e.Reason
}

// Is makes errors.Is(err, ErrMalformed) true.
func (e *SyntaxError) Is(target error) bool { return target == ErrMalformed }

func formatName(f Format) string {
	switch f {
	case FormatCRI:
		return "CRI"
	case FormatDocker:
		return "docker"
	}
	return "container log"
}

// Preallocated so that the error path allocates nothing either.
var (
	errCRIEmpty         = &SyntaxError{FormatCRI, "empty line"}
	errCRIMissingTime   = &SyntaxError{FormatCRI, "missing time"}
	errCRIBadTime       = &SyntaxError{FormatCRI, "bad time"}
	errCRIMissingStream = &SyntaxError{FormatCRI, "missing stream"}
	errCRIBadStream     = &SyntaxError{FormatCRI, "unknown stream"}
	errCRIMissingTag    = &SyntaxError{FormatCRI, "missing tag"}
	errCRIMissingSep    = &SyntaxError{FormatCRI, "missing content separator"}

	errDockerNotObject     = &SyntaxError{FormatDocker, "not a JSON object"}
	errDockerSyntax        = &SyntaxError{FormatDocker, "invalid JSON"}
	errDockerMissingLog    = &SyntaxError{FormatDocker, "missing log"}
	errDockerMissingStream = &SyntaxError{FormatDocker, "missing stream"}
	errDockerBadStream     = &SyntaxError{FormatDocker, "unknown stream"}
	errDockerMissingTime   = &SyntaxError{FormatDocker, "missing time"}
	errDockerBadTime       = &SyntaxError{FormatDocker, "bad time"}
	errDockerLogType       = &SyntaxError{FormatDocker, "log is not a string"}
)

// Detect guesses the format of a file from one of its lines: docker lines
// are JSON objects, CRI lines start with a timestamp and a stream name.
func Detect(line []byte) Format {
	i := 0
	for i < len(line) && isJSONSpace(line[i]) {
		i++
	}
	if i < len(line) && line[i] == '{' {
		return FormatDocker
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return FormatUnknown
	}
	if _, ok := parseTime(line[:sp]); !ok {
		return FormatUnknown
	}
	rest := line[sp+1:]
	if bytes.HasPrefix(rest, []byte("stdout")) || bytes.HasPrefix(rest, []byte("stderr")) {
		return FormatCRI
	}
	return FormatUnknown
}

// Parse decodes line in format f; FormatUnknown detects it first.
func Parse(f Format, line []byte) (Line, error) {
	if f == FormatUnknown {
		f = Detect(line)
	}
	switch f {
	case FormatCRI:
		return ParseCRI(line)
	case FormatDocker:
		return ParseDocker(line)
	}
	return Line{}, &SyntaxError{FormatUnknown, "neither CRI nor docker json-file"}
}

// ParseCRI decodes "<RFC3339Nano> <stdout|stderr> <P|F|P:tags…> <content>".
// One trailing "\n" is removed; the content is otherwise kept byte for byte.
func ParseCRI(line []byte) (Line, error) {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if len(line) == 0 {
		return Line{}, errCRIEmpty
	}
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return Line{}, errCRIMissingStream
	}
	if sp == 0 {
		return Line{}, errCRIMissingTime
	}
	ts, ok := parseTime(line[:sp])
	if !ok {
		return Line{}, errCRIBadTime
	}
	rest := line[sp+1:]
	var l Line
	l.Time = ts
	switch {
	case len(rest) >= 6 && string(rest[:6]) == "stdout":
		l.Stream = StreamStdout
	case len(rest) >= 6 && string(rest[:6]) == "stderr":
		l.Stream = StreamStderr
	case len(rest) == 0 || rest[0] == ' ':
		return Line{}, errCRIMissingStream
	default:
		return Line{}, errCRIBadStream
	}
	rest = rest[6:]
	if len(rest) == 0 {
		return Line{}, errCRIMissingTag
	}
	if rest[0] != ' ' {
		return Line{}, errCRIBadStream
	}
	rest = rest[1:]
	// Tag: "F", "P", or "F:…"/"P:…". Anything else is the legacy tag-less
	// form, whose content starts right here.
	end := bytes.IndexByte(rest, ' ')
	tag := rest
	if end >= 0 {
		tag = rest[:end]
	}
	if len(tag) >= 1 && (tag[0] == 'P' || tag[0] == 'F') && (len(tag) == 1 || tag[1] == ':') {
		if end < 0 {
			return Line{}, errCRIMissingSep
		}
		l.Partial = tag[0] == 'P'
		l.Content = rest[end+1:]
		return l, nil
	}
	if len(rest) == 0 {
		return Line{}, errCRIMissingTag
	}
	l.Content = rest
	return l, nil
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// parseTime parses RFC 3339 with optional fraction (up to 9 digits are
// significant; more are accepted and ignored), "Z"/"z" or ±hh:mm, without
// allocating. It accepts exactly what time.RFC3339Nano accepts plus a
// lowercase "t"/"z" (RFC 3339 §5.6 allows them; Fluent Bit's fixtures use
// "z").
func parseTime(b []byte) (int64, bool) {
	if len(b) < 20 {
		return 0, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	i := 19
	nsec := 0
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		digits := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if digits < 9 {
				nsec = nsec*10 + int(b[i]-'0')
				digits++
			}
			i++
		}
		if i == start {
			return 0, false
		}
		for ; digits < 9; digits++ {
			nsec *= 10
		}
	}
	if i >= len(b) {
		return 0, false
	}
	offset := 0
	switch b[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(b)-i != 6 || b[i+3] != ':' {
			return 0, false
		}
		oh, ok1 := num(b[i+1 : i+3])
		om, ok2 := num(b[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		offset = (oh*60 + om) * 60
		if b[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return 0, false
	}
	if i != len(b) {
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.UnixNano() - int64(offset)*int64(time.Second), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
