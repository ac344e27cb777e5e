package dissect

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

type keyKind uint8

const (
	kindPlain  keyKind = iota // %{name}
	kindSkip                  // %{} or %{?name}
	kindAppend                // %{+name} (and the plain key of an append group)
	kindRefKey                // %{*name}
	kindRefVal                // %{&name}
)

type field struct {
	name  string
	kind  keyKind
	named bool // skip key with a name (%{?name}), usable by &name
	order int  // append order (/N)
	pad   bool // -> modifier
	delim string
	// compile-time resolution
	emit   bool  // emit at this position
	group  []int // append group members in output order (on the emitting field)
	refSrc int   // for kindRefVal: index of the field holding the key name
}

// Trim selects which ends of values are trimmed.
type Trim uint8

const (
	TrimNone Trim = iota
	TrimLeft
	TrimRight
	TrimBoth
)

// Option configures a Dissector.
type Option func(*Dissector)

// AppendSeparator sets the text put between appended values (default "").
func AppendSeparator(sep string) Option { return func(d *Dissector) { d.appendSep = sep } }

// TrimValues trims the characters in cutset from the given ends of every
// value. An empty cutset means " \t".
func TrimValues(mode Trim, cutset string) Option {
	return func(d *Dissector) {
		if cutset == "" {
			cutset = " \t"
		}
		d.trim, d.trimSet = mode, cutset
	}
}

// Dissector is a compiled dissect pattern. It is safe for concurrent use.
type Dissector struct {
	pattern   string
	prefix    string
	fields    []field
	appendSep string
	trim      Trim
	trimSet   string
	keys      []string
}

// MustCompile is Compile that panics on error.
func MustCompile(pattern string, opts ...Option) *Dissector {
	d, err := Compile(pattern, opts...)
	if err != nil {
		panic(err)
	}
	return d
}

// Compile parses a dissect pattern.
func Compile(pattern string, opts ...Option) (*Dissector, error) {
	d := &Dissector{pattern: pattern}
	for _, o := range opts {
		o(d)
	}
	rest := pattern
	i := strings.Index(rest, "%{")
	if i < 0 {
		return nil, fmt.Errorf("dissect: pattern %q has no %%{key}", pattern)
	}
	d.prefix = rest[:i]
	rest = rest[i:]
	for len(rest) > 0 {
		// rest starts with "%{"
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return nil, fmt.Errorf("dissect: pattern %q: unterminated key at byte %d", pattern, len(pattern)-len(rest))
		}
		f, err := parseKey(rest[2:end])
		if err != nil {
			return nil, fmt.Errorf("dissect: pattern %q: key %q: %v", pattern, rest[:end+1], err)
		}
		rest = rest[end+1:]
		next := strings.Index(rest, "%{")
		if next < 0 {
			f.delim, rest = rest, ""
		} else {
			f.delim, rest = rest[:next], rest[next:]
			if f.delim == "" {
				return nil, fmt.Errorf("dissect: pattern %q: keys need a delimiter between them at byte %d", pattern, len(pattern)-len(rest))
			}
		}
		d.fields = append(d.fields, f)
	}
	if err := d.resolve(); err != nil {
		return nil, fmt.Errorf("dissect: pattern %q: %v", pattern, err)
	}
	return d, nil
}

func parseKey(s string) (field, error) {
	var f field
	if strings.HasSuffix(s, "->") {
		f.pad = true
		s = s[:len(s)-2]
	}
	if s != "" {
		switch s[0] {
		case '+':
			f.kind = kindAppend
			s = s[1:]
		case '?':
			f.kind = kindSkip
			f.named = true
			s = s[1:]
		case '*':
			f.kind = kindRefKey
			s = s[1:]
		case '&':
			f.kind = kindRefVal
			s = s[1:]
		}
	}
	if slash := strings.LastIndexByte(s, '/'); slash >= 0 {
		n, err := strconv.Atoi(s[slash+1:])
		if err == nil {
			if f.kind != kindAppend {
				return f, fmt.Errorf("order /%d is only allowed with the + modifier", n)
			}
			if n < 1 {
				return f, fmt.Errorf("append order must start at 1")
			}
			f.order = n
			s = s[:slash]
		}
	}
	if s != "" && strings.IndexByte("+?*&", s[0]) >= 0 {
		return f, fmt.Errorf("more than one prefix modifier")
	}
	f.name = s
	if s == "" {
		switch f.kind {
		case kindPlain, kindSkip:
			f.kind = kindSkip
		default:
			return f, fmt.Errorf("modifier needs a key name")
		}
	}
	return f, nil
}

// resolve groups appends, pairs references and fixes emission order.
func (d *Dissector) resolve() error {
	appendNames := map[string]bool{}
	for _, f := range d.fields {
		if f.kind == kindAppend {
			appendNames[f.name] = true
		}
	}
	plain := map[string]int{}
	groups := map[string]int{} // name → emitting field index
	for i := range d.fields {
		f := &d.fields[i]
		switch f.kind {
		case kindPlain:
			if appendNames[f.name] {
				f.kind = kindAppend
				break
			}
			if _, dup := plain[f.name]; dup {
				return fmt.Errorf("duplicate key %q (use %%{+%s} to append)", f.name, f.name)
			}
			plain[f.name] = i
			f.emit = true
			d.keys = append(d.keys, f.name)
		}
		if f.kind == kindAppend {
			g, ok := groups[f.name]
			if !ok {
				groups[f.name] = i
				g = i
				f.emit = true
				d.keys = append(d.keys, f.name)
			}
			d.fields[g].group = append(d.fields[g].group, i)
		}
	}
	for _, g := range groups {
		members := d.fields[g].group
		sort.SliceStable(members, func(a, b int) bool {
			return d.fields[members[a]].order < d.fields[members[b]].order
		})
	}
	refKeys := map[string]int{}
	for i, f := range d.fields {
		if f.kind == kindRefKey {
			if _, dup := refKeys[f.name]; dup {
				return fmt.Errorf("duplicate reference key %%{*%s}", f.name)
			}
			refKeys[f.name] = i
		}
	}
	usedRef := map[string]bool{}
	for i := range d.fields {
		f := &d.fields[i]
		if f.kind != kindRefVal {
			continue
		}
		if usedRef[f.name] {
			return fmt.Errorf("duplicate reference value %%{&%s}", f.name)
		}
		usedRef[f.name] = true
		src, ok := refKeys[f.name]
		if !ok {
			src, ok = plain[f.name]
		}
		if !ok {
			for j, g := range d.fields {
				if g.kind == kindSkip && g.named && g.name == f.name {
					src, ok = j, true
					break
				}
			}
		}
		if !ok {
			return fmt.Errorf("%%{&%s} has no matching %%{*%s}", f.name, f.name)
		}
		f.refSrc = src
		f.emit = true
	}
	for name := range refKeys {
		if !usedRef[name] {
			return fmt.Errorf("%%{*%s} has no matching %%{&%s}", name, name)
		}
	}
	return nil
}

// Pattern returns the source pattern.
func (d *Dissector) Pattern() string { return d.pattern }

// Keys returns the statically known output keys in emission order (keys
// named by %{*ref} values are not included).
func (d *Dissector) Keys() []string { return append([]string(nil), d.keys...) }

// MatchError reports where a line stopped matching the pattern.
type MatchError struct {
	Line     string // the line, truncated to 64 bytes
	Offset   int    // byte offset in the line where the delimiter was expected
	Expected string // the delimiter that was not found
}

func (e *MatchError) Error() string {
	return fmt.Sprintf("dissect: %q does not match pattern: delimiter %q not found at or after byte %d", e.Line, e.Expected, e.Offset)
}

func matchErr(line string, off int, delim string) error {
	if len(line) > 64 {
		line = line[:64] + "..."
	}
	return &MatchError{Line: line, Offset: off, Expected: delim}
}

func (d *Dissector) trimValue(v string) string {
	switch d.trim {
	case TrimLeft:
		return strings.TrimLeft(v, d.trimSet)
	case TrimRight:
		return strings.TrimRight(v, d.trimSet)
	case TrimBoth:
		return strings.Trim(v, d.trimSet)
	}
	return v
}

// Dissect matches line against the pattern and calls fn for each output
// key and value, in pattern order. On a mismatch it returns a *MatchError
// and calls fn for nothing. Values are substrings of line, except appended
// values, which are built.
func (d *Dissector) Dissect(line string, fn func(key, value string)) error {
	var buf [24]string
	var vals []string
	if len(d.fields) <= len(buf) {
		vals = buf[:len(d.fields)]
	} else {
		vals = make([]string, len(d.fields))
	}
	if !strings.HasPrefix(line, d.prefix) {
		return matchErr(line, 0, d.prefix)
	}
	pos := len(d.prefix)
	for i := range d.fields {
		f := &d.fields[i]
		if f.delim == "" {
			vals[i] = line[pos:]
			pos = len(line)
			continue
		}
		idx := strings.Index(line[pos:], f.delim)
		if idx < 0 {
			return matchErr(line, pos, f.delim)
		}
		vals[i] = line[pos : pos+idx]
		pos += idx + len(f.delim)
		if f.pad {
			for strings.HasPrefix(line[pos:], f.delim) {
				pos += len(f.delim)
			}
		}
	}
	for i := range d.fields {
		f := &d.fields[i]
		if !f.emit {
			continue
		}
		switch f.kind {
		case kindPlain:
			fn(f.name, d.trimValue(vals[i]))
		case kindAppend:
			fn(f.name, d.join(f.group, vals))
		case kindRefVal:
			fn(vals[f.refSrc], d.trimValue(vals[i]))
		}
	}
	return nil
}

func (d *Dissector) join(members []int, vals []string) string {
	if len(members) == 1 {
		return d.trimValue(vals[members[0]])
	}
	n := len(d.appendSep) * (len(members) - 1)
	for _, m := range members {
		n += len(vals[m])
	}
	var b strings.Builder
	b.Grow(n)
	for k, m := range members {
		if k > 0 {
			b.WriteString(d.appendSep)
		}
		b.WriteString(d.trimValue(vals[m]))
	}
	return b.String()
}

// DissectMap is Dissect collecting the result into a new map.
func (d *Dissector) DissectMap(line string) (map[string]string, error) {
	m := make(map[string]string, len(d.keys)+1)
	if err := d.Dissect(line, func(k, v string) { m[k] = v }); err != nil {
		return nil, err
	}
	return m, nil
}
