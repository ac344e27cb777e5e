package multiline

import (
	"fmt"
	"regexp"
	"strings"
)

// Matcher is a compiled line pattern. Patterns are Go regular expressions
// (RE2): linear time whatever the input, so a pod's annotation or a pasted
// rule cannot make the shipper spin. Patterns written for Onigmo (Fluent
// Bit, Ruby) or PCRE are translated where RE2 has an equivalent; see
// Translate.
type Matcher struct {
	src string
	re  *regexp.Regexp
	// not, when set, must NOT match at the start of the text for the
	// Matcher to match: the translation of a leading "^(?!...)".
	not *regexp.Regexp
	// lits, when set, are strings one of which every match contains.
	lits []string
}

// String returns the pattern as written.
func (m *Matcher) String() string { return m.src }

// Match reports whether the pattern matches anywhere in s.
func (m *Matcher) Match(s string) bool {
	if m.lits != nil && !containsAny(s, m.lits) {
		return false
	}
	if m.not != nil && m.not.MatchString(s) {
		return false
	}
	return m.re.MatchString(s)
}

// Compile compiles a Go (RE2) pattern.
func Compile(expr string) (*Matcher, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	return &Matcher{src: expr, re: re, lits: requiredLiterals(expr)}, nil
}

// CompileForeign compiles a pattern written for another engine: Fluent
// Bit's and Ruby's Onigmo, or PCRE. It accepts the /.../ delimiters those
// configurations use, rewrites the constructs RE2 spells differently, turns
// a leading negative lookahead "^(?!X)Y" into "Y and not ^X", and refuses
// what RE2 cannot express (back-references, other lookarounds) with an
// error naming the construct.
//
// slashes accepts the /.../ delimiters of Fluent Bit's rule syntax.
// lineEnd makes "$" match before a trailing newline as Ruby's does, for
// engines that match lines with their "\n" kept.
func CompileForeign(expr string, slashes, lineEnd bool) (*Matcher, error) {
	src := expr
	body := expr
	if t := strings.TrimSpace(expr); slashes && len(t) >= 2 && t[0] == '/' && strings.LastIndexByte(t, '/') > 0 {
		body = t
		if i := strings.LastIndexByte(body, '/'); i > 0 {
			flags := body[i+1:]
			body = body[1:i]
			if strings.Trim(flags, "imx") != "" {
				return nil, fmt.Errorf("pattern %s: unknown flags %q", expr, flags)
			}
			if strings.Contains(flags, "x") {
				return nil, fmt.Errorf("pattern %s: extended (x) mode is not supported", expr)
			}
			if strings.Contains(flags, "i") {
				body = "(?i)" + body
			}
		}
	}
	var not string
	if rest, ok := strings.CutPrefix(body, "^(?!"); ok {
		end := groupEnd(rest)
		if end < 0 {
			return nil, fmt.Errorf("pattern %s: unbalanced parenthesis", expr)
		}
		not = "^(?:" + rest[:end] + ")"
		body = "^" + rest[end+1:]
	}
	tr, err := translate(body, lineEnd)
	if err != nil {
		return nil, fmt.Errorf("pattern %s: %w", expr, err)
	}
	re, err := regexp.Compile(tr)
	if err != nil {
		return nil, fmt.Errorf("pattern %s: %w", expr, err)
	}
	m := &Matcher{src: src, re: re, lits: requiredLiterals(tr)}
	if not != "" {
		trn, err := translate(not, lineEnd)
		if err != nil {
			return nil, fmt.Errorf("pattern %s: %w", expr, err)
		}
		if m.not, err = regexp.Compile(trn); err != nil {
			return nil, fmt.Errorf("pattern %s: %w", expr, err)
		}
	}
	return m, nil
}

// groupEnd returns the index in s of the ")" closing a group whose "(" came
// just before s, or -1.
func groupEnd(s string) int {
	depth := 0
	inClass := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(s) && s[i+1] == ']' {
				i++
			}
		case c == '(':
			depth++
		case c == ')':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

// translate rewrites Onigmo/PCRE spellings into RE2 ones.
func translate(s string, lineEnd bool) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			n := s[i+1]
			i++
			switch {
			case n == 'h' && !inClass:
				b.WriteString(`[0-9a-fA-F]`)
			case n == 'h':
				b.WriteString(`0-9a-fA-F`)
			case n == 'Z':
				b.WriteString(`(?:\n?\z)`)
			case n == 'G':
				return "", fmt.Errorf(`\G is not supported`)
			case n >= '1' && n <= '9' && !inClass:
				return "", fmt.Errorf(`back-reference \%c is not supported by RE2`, n)
			case n == 'k' && i+1 < len(s) && s[i+1] == '<':
				return "", fmt.Errorf(`named back-reference \k<...> is not supported by RE2`)
			case n == '/':
				b.WriteByte('/')
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			if i+1 < len(s) && s[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(s) && s[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case c == '(' && strings.HasPrefix(s[i:], "(?x:)"):
			i += len("(?x:)") - 1 // an empty group that only toggles a flag
		case c == '(' && strings.HasPrefix(s[i:], "(?>"):
			b.WriteString("(?:") // atomic group: same matches, RE2 never backtracks
			i += 2
		case c == '(' && (strings.HasPrefix(s[i:], "(?=") || strings.HasPrefix(s[i:], "(?!") ||
			strings.HasPrefix(s[i:], "(?<=") || strings.HasPrefix(s[i:], "(?<!")):
			return "", fmt.Errorf("lookaround at offset %d is not supported by RE2 (only a leading ^(?!...) is translated)", i)
		case c == '$' && lineEnd:
			b.WriteString(`(?m:$)`)
		case c == '+' && i > 0 && strings.IndexByte("+*?}", s[i-1]) >= 0 && (i < 2 || s[i-2] != '\\'):
			// possessive quantifier X*+ / X++ / X?+: RE2 has no backtracking to forbid.
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
