package fluentbit

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// decode applies Decode_Field / Decode_Field_As rules. For each field the
// rules run in order: after a success the next rule runs only with
// do_next, after a failure only with try_next.
func (c *Compiled) decode(fields map[string]any) {
	for _, name := range c.decOrder {
		for _, d := range c.decoders[name] {
			ok := applyDecoder(fields, d)
			if ok && d.Action != "do_next" || !ok && d.Action != "try_next" {
				break
			}
		}
	}
}

func applyDecoder(fields map[string]any, d Decoder) bool {
	s, isStr := fields[d.Field].(string)
	if !isStr {
		return false
	}
	var out any
	switch d.Decoder {
	case "json":
		t := strings.TrimSpace(s)
		if t == "" || (t[0] != '{' && t[0] != '[') {
			return false
		}
		dec := json.NewDecoder(strings.NewReader(t))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil || dec.More() {
			return false
		}
		out = normalizeJSON(v)
	case "escaped", "escaped_utf8":
		u, ok := unescape(s)
		if !ok {
			return false
		}
		out = u
	case "mysql_quoted":
		if len(s) < 2 || (s[0] != '"' && s[0] != '\'') || s[len(s)-1] != s[0] {
			return false
		}
		u, ok := unescape(s[1 : len(s)-1])
		if !ok {
			return false
		}
		out = u
	default:
		return false
	}
	if d.As {
		fields[d.Field] = out
		return true
	}
	// Decode_Field: merge a decoded object into the record; keep the field.
	m, ok := out.(map[string]any)
	if !ok {
		return false
	}
	for k, v := range m {
		fields[k] = v
	}
	return true
}

// unescape resolves backslash escapes (\n \t \r \b \f \v \a \e \" \' \\ \/
// \uXXXX) in s.
func unescape(s string) (string, bool) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, true
	}
	var b bytes.Buffer
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case 'a':
			b.WriteByte('\a')
		case 'e':
			b.WriteByte(0x1b)
		case '"', '\'', '\\', '/':
			b.WriteByte(s[i])
		case 'u':
			if i+4 >= len(s) || !isHex4(s[i+1:i+5]) {
				return "", false
			}
			var r rune
			for _, h := range s[i+1 : i+5] {
				r <<= 4
				switch {
				case h >= '0' && h <= '9':
					r |= h - '0'
				default:
					r |= (h | 0x20) - 'a' + 10
				}
			}
			b.WriteRune(r)
			i += 4
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	out := b.String()
	if !utf8.ValidString(out) {
		out = strings.ToValidUTF8(out, "\uFFFD")
	}
	return out, true
}
