package logfmt

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// SyntaxError reports malformed input and where it was found.
type SyntaxError struct {
	Pos int    // byte offset in the line
	Msg string // what was wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("logfmt: syntax error at byte %d: %s", e.Pos, e.Msg)
}

func syntaxErr(pos int, msg string) error { return &SyntaxError{Pos: pos, Msg: msg} }

func unexpected(pos int, c byte) error {
	return syntaxErr(pos, "unexpected "+strconv.QuoteRune(rune(c)))
}

// Decoder decodes lines, reusing a scratch buffer for unescaped values.
// The zero value is ready to use. A Decoder is not safe for concurrent use.
type Decoder struct {
	buf []byte
}

// Decode decodes one line with a fresh Decoder. See (*Decoder).Decode.
func Decode(line []byte, fn func(key, val []byte) error) error {
	var d Decoder
	return d.Decode(line, fn)
}

// Decode calls fn for each pair in line, in order. key and val alias line
// or the Decoder's buffer and are valid only during the call. val is nil
// for a bare key. If fn returns an error, decoding stops and that error is
// returned unchanged. Pairs before a syntax error have already been passed
// to fn.
func (d *Decoder) Decode(line []byte, fn func(key, val []byte) error) error {
	pos := 0
	n := len(line)
	for {
		// Skip separators.
		for pos < n && line[pos] <= ' ' {
			pos++
		}
		if pos >= n {
			return nil
		}
		// Key.
		start := pos
		multibyte := false
		for pos < n {
			c := line[pos]
			if c <= ' ' || c == '=' {
				break
			}
			if c == '"' {
				return unexpected(pos, c)
			}
			if c >= utf8.RuneSelf {
				multibyte = true
			}
			pos++
		}
		if pos == start {
			// Only '=' can stop the key at its start.
			return unexpected(pos, '=')
		}
		key := line[start:pos]
		if multibyte && !utf8.Valid(key) {
			return syntaxErr(start, "invalid key")
		}
		if pos >= n || line[pos] != '=' {
			if err := fn(key, nil); err != nil {
				return err
			}
			continue
		}
		pos++ // '='
		if pos >= n || line[pos] <= ' ' {
			if err := fn(key, line[pos:pos:pos]); err != nil {
				return err
			}
			continue
		}
		if line[pos] == '"' {
			val, next, err := d.quoted(line, pos)
			if err != nil {
				return err
			}
			pos = next
			if err := fn(key, val); err != nil {
				return err
			}
			continue
		}
		start = pos
		for pos < n {
			c := line[pos]
			if c <= ' ' {
				break
			}
			if c == '=' || c == '"' {
				return unexpected(pos, c)
			}
			pos++
		}
		if err := fn(key, line[start:pos]); err != nil {
			return err
		}
	}
}

// quoted reads the quoted value starting at line[q] == '"'.
func (d *Decoder) quoted(line []byte, q int) (val []byte, next int, err error) {
	body := line[q+1:]
	esc := false
	hasEsc := false
	for i, c := range body {
		switch {
		case esc:
			esc = false
		case c == '\\':
			esc, hasEsc = true, true
		case c == '"':
			raw := body[:i]
			next = q + 1 + i + 1
			if !hasEsc {
				return raw[:len(raw):len(raw)], next, nil
			}
			v, ok := unquote(d.buf[:0], raw)
			if !ok {
				return nil, 0, syntaxErr(q, "invalid quoted value")
			}
			d.buf = v
			return v, next, nil
		}
	}
	return nil, 0, syntaxErr(q, "unterminated quoted value")
}

// unquote appends the unescaped form of s (the inside of a JSON-style
// string) to dst.
func unquote(dst, s []byte) ([]byte, bool) {
	if i := bytes.IndexByte(s, '\\'); i >= 0 {
		dst = append(dst, s[:i]...)
		s = s[i:]
	}
	for len(s) > 0 {
		c := s[0]
		switch {
		case c == '\\':
			if len(s) < 2 {
				return dst, false
			}
			switch s[1] {
			case '"', '\\', '/', '\'':
				dst = append(dst, s[1])
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r, ok := hex4(s[2:])
				if !ok {
					return dst, false
				}
				s = s[6:]
				if utf16.IsSurrogate(r) {
					if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
						if r2, ok := hex4(s[2:]); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								dst = utf8.AppendRune(dst, dec)
								s = s[6:]
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default:
				return dst, false
			}
			s = s[2:]
		case c == '"' || c < ' ':
			return dst, false
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			s = s[1:]
		default:
			r, size := utf8.DecodeRune(s)
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[:size]...)
			}
			s = s[size:]
		}
	}
	return dst, true
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// DecodeMap decodes line into a map of strings. Bare keys map to "";
// a repeated key keeps its last value.
func DecodeMap(line []byte) (map[string]string, error) {
	m := map[string]string{}
	err := Decode(line, func(k, v []byte) error {
		m[string(k)] = string(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}
