// Package document builds the JSON _source of one log event.
//
// A document is a flat list of dotted paths ("http.request.method") and
// values, kept flat while processors add, rename and remove fields, and
// encoded once, as nested JSON objects, when it is published. Keeping it flat
// makes the processors' edits cheap and lets a document be reused for the
// next record without allocating.
package document

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is the type of a Value.
type Kind uint8

// Value kinds.
const (
	String Kind = iota
	Int
	Float
	Bool
	Strings // a list of strings (tags, related.ip)
	Raw     // already-encoded JSON (arrays and objects copied from input)
	Time    // encoded as RFC 3339 with milliseconds, UTC
)

// Value is one field's value.
type Value struct {
	Kind    Kind
	Str     string
	Int     int64
	Float   float64
	Bool    bool
	Strings []string
	Time    time.Time
}

// S, I, F, B and T make values.
func S(s string) Value       { return Value{Kind: String, Str: s} }
func I(i int64) Value        { return Value{Kind: Int, Int: i} }
func F(f float64) Value      { return Value{Kind: Float, Float: f} }
func B(b bool) Value         { return Value{Kind: Bool, Bool: b} }
func T(t time.Time) Value    { return Value{Kind: Time, Time: t} }
func L(s ...string) Value    { return Value{Kind: Strings, Strings: s} }
func RawJSON(s string) Value { return Value{Kind: Raw, Str: s} }

type field struct {
	path string
	val  Value
}

// Doc is a document under construction. The zero value is empty and ready.
type Doc struct {
	fields []field
}

// Reset empties d, keeping its memory.
func (d *Doc) Reset() { d.fields = d.fields[:0] }

// Len returns the number of fields.
func (d *Doc) Len() int { return len(d.fields) }

// Set sets path to v, replacing an existing value. Empty path segments
// ("", "a..b", ".a") are dropped; a path with nothing left becomes "_".
func (d *Doc) Set(path string, v Value) {
	path = clean(path)
	for i := range d.fields {
		if d.fields[i].path == path {
			d.fields[i].val = v
			return
		}
	}
	d.fields = append(d.fields, field{path, v})
}

func clean(path string) string {
	if path != "" && path[0] != '.' && path[len(path)-1] != '.' && !strings.Contains(path, "..") {
		return path
	}
	var b strings.Builder
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// Get returns the value at path.
func (d *Doc) Get(path string) (Value, bool) {
	path = clean(path)
	for i := range d.fields {
		if d.fields[i].path == path {
			return d.fields[i].val, true
		}
	}
	return Value{}, false
}

// Remove deletes path and everything below it.
func (d *Doc) Remove(path string) {
	out := d.fields[:0]
	for _, f := range d.fields {
		if f.path == path || (strings.HasPrefix(f.path, path) && len(f.path) > len(path) && f.path[len(path)] == '.') {
			continue
		}
		out = append(out, f)
	}
	d.fields = out
}

// Rename moves path (and everything below it) to to.
func (d *Doc) Rename(from, to string) {
	if from == to {
		return
	}
	var moved []field
	out := d.fields[:0]
	for _, f := range d.fields {
		switch {
		case f.path == from:
			moved = append(moved, field{to, f.val})
		case strings.HasPrefix(f.path, from) && len(f.path) > len(from) && f.path[len(from)] == '.':
			moved = append(moved, field{to + f.path[len(from):], f.val})
		default:
			out = append(out, f)
		}
	}
	d.fields = out
	for _, f := range moved {
		d.Set(f.path, f.val)
	}
}

// AddTag appends tag to the "tags" list.
func (d *Doc) AddTag(tag string) {
	for i := range d.fields {
		if d.fields[i].path == "tags" && d.fields[i].val.Kind == Strings {
			for _, t := range d.fields[i].val.Strings {
				if t == tag {
					return
				}
			}
			d.fields[i].val.Strings = append(d.fields[i].val.Strings, tag)
			return
		}
	}
	d.fields = append(d.fields, field{"tags", L(tag)})
}

// Each calls fn for every field in insertion order.
func (d *Doc) Each(fn func(path string, v Value)) {
	for _, f := range d.fields {
		fn(f.path, f.val)
	}
}

// AppendJSON appends the document as a nested JSON object to dst. Paths are
// split at dots into objects; when a path is both a value and a parent
// ("a" and "a.b"), the parent wins and the value is kept as "a._value", so
// the output never has a duplicate key. It reorders the fields.
func (d *Doc) AppendJSON(dst []byte) []byte {
	// Sorting with '.' below every other byte puts "a" right before "a.b"
	// and keeps all of a's children contiguous, ahead of siblings like "a-b".
	slices.SortStableFunc(d.fields, func(a, b field) int {
		if pathLess(a.path, b.path) {
			return -1
		}
		if pathLess(b.path, a.path) {
			return 1
		}
		return 0
	})
	dst = append(dst, '{')
	open := "" // dotted path of the objects currently open below the root
	first := true
	n := len(d.fields)
	for k := 0; k < n; k++ {
		p := d.fields[k].path
		dir, leaf := "", p
		if k+1 < n && isChild(d.fields[k+1].path, p) {
			dir, leaf = p, "_value"
		} else if i := strings.LastIndexByte(p, '.'); i >= 0 {
			dir, leaf = p[:i], p[i+1:]
		}
		// Close the objects that do not contain this field.
		for open != "" && dir != open && !isChild(dir, open) {
			dst = append(dst, '}')
			if i := strings.LastIndexByte(open, '.'); i >= 0 {
				open = open[:i]
			} else {
				open = ""
			}
			first = false
		}
		// Open the objects between them.
		rest := dir[len(open):]
		if len(rest) > 0 && rest[0] == '.' {
			rest = rest[1:]
		}
		for rest != "" {
			seg := rest
			if i := strings.IndexByte(rest, '.'); i >= 0 {
				seg, rest = rest[:i], rest[i+1:]
			} else {
				rest = ""
			}
			if !first {
				dst = append(dst, ',')
			}
			dst = appendString(dst, seg)
			dst = append(dst, ':', '{')
			first = true
		}
		open = dir
		if !first {
			dst = append(dst, ',')
		}
		dst = appendString(dst, leaf)
		dst = append(dst, ':')
		dst = appendValue(dst, d.fields[k].val)
		first = false
	}
	for open != "" {
		dst = append(dst, '}')
		if i := strings.LastIndexByte(open, '.'); i >= 0 {
			open = open[:i]
		} else {
			open = ""
		}
	}
	return append(dst, '}')
}

// isChild reports whether path lies below parent ("a.b" below "a").
func isChild(path, parent string) bool {
	return len(path) > len(parent) && path[len(parent)] == '.' && path[:len(parent)] == parent
}

func pathLess(a, b string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '.' {
			return true
		}
		if cb == '.' {
			return false
		}
		return ca < cb
	}
	return len(a) < len(b)
}

func appendValue(dst []byte, v Value) []byte {
	switch v.Kind {
	case String:
		return appendString(dst, v.Str)
	case Int:
		return strconv.AppendInt(dst, v.Int, 10)
	case Float:
		if math.IsNaN(v.Float) || math.IsInf(v.Float, 0) {
			return append(dst, "null"...)
		}
		return strconv.AppendFloat(dst, v.Float, 'g', -1, 64)
	case Bool:
		return strconv.AppendBool(dst, v.Bool)
	case Strings:
		dst = append(dst, '[')
		for i, s := range v.Strings {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, s)
		}
		return append(dst, ']')
	case Raw:
		if v.Str == "" {
			return append(dst, "null"...)
		}
		return append(dst, v.Str...)
	case Time:
		return appendTime(dst, v.Time)
	}
	return append(dst, "null"...)
}

// appendTime writes t as "2006-01-02T15:04:05.000Z", the format the
// search engine's date detection and Kibana expect, without time.Format's
// layout interpretation on the hot path.
func appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	if year < 0 || year > 9999 {
		return append(append(dst, '"'), append(t.AppendFormat(nil, "2006-01-02T15:04:05.000Z07:00"), '"')...)
	}
	ms := t.Nanosecond() / 1e6
	dst = append(dst, '"',
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z', '"')
	return dst
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, so
// the output is always valid JSON the search engine accepts.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
