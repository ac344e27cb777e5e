package document

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// refEncode is the straightforward encoder AppendJSON (its cached plans,
// its word-at-a-time string escaping) is checked against: it builds the
// tree of objects the dotted paths describe and writes it recursively,
// keys in byte order. A path that is both a value and a parent keeps its
// value as "_value", written first in its object.
func refEncode(d *Doc) []byte {
	type node struct {
		val  *Value
		kids map[string]*node
	}
	root := &node{}
	d.Each(func(path string, v Value) {
		n := root
		for _, seg := range strings.Split(path, ".") {
			if n.kids == nil {
				n.kids = map[string]*node{}
			}
			k := n.kids[seg]
			if k == nil {
				k = &node{}
				n.kids[seg] = k
			}
			n = k
		}
		n.val = &v
	})
	var write func(dst []byte, n *node) []byte
	write = func(dst []byte, n *node) []byte {
		if len(n.kids) == 0 {
			return refValue(dst, n.val)
		}
		dst = append(dst, '{')
		first := true
		if n.val != nil {
			dst = append(refString(dst, "_value"), ':')
			dst = refValue(dst, n.val)
			first = false
		}
		keys := make([]string, 0, len(n.kids))
		for k := range n.kids {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(refString(dst, k), ':')
			dst = write(dst, n.kids[k])
		}
		return append(dst, '}')
	}
	if len(root.kids) == 0 {
		return []byte("{}")
	}
	return write(nil, root)
}

func refValue(dst []byte, v *Value) []byte {
	switch v.Kind {
	case String:
		return refString(dst, v.Str)
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
			dst = refString(dst, s)
		}
		return append(dst, ']')
	case Raw:
		if v.Str == "" {
			return append(dst, "null"...)
		}
		return append(dst, v.Str...)
	case Time:
		return append(append(append(dst, '"'), v.Time().UTC().Format("2006-01-02T15:04:05.000Z07:00")...), '"')
	}
	return append(dst, "null"...)
}

// refString escapes rune by rune: the short escapes, \u00XX for the other
// control characters, \u2028 and \u2029 (JavaScript line terminators), and
// U+FFFD for each byte that is not valid UTF-8.
func refString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r == '\t':
			dst = append(dst, `\t`...)
		case r < 0x20:
			dst = append(dst, `\u00`...)
			dst = append(dst, hex[r>>4], hex[r&0xf])
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, `\u202`...)
			dst = append(dst, hex[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// refSegments are the path segments the differential tests build paths
// from: siblings that sort around '.', a "_value" that collides with the
// parent-and-value rule, ECS names, and characters that need escaping.
var refSegments = []string{"a", "b", "a-b", "a b", "_value", "@timestamp", "http", "request", "method", "url", "tags", "x\"y", "é", "\x7f", "\xff", "z"}

// refDocs decodes data into a series of documents, each a list of Set,
// Delete and Remove calls, and calls fn with each, built in one reused
// Doc: the plans cached from a document serve the next ones.
func refDocs(data []byte, fn func(d *Doc)) {
	var d Doc
	str := func(i int) string {
		if i >= len(data) {
			return ""
		}
		n := int(data[i]) % 12
		return string(data[i:min(len(data), i+n)])
	}
	for len(data) > 0 {
		d.Reset()
		n := int(data[0]) % 24
		data = data[1:]
		for k := 0; k < n && len(data) >= 3; k++ {
			op, a, b := data[0], data[1], data[2]
			path := refSegments[int(a)%len(refSegments)]
			for depth := int(a>>4) % 4; depth > 0; depth-- {
				path += "." + refSegments[int(b>>depth)%len(refSegments)]
			}
			switch op % 10 {
			case 0:
				d.Set(path, I(int64(b)-100))
			case 1:
				d.Set(path, F(float64(b)/7))
			case 2:
				d.Set(path, B(b&1 == 1))
			case 3:
				d.Set(path, L(str(3), str(4)))
			case 4:
				d.Set(path, RawJSON(`{"k":[1,2]}`))
			case 5:
				d.Set(path, T(time.Unix(int64(b)*86400*97, int64(b)*1e7)))
			case 6:
				d.Delete(clean(path))
			case 7:
				d.Remove(clean(path))
			default:
				d.Set(path, S(str(3)))
			}
			data = data[3:]
		}
		fn(&d)
	}
}

// FuzzAppendJSONReference checks AppendJSON against refEncode byte for
// byte, over series of documents encoded with one reused Doc, so that
// plans are built, found again and evicted (more shapes than maxPlans).
func FuzzAppendJSONReference(f *testing.F) {
	f.Add([]byte("\x05\x00\x01\x02\x08\x11\x22\x03\x33\x44\x05\x55\x66\x06\x00\x01"))
	f.Add([]byte("\x07\x00\x20\x20\x00\x21\x21\x00\x22\x22\x09\x40\x41\x06\x20\x20\x01\x02\x03"))
	f.Add([]byte(strings.Repeat("\x04\x00\x01\x02\x08\x05\x06\x09\x07\x07\x03\x09\x09", 20)))
	f.Fuzz(func(t *testing.T, data []byte) {
		refDocs(data, func(d *Doc) {
			got := d.AppendJSON(nil)
			want := refEncode(d)
			if string(got) != string(want) {
				t.Fatalf("AppendJSON\n%s\nwant\n%s", got, want)
			}
			// Without a "_value" path colliding with a parent's value,
			// the document is valid JSON.
			if !strings.Contains(string(got), `"_value"`) && !json.Valid(got) {
				t.Fatalf("invalid JSON: %s", got)
			}
		})
	})
}

// TestAppendJSONReferenceShapes rotates more document shapes than the plan
// cache holds through one Doc, in insertion orders that differ per shape,
// and compares each document with refEncode.
func TestAppendJSONReferenceShapes(t *testing.T) {
	paths := []string{"@timestamp", "message", "source.ip", "url.original", "url.query", "http.request.referrer", "user.name", "a", "a.b", "a-b", "tags"}
	var d Doc
	for iter := 0; iter < 5000; iter++ {
		d.Reset()
		shape := iter * 7919 % (3 * maxPlans)
		for j, p := range paths {
			if shape>>(j%5)&1 == 1 && j%3 == 0 {
				continue
			}
			if shape%2 == 1 {
				p = paths[len(paths)-1-j]
			}
			d.Set(p, S(strconv.Itoa(iter)))
		}
		if got, want := d.AppendJSON(nil), refEncode(&d); string(got) != string(want) {
			t.Fatalf("iteration %d: %s, want %s", iter, got, want)
		}
	}
}
