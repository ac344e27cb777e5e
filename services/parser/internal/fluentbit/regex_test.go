package fluentbit

import (
	"errors"
	"strings"
	"testing"
)

func TestTranslateRegex(t *testing.T) {
	tests := []struct {
		name, in, want string
		match          string // optional input that must match
	}{
		{"named group", `^(?<host>[^ ]*) (?<user>\S+)$`, `(?m)^(?P<host>[^ ]*) (?P<user>\S+)$`, "a b"},
		{"quoted group name", `(?'word'\w+)`, `(?m)(?P<word>\w+)`, "x"},
		{"slashes stripped", `/^(?<a>x)$/`, `(?m)^(?P<a>x)$`, "x"},
		{"slash flags", `/^(?<a>x.y)$/im`, `(?mis)^(?P<a>x.y)$`, "X\nY"},
		{"unicode escape", `[^\u0023]+\u0023`, `(?m)[^\x{0023}]+\x{0023}`, "ab#"},
		{"hex class shorthand", `\h+[\h-]`, `(?m)[0-9a-fA-F]+[0-9a-fA-F-]`, "ff-"},
		{"not hex", `\H`, `(?m)[^0-9a-fA-F]`, "z"},
		{"escape e", `\e\[0m`, `(?m)\x1b\[0m`, "\x1b[0m"},
		{"posix class in class", `[-._?=%&\/[:alnum:]]+`, `(?m)[-._?=%&\/[:alnum:]]+`, "a/b"},
		{"bracket first in class", `[]a]+`, `(?m)[]a]+`, "]a"},
		{"negated bracket first", `[^]a]+`, `(?m)[^]a]+`, "bc"},
		{"lazy quantifiers", `a+?b*?c??`, `(?m)a+?b*?c??`, "ab"},
		{"interval", `a{1,2}b{,3}c{2}`, `(?m)a{1,2}b{0,3}c{2}`, "abbcc"},
		{"literal brace", `a{b`, `(?m)a\{b`, "a{b"},
		{"comment group", `a(?#note)b`, `(?m)ab`, "ab"},
		{"inline m is dotall", `(?m:a.b)`, `(?m)(?s:a.b)`, "a\nb"},
		{"inline i", `(?i)abc`, `(?m)(?i)abc`, "ABC"},
		{"end of string Z", `abc\Z`, `(?m)abc(?:\n?\z)`, "abc\n"},
		{"escaped punctuation", `\@\:\-\ `, `(?m)\@\:\-\ `, "@:- "},
		{"unescaped close bracket", `\[(?<c>[^\]]+)]`, `(?m)\[(?P<c>[^\]]+)]`, "[x]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			re, got, err := TranslateRegex(tc.in)
			if err != nil {
				t.Fatalf("TranslateRegex(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("TranslateRegex(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if tc.match != "" && !re.MatchString(tc.match) {
				t.Fatalf("%q does not match %q", got, tc.match)
			}
		})
	}
}

func TestTranslateRegexRejects(t *testing.T) {
	tests := []struct {
		name, in, want string
		offset         int
	}{
		{"look-behind", `(?<=a)b`, "look-behind (?<= is not supported by RE2", 0},
		{"negative look-behind", `x(?<!a)b`, "look-behind (?<! is not supported by RE2", 1},
		{"look-ahead", `a(?=b)`, "look-ahead (?= is not supported by RE2", 1},
		{"negative look-ahead", `a(?!b)`, "look-ahead (?! is not supported by RE2", 1},
		{"back-reference", `(a)\1`, `back-reference \1 is not supported by RE2`, 3},
		{"named back-reference", `(?<q>["'])x\k<q>`, `named back-reference \k is not supported by RE2`, 11},
		{"subexpression call", `(?<n>a)\g<n>`, `subexpression call \g is not supported by RE2`, 7},
		{"atomic group", `(?>a+)b`, "atomic group (?> is not supported by RE2", 0},
		{"possessive star", `a*+b`, "possessive quantifier *+ is not supported by RE2", 2},
		{"possessive plus", `\d++`, "possessive quantifier ++ is not supported by RE2", 3},
		{"possessive optional", `a?+`, "possessive quantifier ?+ is not supported by RE2", 2},
		{"repeated interval", `a{2}+`, "repeating a {n,m} quantifier with + is not supported by RE2", 4},
		{"absence operator", `(?~abc)`, "absence operator (?~ is not supported by RE2", 0},
		{"keep", `a\Kb`, `escape \K is not supported by RE2`, 1},
		{"class intersection", `[a-z&&[^aeiou]]`, "character class intersection && is not supported by RE2", 4},
		{"nested class", `[a[bc]]`, "nested character class is not supported by RE2", 2},
		{"extended flag", `/a b/x`, "extended mode /x is not supported by RE2", 5},
		{"inline extended", `(?x)a b`, "extended mode (?x) is not supported by RE2", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := TranslateRegex(tc.in)
			var re *RegexError
			if !errors.As(err, &re) {
				t.Fatalf("TranslateRegex(%q) err = %v, want *RegexError", tc.in, err)
			}
			if !strings.Contains(err.Error(), tc.want) || re.Offset != tc.offset {
				t.Fatalf("err = %q (offset %d), want %q at %d", err, re.Offset, tc.want, tc.offset)
			}
		})
	}
}

func TestCompileNamesParserInRegexError(t *testing.T) {
	p := Parser{Name: "lookbehind", Format: "regex", Regex: `(?<=x)(?<a>y)`, SkipEmptyValues: true}
	_, err := p.Compile()
	if err == nil || !strings.Contains(err.Error(), `parser "lookbehind"`) || !strings.Contains(err.Error(), "look-behind") {
		t.Fatalf("err = %v", err)
	}
	p = Parser{Name: "badgo", Format: "regex", Regex: `(?<a>x{1001})`}
	_, err = p.Compile()
	if err == nil || !strings.Contains(err.Error(), `parser "badgo"`) || !strings.Contains(err.Error(), "invalid repeat count") {
		t.Fatalf("err = %v", err)
	}
	p = Parser{Name: "nonames", Format: "regex", Regex: `^x$`}
	_, err = p.Compile()
	if err == nil || !strings.Contains(err.Error(), "no named groups") {
		t.Fatalf("err = %v", err)
	}
}

// Onigmo allows a name on several groups; the one that took part wins.
func TestDuplicateGroupNames(t *testing.T) {
	p := Parser{Name: "dup", Format: "regex", Regex: `^(?:(?<v>\d+)|(?<v>[a-z]+))$`, SkipEmptyValues: true}
	c, err := p.Compile()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"42", "abc"} {
		f, _, _, err := c.Parse([]byte(in))
		if err != nil || f["v"] != in || len(f) != 1 {
			t.Fatalf("Parse(%q) = %v, %v", in, f, err)
		}
	}
}

func FuzzTranslateRegex(f *testing.F) {
	for _, s := range []string{
		`^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \[(?<time>[^\]]*)\]`, `/^(?<a>x)$/i`, `(?<=a)`, `a*+`, `[[:alpha:]\h]`,
		`\u00e9`, `(?'n'x)\k<n>`, `a{,3}`, `(?#c)(?i:x)`, `[`, `(?`, `\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		re, out, err := TranslateRegex(s)
		if err != nil {
			var rerr *RegexError
			if !errors.As(err, &rerr) {
				t.Fatalf("error type %T", err)
			}
			return
		}
		if re == nil || re.String() != out {
			t.Fatalf("compiled %v, text %q", re, out)
		}
	})
}
