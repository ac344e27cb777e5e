package logfmt

import (
	"bytes"
	"fmt"
	"testing"
	"unicode/utf8"
)

// encode writes pairs back as logfmt, quoting values when needed.
func encode(keys, vals [][]byte, bare []bool) []byte {
	var b bytes.Buffer
	for i := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(keys[i])
		if bare[i] {
			continue
		}
		b.WriteByte('=')
		v := vals[i]
		needQuote := len(v) == 0
		for _, c := range v {
			if c <= ' ' || c == '=' || c == '"' || c == '\\' {
				needQuote = true
			}
		}
		if needQuote {
			quote(&b, v)
		} else {
			b.Write(v)
		}
	}
	return b.Bytes()
}

// quote writes v as a JSON-style quoted string; invalid UTF-8 becomes U+FFFD.
func quote(b *bytes.Buffer, v []byte) {
	b.WriteByte('"')
	for len(v) > 0 {
		r, size := utf8.DecodeRune(v)
		v = v[size:]
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// FuzzDecode checks that decoding never panics, that errors are
// *SyntaxError with an in-range offset, and that re-encoding the decoded
// pairs decodes to the same pairs.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`key=value key2="quoted \" value" flag`, `a= b=""`, `a="\u00e9\ud83d\ude00"`,
		"=", `a="`, "a=b=c", "k=\xff", "\xff=1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var keys, vals [][]byte
		var bare []bool
		var d Decoder
		err := d.Decode(line, func(k, v []byte) error {
			keys = append(keys, bytes.Clone(k))
			vals = append(vals, bytes.Clone(v))
			bare = append(bare, v == nil)
			return nil
		})
		if err != nil {
			se, ok := err.(*SyntaxError)
			if !ok || se.Pos < 0 || se.Pos > len(line) {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		enc := encode(keys, vals, bare)
		var i int
		err = d.Decode(enc, func(k, v []byte) error {
			if i >= len(keys) || !bytes.Equal(k, keys[i]) || (v == nil) != bare[i] {
				t.Fatalf("re-decode of %q: pair %d is %q=%q", enc, i, k, v)
			}
			if utf8.Valid(vals[i]) && !bytes.Equal(v, vals[i]) {
				t.Fatalf("re-decode of %q: value %d is %q, want %q", enc, i, v, vals[i])
			}
			i++
			return nil
		})
		if err != nil || i != len(keys) {
			t.Fatalf("re-decode of %q (from %q): %v after %d of %d pairs", enc, line, err, i, len(keys))
		}
	})
}
