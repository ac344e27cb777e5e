package decode

import (
	"bytes"
	"unicode/utf8"
)

// ParseOverlong decodes a physical line too long to hold in memory from its
// first bytes (head) and its last bytes (tail, without the newline). The
// returned Content is a prefix of the real content; callers mark the event
// truncated. For CRI the header is at the start, so head decodes as usual.
// For docker the "log" member must come first (as docker writes it); its
// string is decoded up to the end of head, and "stream" and "time" are
// looked up in tail. An unfinished escape at the end of head is dropped.
func ParseOverlong(f Format, head, tail []byte) (Line, error) {
	if f == FormatUnknown {
		f = Detect(head)
	}
	switch f {
	case FormatCRI:
		return ParseCRI(head)
	case FormatDocker:
		return parseDockerOverlong(head, tail)
	}
	return Line{}, &SyntaxError{FormatUnknown, "neither CRI nor docker json-file"}
}

var errDockerOverlong = &SyntaxError{FormatDocker, "overlong line without a leading log member"}

func parseDockerOverlong(head, tail []byte) (Line, error) {
	i := skipSpace(head, 0)
	if i >= len(head) || head[i] != '{' {
		return Line{}, errDockerNotObject
	}
	i = skipSpace(head, i+1)
	if !bytes.HasPrefix(head[i:], []byte(`"log"`)) {
		return Line{}, errDockerOverlong
	}
	i = skipSpace(head, i+5)
	if i >= len(head) || head[i] != ':' {
		return Line{}, errDockerSyntax
	}
	i = skipSpace(head, i+1)
	if i >= len(head) || head[i] != '"' {
		return Line{}, errDockerLogType
	}
	s := head[i+1:]
	// Decode escapes up to the end of head (or the closing quote).
	out := make([]byte, 0, len(s))
	for j := 0; j < len(s); j++ {
		c := s[j]
		if c == '"' {
			break
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if j+1 >= len(s) {
			break
		}
		j++
		switch s[j] {
		case '"', '\\', '/':
			out = append(out, s[j])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if j+4 >= len(s) {
				j = len(s)
				break
			}
			r, ok := hex4(s[j+1 : j+5])
			if !ok {
				return Line{}, errDockerSyntax
			}
			out = appendRune(out, r)
			j += 4
		default:
			return Line{}, errDockerSyntax
		}
	}
	var l Line
	l.Content = out
	// Tail: ...<end of log>","stream":"stdout"[,"attrs":{...}],"time":"..."}
	k := bytes.LastIndex(tail, []byte(`","stream":"`))
	if k < 0 {
		return Line{}, errDockerMissingStream
	}
	// Partial unless the log string ends with an unescaped \n escape.
	before := tail[:k]
	bs := 0
	for p := len(before) - 2; p >= 0 && before[p] == '\\'; p-- {
		bs++
	}
	l.Partial = !(len(before) >= 2 && before[len(before)-1] == 'n' && bs%2 == 1)
	rest := tail[k+len(`","stream":"`):]
	switch {
	case bytes.HasPrefix(rest, []byte(`stdout"`)):
		l.Stream = StreamStdout
	case bytes.HasPrefix(rest, []byte(`stderr"`)):
		l.Stream = StreamStderr
	default:
		return Line{}, errDockerBadStream
	}
	t := bytes.LastIndex(rest, []byte(`"time":"`))
	if t < 0 {
		return Line{}, errDockerMissingTime
	}
	tv := rest[t+len(`"time":"`):]
	q := bytes.IndexByte(tv, '"')
	if q < 0 {
		return Line{}, errDockerBadTime
	}
	ts, ok := parseTime(tv[:q])
	if !ok {
		return Line{}, errDockerBadTime
	}
	l.Time = ts
	if n := len(l.Content); !l.Partial && n > 0 && l.Content[n-1] == '\n' {
		l.Content = l.Content[:n-1]
	}
	return l, nil
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func appendRune(b []byte, r rune) []byte {
	if r >= 0xD800 && r < 0xE000 {
		r = 0xFFFD // lone surrogate half: the pair may be cut anyway
	}
	return utf8.AppendRune(b, r)
}
