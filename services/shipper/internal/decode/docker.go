package decode

import (
	"encoding/json"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// ParseDocker decodes one docker json-file line,
// {"log":"…\n","stream":"stdout|stderr","time":"<RFC3339Nano>"} with any
// other members (such as "attrs") ignored. A "log" value without a trailing
// "\n" is Partial. Lines are decoded by hand: without allocating when the
// only escape is the final "\n", with one allocation otherwise (docker
// writes <, > and & as \u escapes, so those are common). A line whose keys
// contain escapes falls back to encoding/json; FuzzParseDocker checks both
// paths agree.
func ParseDocker(line []byte) (Line, error) {
	l, err, ok := parseDockerFast(line)
	if ok {
		return l, err
	}
	return parseDockerStd(line)
}

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

type dockerFields struct {
	log, stream, time    []byte
	logEsc               int  // escapes in log
	logLastEsc           int  // index in log of the last escape's backslash
	hasLog, hasStr, hasT bool //
}

// parseDockerFast returns ok=false when the line needs encoding/json.
func parseDockerFast(line []byte) (Line, error, bool) {
	b := line
	for len(b) > 0 && isJSONSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	i := 0
	for i < len(b) && isJSONSpace(b[i]) {
		i++
	}
	if i >= len(b) || b[i] != '{' {
		return Line{}, errDockerNotObject, true
	}
	i++
	var f dockerFields
	first := true
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return Line{}, errDockerSyntax, true
		}
		if b[i] == '}' {
			if !first {
				return Line{}, errDockerSyntax, true // trailing comma
			}
			i++
			break
		}
		if b[i] != '"' {
			return Line{}, errDockerSyntax, true
		}
		ks := i + 1
		ke, esc, _, uesc, ok := scanString(b, ks)
		if !ok {
			return Line{}, errDockerSyntax, true
		}
		if esc > 0 {
			if uesc {
				return Line{}, nil, false
			}
			// Escaped keys are never "log"/"stream"/"time" in practice, but
			// keep the semantics exact.
			return Line{}, nil, false
		}
		key := b[ks:ke]
		i = skipSpace(b, ke+1)
		if i >= len(b) || b[i] != ':' {
			return Line{}, errDockerSyntax, true
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return Line{}, errDockerSyntax, true
		}
		switch string(key) {
		case "log", "stream", "time":
			if b[i] != '"' {
				if string(key) == "log" {
					if b[i] == 'n' && len(b)-i >= 4 && string(b[i:i+4]) == "null" {
						f.hasLog = false
						i += 4
						break
					}
					return Line{}, errDockerLogType, true
				}
				if string(key) == "stream" {
					return Line{}, errDockerBadStream, true
				}
				return Line{}, errDockerBadTime, true
			}
			vs := i + 1
			ve, esc, last, _, ok := scanString(b, vs)
			if !ok {
				return Line{}, errDockerSyntax, true
			}
			v := b[vs:ve]
			switch string(key) {
			case "log":
				f.log, f.hasLog, f.logEsc, f.logLastEsc = v, true, esc, last-vs
			case "stream":
				if esc > 0 {
					return Line{}, nil, false
				}
				f.stream, f.hasStr = v, true
			case "time":
				if esc > 0 {
					return Line{}, nil, false
				}
				f.time, f.hasT = v, true
			}
			i = ve + 1
		default:
			j, ok := skipValue(b, i, 0)
			if !ok {
				return Line{}, errDockerSyntax, true
			}
			i = j
		}
		first = false
		i = skipSpace(b, i)
		if i >= len(b) {
			return Line{}, errDockerSyntax, true
		}
		if b[i] == ',' {
			i++
			first = true // a member must follow
			i = skipSpace(b, i)
			if i < len(b) && b[i] == '}' {
				return Line{}, errDockerSyntax, true
			}
			first = false
			continue
		}
		if b[i] == '}' {
			i++
			break
		}
		return Line{}, errDockerSyntax, true
	}
	if i != len(b) {
		return Line{}, errDockerSyntax, true
	}
	var l Line
	if !f.hasLog {
		return Line{}, errDockerMissingLog, true
	}
	if !f.hasStr {
		return Line{}, errDockerMissingStream, true
	}
	switch string(f.stream) {
	case "stdout":
		l.Stream = StreamStdout
	case "stderr":
		l.Stream = StreamStderr
	default:
		return Line{}, errDockerBadStream, true
	}
	if !f.hasT {
		return Line{}, errDockerMissingTime, true
	}
	ts, ok := parseTime(f.time)
	if !ok {
		return Line{}, errDockerBadTime, true
	}
	l.Time = ts
	c := f.log
	switch {
	case f.logEsc == 0:
		// A raw newline (invalid JSON, tolerated) terminates like "\n".
		if n := len(c); n > 0 && c[n-1] == '\n' {
			l.Content = c[:n-1]
		} else {
			l.Content, l.Partial = c, true
		}
	case f.logEsc == 1 && f.logLastEsc == len(c)-2 && c[len(c)-1] == 'n':
		l.Content = c[:len(c)-2]
	default:
		u, ok := unescape(c)
		if !ok {
			return Line{}, errDockerSyntax, true
		}
		if n := len(u); n > 0 && u[n-1] == '\n' {
			l.Content = u[:n-1]
		} else {
			l.Content, l.Partial = u, true
		}
	}
	return l, nil, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isJSONSpace(b[i]) {
		i++
	}
	return i
}

// scanString scans a JSON string whose opening quote precedes b[i]. It
// returns the index of the closing quote, the number of escapes, the index
// of the last escape's backslash, and whether a \u escape occurs. Raw
// control characters are tolerated.
func scanString(b []byte, i int) (end, esc, last int, uesc, ok bool) {
	for i < len(b) {
		switch b[i] {
		case '"':
			return i, esc, last, uesc, true
		case '\\':
			if i+1 >= len(b) {
				return 0, 0, 0, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				uesc = true
			default:
				return 0, 0, 0, false, false
			}
			esc++
			last = i
			i += 2
			continue
		}
		i++
	}
	return 0, 0, 0, false, false
}

// skipValue skips one JSON value starting at b[i].
func skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > maxDepth {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		e, _, _, _, ok := scanString(b, i+1)
		if !ok {
			return 0, false
		}
		return e + 1, true
	case c == '{' || c == '[':
		closeCh := byte('}')
		if c == '[' {
			closeCh = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == closeCh {
			return i + 1, true
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, false
				}
				e, _, _, _, ok := scanString(b, i+1)
				if !ok {
					return 0, false
				}
				i = skipSpace(b, e+1)
				if i >= len(b) || b[i] != ':' {
					return 0, false
				}
				i = skipSpace(b, i+1)
			}
			j, ok := skipValue(b, i, depth+1)
			if !ok {
				return 0, false
			}
			i = skipSpace(b, j)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == closeCh {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = skipSpace(b, i+1)
		}
	default:
		start := i
		for i < len(b) {
			c := b[i]
			if (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' || c == '.' || c == 'E' {
				i++
				continue
			}
			break
		}
		if i == start {
			return 0, false
		}
		switch lit := string(b[start:i]); lit {
		case "true", "false", "null":
			return i, true
		}
		if !json.Valid(b[start:i]) {
			return 0, false
		}
		return i, true
	}
}

// unescape decodes a JSON string body exactly as encoding/json does,
// except that raw invalid UTF-8 is kept rather than replaced.
func unescape(s []byte) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return nil, false
		}
		switch s[i] {
		case '"', '\\', '/':
			out = append(out, s[i])
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
			r, ok := getu4(s[i-1:])
			if !ok {
				return nil, false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				// A valid pair is consumed whole; anything else is U+FFFD
				// and the second escape is decoded on its own.
				if r2, ok := getu4(s[i+1:]); ok {
					if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
						out = utf8.AppendRune(out, dec)
						i += 6
						continue
					}
				}
				r = unicode.ReplacementChar
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, false
		}
	}
	return out, true
}

// getu4 decodes \uXXXX at the start of s.
func getu4(s []byte) (rune, bool) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return 0, false
	}
	return hex4(s[2:6])
}

// parseDockerStd is the encoding/json path for lines with \u escapes.
// Keys match exactly and the last duplicate wins, as on the fast path.
func parseDockerStd(line []byte) (Line, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil || m == nil {
		return Line{}, errDockerSyntax
	}
	str := func(key string) (string, bool, bool) { // value, present, isString
		raw, ok := m[key]
		if !ok || string(raw) == "null" {
			return "", false, false
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", true, false
		}
		return v, true, true
	}
	logv, ok, isStr := str("log")
	if !ok {
		return Line{}, errDockerMissingLog
	}
	if !isStr {
		return Line{}, errDockerLogType
	}
	var l Line
	switch sv, ok, _ := str("stream"); {
	case !ok:
		return Line{}, errDockerMissingStream
	case sv == "stdout":
		l.Stream = StreamStdout
	case sv == "stderr":
		l.Stream = StreamStderr
	default:
		return Line{}, errDockerBadStream
	}
	tv, ok, _ := str("time")
	if !ok {
		return Line{}, errDockerMissingTime
	}
	ts, ok := parseTime([]byte(tv))
	if !ok {
		return Line{}, errDockerBadTime
	}
	l.Time = ts
	c := []byte(logv)
	if n := len(c); n > 0 && c[n-1] == '\n' {
		l.Content = c[:n-1]
	} else {
		l.Content, l.Partial = c, true
	}
	return l, nil
}
