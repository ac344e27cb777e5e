package applog

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit: objects and arrays nested
// deeper are a syntax error there, and so here.
const maxDepth = 10000

// ErrSyntax is returned for input that is not one JSON object.
var ErrSyntax = errors.New("applog: not a JSON object")

// Kinds of a scanned value.
const (
	kindString = iota + 1
	kindNumber
	kindTrue
	kindFalse
	kindNull
	kindObject
	kindArray
)

// span is one scanned value or key: s[start:end] is its text (quotes
// included for strings), and plain says a string has neither escapes nor
// bytes outside ASCII that might be invalid UTF-8, so its value is its text
// without the quotes.
type span struct {
	start, end int
	kind       uint8
	plain      bool
}

// str returns the decoded value of a string span, as encoding/json would.
func (sp span) str(s string) string {
	if sp.plain {
		return s[sp.start+1 : sp.end-1]
	}
	return unquote(s[sp.start+1 : sp.end-1])
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// scanValue scans the value starting at s[i] (no leading space) and
// returns its span, or ok false on a syntax error.
func scanValue(s string, i, depth int) (span, bool) {
	if i >= len(s) {
		return span{}, false
	}
	switch c := s[i]; {
	case c == '"':
		end, plain, ok := scanString(s, i)
		return span{start: i, end: end, kind: kindString, plain: plain}, ok
	case c == '{':
		end, ok := skipObject(s, i, depth+1)
		return span{start: i, end: end, kind: kindObject}, ok
	case c == '[':
		end, ok := skipArray(s, i, depth+1)
		return span{start: i, end: end, kind: kindArray}, ok
	case c == '-' || (c >= '0' && c <= '9'):
		end, ok := scanNumber(s, i)
		return span{start: i, end: end, kind: kindNumber}, ok
	case c == 't':
		return span{start: i, end: i + 4, kind: kindTrue}, hasLit(s, i, "true")
	case c == 'f':
		return span{start: i, end: i + 5, kind: kindFalse}, hasLit(s, i, "false")
	case c == 'n':
		return span{start: i, end: i + 4, kind: kindNull}, hasLit(s, i, "null")
	}
	return span{}, false
}

func hasLit(s string, i int, lit string) bool {
	return len(s)-i >= len(lit) && s[i:i+len(lit)] == lit
}

// scanString scans the string whose opening quote is s[i] and returns the
// index after its closing quote.
func scanString(s string, i int) (end int, plain, ok bool) {
	plain = true
	i++
	for i < len(s) {
		// The common bytes, in a tight loop.
		for i < len(s) {
			c := s[i]
			if c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				break
			}
			i++
		}
		if i >= len(s) {
			break
		}
		switch c := s[i]; {
		case c == '"':
			return i + 1, plain, true
		case c == '\\':
			plain = false
			if i+1 >= len(s) {
				return 0, false, false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(s)-i < 6 {
					return 0, false, false
				}
				for _, h := range []byte(s[i+2 : i+6]) {
					if !isHex(h) {
						return 0, false, false
					}
				}
				i += 6
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		default:
			// Any byte at or above 0x80 is accepted (encoding/json
			// replaces invalid UTF-8); only valid text stays plain.
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				plain = false
			}
			i += size
		}
	}
	return 0, false, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(s string, i int) (int, bool) {
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i+1)
	default:
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// skipObject validates the object whose '{' is s[i].
func skipObject(s string, i, depth int) (int, bool) {
	if depth > maxDepth {
		return 0, false
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return 0, false
		}
		end, _, ok := scanString(s, i)
		if !ok {
			return 0, false
		}
		i = skipSpace(s, end)
		if i >= len(s) || s[i] != ':' {
			return 0, false
		}
		v, ok := scanValue(s, skipSpace(s, i+1), depth)
		if !ok {
			return 0, false
		}
		i = skipSpace(s, v.end)
		if i >= len(s) {
			return 0, false
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// skipArray validates the array whose '[' is s[i].
func skipArray(s string, i, depth int) (int, bool) {
	if depth > maxDepth {
		return 0, false
	}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return i + 1, true
	}
	for {
		v, ok := scanValue(s, i, depth)
		if !ok {
			return 0, false
		}
		i = skipSpace(s, v.end)
		if i >= len(s) {
			return 0, false
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case ']':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// members calls fn for each member of the already validated object whose
// '{' is s[i], with the spans of its key and value.
func members(s string, i int, fn func(k, v span)) {
	i = skipSpace(s, i+1)
	if s[i] == '}' {
		return
	}
	for {
		end, plain, _ := scanString(s, i)
		k := span{start: i, end: end, kind: kindString, plain: plain}
		i = skipSpace(s, end)
		v, _ := scanValue(s, skipSpace(s, i+1), 0)
		fn(k, v)
		i = skipSpace(s, v.end)
		if s[i] == '}' {
			return
		}
		i = skipSpace(s, i+1)
	}
}

// unquote decodes the inside of a JSON string as encoding/json does:
// escapes are resolved, surrogate pairs combined, and unpaired surrogates
// and bytes of invalid UTF-8 become U+FFFD.
func unquote(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch e := s[i+1]; e {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					if len(s)-i >= 6 && s[i] == '\\' && s[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, hex4(s[i+2:])); dec != utf8.RuneError {
							b = utf8.AppendRune(b, dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default: // '"', '\\', '/'
				b = append(b, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
		}
	}
	return string(b)
}

func hex4(s string) rune {
	v, _ := strconv.ParseUint(s[:4], 16, 32)
	return rune(v)
}
