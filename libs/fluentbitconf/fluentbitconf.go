package fluentbitconf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxLineBytes is the longest line Parse accepts. Regex rules in parsers
// files can be long, so it is well above bufio's 64 KiB default; a longer
// line fails the read rather than being split.
const MaxLineBytes = 4 << 20

// ErrInclude is wrapped by the *Error Parse returns for an @INCLUDE line, so
// callers can word the refusal for their own users.
var ErrInclude = errors.New("@INCLUDE cannot be followed")

// Error is a syntax error at one line of the file.
type Error struct {
	Line int    // 1-based line number
	Msg  string // what is wrong, without the line
	Arg  string // for @INCLUDE, the path as written
	Err  error  // ErrInclude for @INCLUDE, nil otherwise
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Unwrap returns ErrInclude for @INCLUDE lines.
func (e *Error) Unwrap() error { return e.Err }

// Property is one "key value" line of a section.
type Property struct {
	Key   string // as written, for messages
	Lower string // Key lower-cased: Fluent Bit matches keys case-insensitively
	// Raw is the rest of the line, trimmed. It may be empty: whether a key
	// needs a value is for the caller to decide, and a caller checks Raw so
	// that a variable set to nothing still counts as a written value.
	Raw string
	// Value is Raw with ${name} replaced by the value of an earlier
	// @SET name=...; references to unknown names are kept as written.
	Value string
	Line  int
}

// Section is one [NAME] block.
type Section struct {
	Name       string // upper-cased, without brackets and surrounding blanks
	Line       int    // line of the [NAME] header
	Properties []Property
}

// Parse reads a classic-format file. Every section is returned, in file
// order, whatever its name; callers skip the ones they do not interpret.
//
// Syntax errors are *Error values and stop the read; failures of r are
// wrapped as "reading: ...". With an error, Parse still returns the
// sections read before it, the last one cut short, so a caller can report a
// problem in an earlier line first and the user fixes the file top-down.
func Parse(r io.Reader) ([]Section, error) {
	var out []Section
	vars := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#':
			continue
		case line[0] == '@':
			if err := command(line, lineNo, vars); err != nil {
				return out, err
			}
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return out, &Error{Line: lineNo, Msg: fmt.Sprintf("malformed section header %q", line)}
			}
			out = append(out, Section{
				Name: strings.ToUpper(strings.TrimSpace(line[1 : len(line)-1])),
				Line: lineNo,
			})
		case len(out) == 0:
			return out, &Error{Line: lineNo, Msg: "property outside a section"}
		default:
			key, val := splitProperty(line)
			s := &out[len(out)-1]
			s.Properties = append(s.Properties, Property{
				Key:   key,
				Lower: strings.ToLower(key),
				Raw:   val,
				Value: expand(val, vars),
				Line:  lineNo,
			})
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("reading: %w", err)
	}
	return out, nil
}

// command applies one @ line. The command ends at the first space, as in
// Fluent Bit, so "@SET\tx=1" is an unknown command rather than a @SET.
func command(line string, lineNo int, vars map[string]string) error {
	cmd, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch strings.ToUpper(cmd) {
	case "@SET":
		k, v, ok := strings.Cut(arg, "=")
		if !ok {
			return &Error{Line: lineNo, Msg: "@SET needs name=value"}
		}
		vars[strings.TrimSpace(k)] = strings.TrimSpace(v)
		return nil
	case "@INCLUDE":
		return &Error{
			Line: lineNo,
			Msg:  fmt.Sprintf("@INCLUDE %s cannot be followed when reading a single file", arg),
			Arg:  arg,
			Err:  ErrInclude,
		}
	default:
		return &Error{Line: lineNo, Msg: "unknown command " + cmd}
	}
}

// splitProperty splits a trimmed line at its first space or tab.
func splitProperty(line string) (key, val string) {
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		return line, ""
	}
	return line[:i], strings.TrimSpace(line[i:])
}

// expand replaces each ${name} with its @SET value in one left-to-right
// pass: substituted text is not expanded again, so a value cannot recurse.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		if v, ok := vars[s[i+2:i+j]]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// ErrUnterminatedQuote is returned by Fields for a quote without its match.
var ErrUnterminatedQuote = errors.New("unterminated quote")

// Fields splits a property value into blank-separated fields, where a field
// may be quoted with " or ' to hold blanks, as in a multiline parser's
// rule "state" "regex" "next". Quotes are removed and no escapes are
// recognised, so `"a" "b c" d` gives [a, b c, d].
func Fields(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, nil
		}
		if q := s[0]; q == '"' || q == '\'' {
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				return nil, ErrUnterminatedQuote
			}
			out = append(out, s[1:1+end])
			s = s[end+2:]
			continue
		}
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		out = append(out, s[:end])
		s = s[end:]
	}
}
