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

// Value is one field's value. It is kept small (64 bytes): a document's
// fields are copied as they are set, and a time is held as Unix seconds
// and nanoseconds rather than as a time.Time of 24 bytes.
type Value struct {
	Kind Kind
	Bool bool
	// nsec is the nanosecond of a Time, whose Unix seconds are in Int.
	nsec    int32
	Str     string
	Int     int64
	Float   float64
	Strings []string
}

// Time returns the time of a Time value, in UTC (the zone is not kept:
// documents are encoded in UTC).
func (v Value) Time() time.Time { return time.Unix(v.Int, int64(v.nsec)).UTC() }

// S, I, F, B and T make values.
func S(s string) Value       { return Value{Kind: String, Str: s} }
func I(i int64) Value        { return Value{Kind: Int, Int: i} }
func F(f float64) Value      { return Value{Kind: Float, Float: f} }
func B(b bool) Value         { return Value{Kind: Bool, Bool: b} }
func T(t time.Time) Value    { return Value{Kind: Time, Int: t.Unix(), nsec: int32(t.Nanosecond())} }
func L(s ...string) Value    { return Value{Kind: Strings, Strings: s} }
func RawJSON(s string) Value { return Value{Kind: Raw, Str: s} }

type field struct {
	path string
	key  uint32 // pathKey(path): compared before the path itself
	val  Value
}

// pathKey is a cheap discriminator of a path — its length and three of
// its bytes — so that Set and Get, which scan every field, compare whole
// paths only for the rare fields whose key matches.
func pathKey(p string) uint32 {
	n := len(p)
	if n == 0 {
		return 0
	}
	return uint32(n&0xff) | uint32(p[0])<<8 | uint32(p[n/2])<<16 | uint32(p[n-1])<<24
}

// Doc is a document under construction. The zero value is empty and ready.
type Doc struct {
	fields []field
	// keys[i] is fields[i].key, kept contiguous so the scans in Set and Get
	// touch a few cache lines instead of every field.
	keys []uint32
	// plans are the encodings (see plan) of the last path lists encoded,
	// most recently used first. The documents of one rule have a few
	// path lists (with and without a query string, a referrer, a user
	// name...), each in the same insertion order every time, so a
	// document mostly finds its plan here instead of sorting its paths and
	// writing objects and keys again.
	plans []*plan
	// slots is an open-addressed index of fields by path: slots[h] is a
	// field index plus one, 0 is free. Its length is a power of two, at
	// least twice the number of fields.
	slots []int32
}

// Reset empties d, keeping its memory.
func (d *Doc) Reset() {
	if len(d.fields) > 0 {
		clear(d.slots)
	}
	d.fields, d.keys = d.fields[:0], d.keys[:0]
}

// Len returns the number of fields.
func (d *Doc) Len() int { return len(d.fields) }

// Set sets path to v, replacing an existing value. Empty path segments
// ("", "a..b", ".a") are dropped; a path with nothing left becomes "_".
func (d *Doc) Set(path string, v Value) {
	path = clean(path)
	k := pathKey(path)
	if i := d.findKey(path, k); i >= 0 {
		d.fields[i].val = v
		return
	}
	d.add(path, k, &v)
}

// Path is a field path prepared once for SetPath: cleaned as Set cleans
// a path, with its lookup key computed. Processors setting the same paths
// in every document make their Paths up front and save Set's per-call
// cleaning and hashing. Only P makes valid Paths.
type Path struct {
	s string
	k uint32
}

// P prepares path for SetPath.
func P(path string) Path {
	path = clean(path)
	return Path{s: path, k: pathKey(path)}
}

// String returns the clean path.
func (p Path) String() string { return p.s }

// SetPath is Set(p.String(), v).
func (d *Doc) SetPath(p Path, v Value) {
	if i := d.findKey(p.s, p.k); i >= 0 {
		d.fields[i].val = v
		return
	}
	d.add(p.s, p.k, &v)
}

// add appends a field without looking for an existing one. v is passed
// by reference and copied member by member: a 64-byte Value passed by
// value is copied on the stack in wide moves that stall on the narrower
// stores that built it.
func (d *Doc) add(path string, k uint32, v *Value) {
	if 2*(len(d.fields)+1) > len(d.slots) {
		d.grow()
	}
	// The field is written in place, for the same reason.
	n := len(d.fields)
	if n == cap(d.fields) {
		d.fields = append(d.fields, field{})
	} else {
		d.fields = d.fields[:n+1]
	}
	f := &d.fields[n]
	f.path, f.key = path, k
	f.val.Kind, f.val.Bool, f.val.nsec = v.Kind, v.Bool, v.nsec
	f.val.Str, f.val.Int, f.val.Float, f.val.Strings = v.Str, v.Int, v.Float, v.Strings
	d.keys = append(d.keys, k)
	d.index(n)
}

// Merge sets every field of src in d, in src's insertion order, as Set
// would. List values are shared with src but never appended to in place.
func (d *Doc) Merge(src *Doc) {
	for i := range src.fields {
		f := &src.fields[i]
		v := f.val
		if v.Strings != nil {
			v.Strings = v.Strings[:len(v.Strings):len(v.Strings)]
		}
		if j := d.findKey(f.path, f.key); j >= 0 {
			d.fields[j].val = v
			continue
		}
		d.add(f.path, f.key, &v)
	}
}

// MergeNew is Merge for a src none of whose paths is in d: the fields
// are appended in one copy, without a lookup each.
func (d *Doc) MergeNew(src *Doc) {
	n := len(d.fields)
	d.fields = append(d.fields, src.fields...)
	d.keys = append(d.keys, src.keys...)
	for i := n; i < len(d.fields); i++ {
		if v := &d.fields[i].val; v.Strings != nil {
			v.Strings = v.Strings[:len(v.Strings):len(v.Strings)]
		}
	}
	if 2*(len(d.fields)+1) > len(d.slots) {
		d.grow() // indexes every field
		return
	}
	for i := n; i < len(d.fields); i++ {
		d.index(i)
	}
}

func slotOf(k uint32, mask int) int { return int((k*0x9E3779B1)>>7) & mask }

// index enters fields[i] in slots, after the fields already there with
// the same key, so that find returns the first of duplicate paths.
func (d *Doc) index(i int) {
	mask := len(d.slots) - 1
	for h := slotOf(d.keys[i], mask); ; h = (h + 1) & mask {
		if d.slots[h] == 0 {
			d.slots[h] = int32(i + 1)
			return
		}
	}
}

func (d *Doc) grow() {
	n := 64
	for n < 4*(len(d.fields)+1) {
		n *= 2
	}
	if n > len(d.slots) {
		d.slots = make([]int32, n)
	}
	d.reindex()
}

// reindex rebuilds slots from fields.
func (d *Doc) reindex() {
	if len(d.slots) < 2*(len(d.fields)+1) {
		d.grow()
		return
	}
	clear(d.slots)
	for i := range d.fields {
		d.index(i)
	}
}

func clean(path string) string {
	if path != "" && path[0] != '.' && path[len(path)-1] != '.' && !hasDoubleDot(path) {
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

// find returns the index of the field at a clean path, or -1.
func (d *Doc) find(path string) int { return d.findKey(path, pathKey(path)) }

func (d *Doc) findKey(path string, k uint32) int {
	if len(d.fields) == 0 {
		return -1
	}
	mask := len(d.slots) - 1
	for h := slotOf(k, mask); ; h = (h + 1) & mask {
		s := d.slots[h]
		if s == 0 {
			return -1
		}
		if i := int(s - 1); d.keys[i] == k && d.fields[i].path == path {
			return i
		}
	}
}

// rekey rebuilds keys and slots after fields were filtered.
func (d *Doc) rekey() {
	d.keys = d.keys[:0]
	for i := range d.fields {
		d.keys = append(d.keys, d.fields[i].key)
	}
	d.reindex()
}

func hasDoubleDot(p string) bool {
	for i := 1; i < len(p); i++ {
		if p[i] == '.' && p[i-1] == '.' {
			return true
		}
	}
	return false
}

// Get returns the value at path.
func (d *Doc) Get(path string) (Value, bool) {
	path = clean(path)
	if i := d.find(path); i >= 0 {
		return d.fields[i].val, true
	}
	return Value{}, false
}

// GetPath is Get(p.String()).
func (d *Doc) GetPath(p Path) (Value, bool) {
	if i := d.findKey(p.s, p.k); i >= 0 {
		return d.fields[i].val, true
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
	d.rekey()
}

// Delete deletes the field at path, but not the fields below it: it is
// Remove for a path known to be a leaf, without Remove's scan for children.
func (d *Doc) Delete(path string) {
	i := d.find(path)
	if i < 0 {
		return
	}
	d.fields = append(d.fields[:i], d.fields[i+1:]...)
	d.keys = append(d.keys[:i], d.keys[i+1:]...)
	d.reindex()
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
			moved = append(moved, field{path: to, val: f.val})
		case strings.HasPrefix(f.path, from) && len(f.path) > len(from) && f.path[len(from)] == '.':
			moved = append(moved, field{path: to + f.path[len(from):], val: f.val})
		default:
			out = append(out, f)
		}
	}
	d.fields = out
	d.rekey()
	for _, f := range moved {
		d.Set(f.path, f.val)
	}
}

// AddTag appends tag to the "tags" list. A "tags" field that is not a
// list (an application's own field) becomes the list of its value (as
// text) and tag: adding a second "tags" field would write the key twice,
// which the search engine rejects.
func (d *Doc) AddTag(tag string) {
	i := d.findKey("tags", tagsKey)
	if i < 0 {
		v := L(tag)
		d.add("tags", tagsKey, &v)
		return
	}
	v := &d.fields[i].val
	if v.Kind != Strings {
		*v = L(tagText(v))
	}
	for _, t := range v.Strings {
		if t == tag {
			return
		}
	}
	v.Strings = append(v.Strings, tag)
}

// tagText is a scalar "tags" value as one tag.
func tagText(v *Value) string {
	if v.Kind == String {
		return v.Str
	}
	return strings.Trim(string(appendValue(nil, v)), `"`)
}

var tagsKey = pathKey("tags")

// Each calls fn for every field in insertion order.
func (d *Doc) Each(fn func(path string, v Value)) {
	for _, f := range d.fields {
		fn(f.path, f.val)
	}
}

// plan is how to encode a document whose fields have the paths of, in
// insertion order: the JSON of the document with the values left out,
// where the value of the field order[k] goes at at[k]. Objects, keys and
// commas depend only on the sorted paths, so they are written once per
// path list instead of once per document.
type plan struct {
	of    []string
	keys  []uint32 // pathKey of each of of, compared first
	order []int32
	json  []byte
	at    []int32
}

// maxPlans bounds Doc.plans. A rule's documents have a handful of path
// lists; more than this many in rotation (a JSON rule on logs of many
// shapes) costs a sort per document, as without a cache.
const maxPlans = 16

// AppendJSON appends the document as a nested JSON object to dst. Paths are
// split at dots into objects; when a path is both a value and a parent
// ("a" and "a.b"), the parent wins and the value is kept as "a._value", so
// the output never has a duplicate key. Fields are written sorted by path.
func (d *Doc) AppendJSON(dst []byte) []byte {
	pl := d.encoding()
	prev := int32(0)
	for k, i := range pl.order {
		dst = append(dst, pl.json[prev:pl.at[k]]...)
		dst = appendValue(dst, &d.fields[i].val)
		prev = pl.at[k]
	}
	return append(dst, pl.json[prev:]...)
}

// encoding returns the plan for the document's paths, from d.plans when it
// is there, and moves it to the front.
func (d *Doc) encoding() *plan {
	for j, pl := range d.plans {
		if !d.fits(pl) {
			continue
		}
		copy(d.plans[1:j+1], d.plans[:j])
		d.plans[0] = pl
		return pl
	}
	// Reuse the memory of the least recently used plan when the cache is full.
	var pl *plan
	if len(d.plans) < maxPlans {
		pl = &plan{}
		d.plans = append(d.plans, nil)
	} else {
		pl = d.plans[len(d.plans)-1]
	}
	copy(d.plans[1:], d.plans[:len(d.plans)-1])
	d.plans[0] = pl
	d.sortOrder(pl)
	d.buildPlan(pl)
	return pl
}

// fits reports whether pl was built for the document's paths, in order.
func (d *Doc) fits(pl *plan) bool {
	if len(pl.of) != len(d.fields) {
		return false
	}
	for i, k := range d.keys {
		if pl.keys[i] != k {
			return false
		}
	}
	for i := range d.fields {
		if d.fields[i].path != pl.of[i] {
			return false
		}
	}
	return true
}

// buildPlan writes the JSON of the fields in pl.order without their values.
func (d *Doc) buildPlan(pl *plan) {
	order := pl.order
	dst := append(pl.json[:0], '{')
	pl.at = pl.at[:0]
	open := "" // dotted path of the objects currently open below the root
	first := true
	n := len(order)
	for k := 0; k < n; k++ {
		f := &d.fields[order[k]]
		p := f.path
		dir, leaf := "", p
		if k+1 < n && isChild(d.fields[order[k+1]].path, p) {
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
		pl.at = append(pl.at, int32(len(dst)))
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
	pl.json = append(dst, '}')
}

// sortOrder records the document's paths in pl and sets pl.order to the
// indexes of d.fields sorted by path, with '.' below every other byte so
// that "a" comes right before "a.b" and all of a's children stay
// contiguous, ahead of siblings like "a-b". Paths are unique (Set
// replaces), so the order is total.
func (d *Doc) sortOrder(pl *plan) {
	pl.order, pl.of, pl.keys = pl.order[:0], pl.of[:0], append(pl.keys[:0], d.keys...)
	for i := range d.fields {
		pl.order = append(pl.order, int32(i))
		pl.of = append(pl.of, d.fields[i].path)
	}
	slices.SortFunc(pl.order, func(a, b int32) int {
		pa, pb := d.fields[a].path, d.fields[b].path
		if pathLess(pa, pb) {
			return -1
		}
		if pathLess(pb, pa) {
			return 1
		}
		return 0
	})
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

func appendValue(dst []byte, v *Value) []byte {
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
		return appendTime(dst, v.Time())
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
		// Skip eight bytes at a time while none needs a look of its own.
		i += plainWords(s[i:])
		// Then go byte by byte over the next eight (or to the end).
		end := min(i+8, len(s))
		for i < end {
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
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainWords returns the length of the longest prefix of s made of whole
// eight-byte words without a control character, '"', '\\' or a byte of a
// multi-byte sequence: bytes that appendString copies as they are.
func plainWords(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		q := x ^ ('"' * ones)
		b := x ^ ('\\' * ones)
		// (v - ones) & ^v & highs is non-zero iff v has a zero byte; with
		// 0x20 * ones in place of ones, iff v has a byte below 0x20. x & highs
		// catches the non-ASCII bytes.
		if ((x-0x20*ones)&^x|(q-ones)&^q|(b-ones)&^b|x)&highs != 0 {
			return i
		}
	}
	// Fewer than eight bytes left: the last eight, overlapping the words
	// already checked, tell for all of them.
	if i < len(s) && len(s) >= 8 && plainWords(s[len(s)-8:]) == 8 {
		return len(s)
	}
	return i
}
