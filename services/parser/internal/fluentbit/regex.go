package fluentbit

import (
	"fmt"
	"regexp"
	"strings"
)

// RegexError reports an Onigmo construct that cannot be run by Go's RE2
// engine, or a pattern Go rejects.
type RegexError struct {
	Parser string // parser name, when known
	Offset int    // byte offset in the (delimiter-stripped) pattern; -1 if unknown
	Reason string
}

func (e *RegexError) Error() string {
	var b strings.Builder
	b.WriteString("fluentbit: ")
	if e.Parser != "" {
		fmt.Fprintf(&b, "parser %q: ", e.Parser)
	}
	b.WriteString("regex: ")
	b.WriteString(e.Reason)
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " at byte %d", e.Offset)
	}
	return b.String()
}

func unsupported(off int, what string) error {
	return &RegexError{Offset: off, Reason: what + " is not supported by RE2"}
}

// TranslateRegex rewrites an Onigmo (Ruby syntax) pattern, as used in
// Fluent Bit parsers, into Go regexp syntax and compiles it. See the package
// documentation for what is translated and what is rejected.
func TranslateRegex(src string) (*regexp.Regexp, string, error) {
	s, flags, err := stripDelimiters(src)
	if err != nil {
		return nil, "", err
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString("(?m" + flags + ")")
	inClass := false
	classBody := 0       // bytes written since the class opened (after ^)
	lastQuant := byte(0) // last unescaped quantifier written outside a class
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			if i+1 >= len(s) {
				return nil, "", &RegexError{Offset: i, Reason: "trailing backslash"}
			}
			n := s[i+1]
			lastQuant = 0
			switch {
			case n >= '1' && n <= '9':
				if inClass {
					return nil, "", unsupported(i, "octal escape in a character class")
				}
				return nil, "", unsupported(i, "back-reference \\"+string(n))
			case n == 'k' && i+2 < len(s) && (s[i+2] == '<' || s[i+2] == '\''):
				return nil, "", unsupported(i, "named back-reference \\k")
			case n == 'g' && i+2 < len(s) && (s[i+2] == '<' || s[i+2] == '\''):
				return nil, "", unsupported(i, "subexpression call \\g")
			case n == 'h':
				if inClass {
					b.WriteString("0-9a-fA-F")
				} else {
					b.WriteString("[0-9a-fA-F]")
				}
			case n == 'H':
				if inClass {
					return nil, "", unsupported(i, "\\H inside a character class")
				}
				b.WriteString("[^0-9a-fA-F]")
			case n == 'e':
				b.WriteString(`\x1b`)
			case n == 'u':
				if i+6 > len(s) || !isHex4(s[i+2:i+6]) {
					return nil, "", &RegexError{Offset: i, Reason: "\\u needs four hex digits"}
				}
				b.WriteString(`\x{` + s[i+2:i+6] + `}`)
				i += 4
			case n == 'Z' && !inClass:
				b.WriteString(`(?:\n?\z)`)
			case strings.IndexByte("GKRXyYONc", n) >= 0:
				return nil, "", unsupported(i, "escape \\"+string(n))
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
			i++
			if inClass {
				classBody++
			}
			continue
		}
		if inClass {
			switch {
			case c == ']' && classBody > 0:
				inClass = false
			case c == '[' && i+1 < len(s) && s[i+1] == ':':
				end := strings.Index(s[i:], ":]")
				if end < 0 {
					return nil, "", &RegexError{Offset: i, Reason: "unterminated POSIX class"}
				}
				b.WriteString(s[i : i+end+2])
				i += end + 1
				classBody++
				continue
			case c == '[':
				return nil, "", unsupported(i, "nested character class")
			case c == '&' && i+1 < len(s) && s[i+1] == '&':
				return nil, "", unsupported(i, "character class intersection &&")
			}
			b.WriteByte(c)
			classBody++
			continue
		}
		switch c {
		case '[':
			inClass = true
			classBody = 0
			b.WriteByte('[')
			if i+1 < len(s) && s[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			lastQuant = 0
			continue
		case '(':
			lastQuant = 0
			if i+1 < len(s) && s[i+1] == '?' {
				skip, err := groupHead(&b, s, i)
				if err != nil {
					return nil, "", err
				}
				i += skip - 1
				continue
			}
			b.WriteByte('(')
			continue
		case '*', '+', '?':
			if lastQuant != 0 {
				if c == '+' {
					if lastQuant == '}' {
						return nil, "", unsupported(i, "repeating a {n,m} quantifier with +")
					}
					return nil, "", unsupported(i, "possessive quantifier "+string(lastQuant)+"+")
				}
				if c == '?' { // lazy
					b.WriteByte(c)
					lastQuant = 0
					continue
				}
				return nil, "", unsupported(i, "nested quantifier")
			}
			b.WriteByte(c)
			lastQuant = c
			continue
		case '{':
			// {,n} means {0,n} in Onigmo.
			if end := strings.IndexByte(s[i:], '}'); end > 0 && isInterval(s[i+1:i+end]) {
				body := s[i+1 : i+end]
				if body[0] == ',' {
					body = "0" + body
				}
				b.WriteString("{" + body + "}")
				i += end
				lastQuant = '}'
				continue
			}
			b.WriteString(`\{`)
			lastQuant = 0
			continue
		}
		lastQuant = 0
		b.WriteByte(c)
	}
	if inClass {
		return nil, "", &RegexError{Offset: len(s), Reason: "unterminated character class"}
	}
	out := b.String()
	re, err := regexp.Compile(out)
	if err != nil {
		return nil, out, &RegexError{Offset: -1, Reason: err.Error()}
	}
	return re, out, nil
}

// stripDelimiters removes Ruby-style /…/flags and returns Go inline flags.
func stripDelimiters(src string) (string, string, error) {
	if len(src) < 2 || src[0] != '/' {
		return src, "", nil
	}
	end := strings.LastIndexByte(src, '/')
	if end == 0 {
		return src, "", nil
	}
	opts := src[end+1:]
	flags := ""
	for k := 0; k < len(opts); k++ {
		switch opts[k] {
		case 'i':
			flags += "i"
		case 'm':
			flags += "s" // Ruby's m: dot matches newline
		case 'x':
			return "", "", unsupported(end+1+k, "extended mode /x")
		default:
			return src, "", nil // not a /…/ pattern after all
		}
	}
	return src[1:end], flags, nil
}

// groupHead translates the "(?..." at s[i:] and returns how many bytes of s
// it consumed.
func groupHead(b *strings.Builder, s string, i int) (int, error) {
	rest := s[i+2:]
	if rest == "" {
		return 0, &RegexError{Offset: i, Reason: "unterminated group"}
	}
	switch rest[0] {
	case '<':
		if len(rest) > 1 && (rest[1] == '=' || rest[1] == '!') {
			return 0, unsupported(i, "look-behind (?<"+string(rest[1]))
		}
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			return 0, &RegexError{Offset: i, Reason: "unterminated group name"}
		}
		b.WriteString("(?P<" + rest[1:end] + ">")
		return 2 + end + 1, nil
	case '\'':
		end := strings.IndexByte(rest[1:], '\'')
		if end < 0 {
			return 0, &RegexError{Offset: i, Reason: "unterminated group name"}
		}
		b.WriteString("(?P<" + rest[1:1+end] + ">")
		return 2 + end + 2, nil
	case '=', '!':
		return 0, unsupported(i, "look-ahead (?"+string(rest[0]))
	case '>':
		return 0, unsupported(i, "atomic group (?>")
	case '~':
		return 0, unsupported(i, "absence operator (?~")
	case '#':
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return 0, &RegexError{Offset: i, Reason: "unterminated comment"}
		}
		return 2 + end + 1, nil
	case 'P':
		b.WriteString("(?")
		return 2, nil
	}
	// Option group: (?imx-imx) or (?imx-imx:…)
	k := 0
	var fl strings.Builder
	for k < len(rest) && rest[k] != ')' && rest[k] != ':' {
		switch rest[k] {
		case 'i', '-':
			fl.WriteByte(rest[k])
		case 'm':
			fl.WriteByte('s')
		case 'x':
			return 0, unsupported(i, "extended mode (?x)")
		default:
			return 0, &RegexError{Offset: i, Reason: "unknown group syntax (?" + string(rest[k])}
		}
		k++
	}
	if k >= len(rest) {
		return 0, &RegexError{Offset: i, Reason: "unterminated group"}
	}
	flags := strings.TrimSuffix(fl.String(), "-")
	if flags == "" {
		if rest[k] == ':' {
			b.WriteString("(?:")
		} else {
			b.WriteString("(?:)")
		}
	} else {
		b.WriteString("(?" + flags + string(rest[k]))
	}
	return 2 + k + 1, nil
}

func isHex4(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f') {
			return false
		}
	}
	return len(s) == 4
}

// isInterval reports whether body (between braces) is n, n,, n,m or ,m.
func isInterval(body string) bool {
	if body == "" || body == "," {
		return false
	}
	comma := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == ',':
			if comma {
				return false
			}
			comma = true
		case c < '0' || c > '9':
			return false
		}
	}
	return true
}
