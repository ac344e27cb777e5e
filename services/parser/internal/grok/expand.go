package grok

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Expansion limits. A pattern that exceeds any of them is refused at compile
// time, before the regexp compiler sees it.
const (
	// MaxExpandedSize caps the size of the fully expanded regular expression.
	MaxExpandedSize = 64 << 10
	// MaxDepth caps how deeply %{...} references may nest.
	MaxDepth = 32
	// MaxReferences caps the total number of %{...} references expanded.
	MaxReferences = 10000
)

var errTooBig = fmt.Errorf("grok: pattern expands beyond %d KiB", MaxExpandedSize>>10)

// Conv is the type conversion requested by a capture suffix (:int, :float).
type Conv uint8

const (
	ConvNone Conv = iota
	ConvInt
	ConvFloat
)

// field is one named capture: the regexp group name it was given during
// expansion, and where its value goes.
type field struct {
	group string   // regexp group name, "g<N>"
	name  string   // field reference as written: "clientip", "[http][version]"
	path  []string // parsed path: ["clientip"], ["http", "version"]
	conv  Conv
	toEOL bool // (?=%{GREEDYDATA:f}): value runs from the group to the end of input
}

type expander struct {
	lib    *Library
	local  map[string]string // inline %{NAME=def} definitions
	buf    strings.Builder
	fields []field
	refs   int
	stack  []string
}

// expand rewrites a grok expression into a Go regular expression in which
// every capture that feeds a field is a named group g<N>.
func (l *Library) expand(expr string) (string, []field, error) {
	e := &expander{lib: l}
	// Logstash compiles with Ruby's MULTILINE: '.' matches newlines and
	// ^/$ match at line boundaries, which is (?ms) in RE2.
	e.buf.WriteString("(?ms)")
	if err := e.run(expr, 0); err != nil {
		return "", nil, err
	}
	return e.buf.String(), e.fields, nil
}

func (e *expander) addField(name string, conv Conv) string {
	g := "g" + strconv.Itoa(len(e.fields))
	e.fields = append(e.fields, field{group: g, name: name, path: parsePath(name), conv: conv})
	return g
}

func (e *expander) lookup(name string) (string, bool) {
	if d, ok := e.local[name]; ok {
		return d, true
	}
	d, ok := e.lib.defs[name]
	return d, ok
}

func (e *expander) write(s string) error {
	e.buf.WriteString(s)
	if e.buf.Len() > MaxExpandedSize {
		return errTooBig
	}
	return nil
}

func (e *expander) writeByte(c byte) error {
	e.buf.WriteByte(c)
	if e.buf.Len() > MaxExpandedSize {
		return errTooBig
	}
	return nil
}

func isNameByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// isSubnameByte reports the characters Logstash accepts in %{NAME:subname}.
func isSubnameByte(c byte) bool {
	return isNameByte(c) || c == '@' || c == '[' || c == ']' || c == ':' || c == '.' || c == '-'
}

func (e *expander) run(s string, depth int) error {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			j := min(i+2, len(s))
			if err := e.write(s[i:j]); err != nil {
				return err
			}
			i = j
		case c == '[':
			j := classEnd(s, i)
			if err := e.write(s[i:j]); err != nil {
				return err
			}
			i = j
		case c == '(' && i+1 < len(s) && s[i+1] == '?':
			n, err := e.group(s, i)
			if err != nil {
				return err
			}
			i = n
		case c == '%' && i+1 < len(s) && s[i+1] == '{':
			n, err := e.reference(s, i, depth)
			if err != nil {
				return err
			}
			i = n
		default:
			if err := e.writeByte(c); err != nil {
				return err
			}
			i++
		}
	}
	return nil
}

// classEnd returns the index just past the bracket expression starting at i.
func classEnd(s string, i int) int {
	j := i + 1
	if j < len(s) && s[j] == '^' {
		j++
	}
	if j < len(s) && s[j] == ']' {
		j++
	}
	for j < len(s) {
		switch {
		case s[j] == '\\':
			j += 2
			continue
		case s[j] == '[' && j+1 < len(s) && s[j+1] == ':':
			if k := strings.Index(s[j+2:], ":]"); k >= 0 {
				j += k + 4
				continue
			}
		case s[j] == ']':
			return j + 1
		}
		j++
	}
	return len(s)
}

// group handles "(?" constructs: named captures become fields, atomic groups
// become plain groups, lookaround is refused.
func (e *expander) group(s string, i int) (int, error) {
	rest := s[i+2:]
	switch {
	case strings.HasPrefix(rest, "<=") || strings.HasPrefix(rest, "<!"):
		return 0, fmt.Errorf("grok: lookbehind (?%s...) is not supported (RE2 syntax only) in %q", rest[:2], clip(s))
	case strings.HasPrefix(rest, "=%{GREEDYDATA:"):
		// Logstash uses this lookahead to copy the rest of the line into a
		// field while matching continues; an empty group marks the spot.
		k := strings.Index(rest, "})")
		if k < 0 {
			return 0, fmt.Errorf("grok: unterminated lookahead in %q", clip(s))
		}
		name, conv := splitSubname(rest[len("=%{GREEDYDATA:"):k])
		g := e.addField(name, conv)
		e.fields[len(e.fields)-1].toEOL = true
		return i + 2 + k + 2, e.write("(?P<" + g + ">)")
	case strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "!"):
		return 0, fmt.Errorf("grok: lookahead (?%s...) is not supported (RE2 syntax only) in %q", rest[:1], clip(s))
	case strings.HasPrefix(rest, ">"):
		return i + 3, e.write("(?:")
	case strings.HasPrefix(rest, "<") || strings.HasPrefix(rest, "P<") || strings.HasPrefix(rest, "'"):
		open, close := 1, byte('>')
		if rest[0] == 'P' {
			open = 2
		} else if rest[0] == '\'' {
			close = '\''
		}
		k := strings.IndexByte(rest[open:], close)
		if k <= 0 {
			return 0, fmt.Errorf("grok: unterminated group name in %q", clip(s))
		}
		name := rest[open : open+k]
		g := e.addField(name, ConvNone)
		return i + 2 + open + k + 1, e.write("(?P<" + g + ">")
	}
	return i + 2, e.write("(?")
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// reference expands one %{NAME[:field[:type]][=definition]} at s[i:].
func (e *expander) reference(s string, i, depth int) (int, error) {
	j := i + 2
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	name := s[i+2 : j]
	if name == "" {
		// Not a reference; Logstash leaves it as literal text.
		return i + 1, e.writeByte('%')
	}
	var sub, def string
	hasDef := false
	if j < len(s) && s[j] == ':' {
		k := j + 1
		for k < len(s) && isSubnameByte(s[k]) {
			k++
		}
		sub = s[j+1 : k]
		j = k
	}
	if j < len(s) && s[j] == '=' {
		k, ok := defEnd(s, j+1)
		if !ok {
			return 0, fmt.Errorf("grok: unterminated inline definition for %q", name)
		}
		def, hasDef = s[j+1:k], true
		j = k
	}
	end := strings.IndexByte(s[j:], '}')
	if end < 0 {
		return i + 1, e.writeByte('%')
	}
	j += end + 1

	if hasDef {
		if e.local == nil {
			e.local = map[string]string{}
		}
		e.local[name] = def
	}
	body, ok := e.lookup(name)
	if !ok {
		return 0, fmt.Errorf("grok: unknown grok pattern %q", name)
	}
	e.refs++
	if e.refs > MaxReferences {
		return 0, fmt.Errorf("grok: pattern %q: more than %d pattern references", name, MaxReferences)
	}
	if depth >= MaxDepth {
		return 0, fmt.Errorf("grok: pattern %q: references nest deeper than %d", name, MaxDepth)
	}
	for _, n := range e.stack {
		if n == name {
			return 0, fmt.Errorf("grok: recursive pattern reference: %s -> %s", strings.Join(e.stack, " -> "), name)
		}
	}
	open := "(?:"
	if sub != "" {
		fieldName, conv := splitSubname(sub)
		if fieldName != "" {
			open = "(?P<" + e.addField(fieldName, conv) + ">"
		}
	}
	if err := e.write(open); err != nil {
		return 0, err
	}
	e.stack = append(e.stack, name)
	if err := e.run(body, depth+1); err != nil {
		return 0, err
	}
	e.stack = e.stack[:len(e.stack)-1]
	return j, e.writeByte(')')
}

// defEnd finds the end of an inline definition: the first '}' not nested in
// braces and not escaped.
func defEnd(s string, i int) (int, bool) {
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return i, true
			}
			depth--
		}
	}
	return 0, false
}

// parsePath turns a Logstash field reference into path segments:
// "[a][b]" -> ["a","b"], "name" -> ["name"]. Dots are not separators.
func parsePath(ref string) []string {
	if len(ref) < 2 || ref[0] != '[' {
		return []string{ref}
	}
	var out []string
	s := ref
	for len(s) > 0 {
		if s[0] != '[' {
			return []string{ref}
		}
		k := strings.IndexByte(s, ']')
		if k < 0 {
			return []string{ref}
		}
		out = append(out, s[1:k])
		s = s[k+1:]
	}
	return out
}

var errEmptyName = errors.New("grok: empty pattern name")

// splitSubname splits "field:type" into the field and its conversion.
func splitSubname(sub string) (string, Conv) {
	fieldName, conv := sub, ConvNone
	if k := strings.IndexByte(sub, ':'); k >= 0 {
		fieldName = sub[:k]
		switch strings.SplitN(sub[k+1:], ":", 2)[0] {
		case "int":
			conv = ConvInt
		case "float":
			conv = ConvFloat
		}
	}
	return fieldName, conv
}
