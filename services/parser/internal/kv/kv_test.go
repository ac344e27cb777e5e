package kv

import (
	"reflect"
	"strings"
	"testing"
)

func pairs(p *Parser, line string) string {
	var b []string
	p.Parse(line, func(k, v string) { b = append(b, k+"=<"+v+">") })
	return strings.Join(b, " ")
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		in   string
		want string
	}{
		{"defaults", Config{}, "user=alice action=login src=10.0.0.1",
			"user=<alice> action=<login> src=<10.0.0.1>"},
		{"skips non pairs", Config{}, "hello a=1 world b=2 !",
			"a=<1> b=<2>"},
		{"double quoted", Config{}, `msg="hello world" x=1`,
			"msg=<hello world> x=<1>"},
		{"single quoted", Config{}, `msg='hello world' x=1`,
			"msg=<hello world> x=<1>"},
		{"brackets", Config{}, "a=(one two) b=[three four] c=<five six>",
			"a=<one two> b=<three four> c=<five six>"},
		{"exclude brackets", Config{ExcludeBrackets: true}, "a=(one two) b=3",
			"a=<(one> b=<3>"},
		{"unterminated quote is unquoted", Config{}, `a="open b=2`,
			`a=<"open> b=<2>`},
		{"value keeps value separator", Config{}, "url=http://x/?a=b c=1",
			"url=<http://x/?a=b> c=<1>"},
		{"lenient spaces around separator", Config{}, "a = 1 b= 2",
			"a=<1> b=<2>"},
		{"strict whitespace", Config{StrictWhitespace: true}, "a = 1 b=2",
			"b=<2>"},
		{"empty dropped", Config{}, "a= b=2",
			"a=<b=2>"},
		{"empty at end dropped", Config{}, "b=2 a=",
			"b=<2>"},
		{"empty allowed", Config{AllowEmptyValues: true}, `b=2 a="" c=`,
			"b=<2> a=<> c=<>"},
		{"custom separators", Config{FieldSplit: "&?", ValueSplit: ":"}, "?a:1&b:2&&c:3",
			"a=<1> b=<2> c=<3>"},
		{"several value separators", Config{ValueSplit: "=:"}, "a=1 b:2",
			"a=<1> b=<2>"},
		{"comma field split keeps spaces in keys", Config{FieldSplit: ","}, "first name=John,last name=Doe",
			"first name=<John> last name=<Doe>"},
		{"trim", Config{TrimKey: "<>[],", TrimValue: "<>[],"}, "[a]=<1>, b=2,",
			"a=<1> b=<2>"},
		{"remove chars", Config{RemoveCharKey: "-", RemoveCharValue: "\""}, `x-y=a"b`,
			"xy=<ab>"},
		{"transform", Config{TransformKey: "lowercase", TransformValue: "uppercase"}, "Key=value",
			"key=<VALUE>"},
		{"capitalize", Config{TransformKey: "capitalize"}, "hELLO=1",
			"Hello=<1>"},
		{"include", Config{IncludeKeys: []string{"a", "c"}}, "a=1 b=2 c=3",
			"a=<1> c=<3>"},
		{"exclude", Config{ExcludeKeys: []string{"b"}}, "a=1 b=2 c=3",
			"a=<1> c=<3>"},
		{"prefix after include", Config{IncludeKeys: []string{"a"}, Prefix: "kv_"}, "a=1 b=2",
			"kv_a=<1>"},
		{"escaped space", Config{}, `path=C:\ Program\ Files x=1`,
			`path=<C:\ Program\ Files> x=<1>`},
		{"duplicates", Config{}, "a=1 a=2",
			"a=<1> a=<2>"},
		{"leading separator garbage", Config{}, "=x =y a=1",
			"x=<y> a=<1>"},
		{"stray separators strict", Config{StrictWhitespace: true}, "=x ==y a=1",
			"a=<1>"},
		{"empty line", Config{}, "",
			""},
		{"unicode", Config{}, "clé=été",
			"clé=<été>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := pairs(p, tc.in); got != tc.want {
				t.Fatalf("Parse(%q)\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseMap(t *testing.T) {
	p := MustNew(Config{})
	got := p.ParseMap("a=1 b=2 a=3 a=4")
	want := map[string]any{"a": []string{"1", "3", "4"}, "b": "2"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"overlap", Config{FieldSplit: " =", ValueSplit: "="}, "both a field and a value separator"},
		{"transform", Config{TransformKey: "snake"}, "unknown transform"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseZeroAlloc(t *testing.T) {
	p := MustNew(Config{})
	fn := func(k, v string) {}
	line := `user=alice action=login msg="hello world" src=10.0.0.1`
	if n := testing.AllocsPerRun(100, func() { p.Parse(line, fn) }); n != 0 {
		t.Fatalf("Parse allocates %v times, want 0", n)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("user=alice action=login", " ", "=")
	f.Add(`a="x y" b=(1) c=<2> d='3'`, " ", "=")
	f.Add("?a:1&b:2", "&?", ":")
	f.Add(`a\ b=c\ d`, " ", "=")
	f.Fuzz(func(t *testing.T, line, fs, vs string) {
		p, err := New(Config{FieldSplit: fs, ValueSplit: vs, AllowEmptyValues: true})
		if err != nil {
			return
		}
		p.Parse(line, func(k, v string) {
			if k == "" {
				t.Fatalf("empty key from %q", line)
			}
			if !strings.Contains(line, k) || !strings.Contains(line, v) {
				t.Fatalf("pair %q=%q is not from %q", k, v, line)
			}
		})
	})
}

func BenchmarkParse(b *testing.B) {
	p := MustNew(Config{})
	line := `ts=2024-03-15T10:11:12Z user=alice action=login msg="hello world" src=10.0.0.1 dst=10.0.0.2 bytes=1234 proto=tcp`
	fn := func(k, v string) {}
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		p.Parse(line, fn)
	}
}

func BenchmarkParsePrefixTrim(b *testing.B) {
	p := MustNew(Config{Prefix: "kv.", TrimValue: "\"", TransformKey: "lowercase"})
	line := `TS=2024-03-15T10:11:12Z User=alice Action=login SRC=10.0.0.1`
	fn := func(k, v string) {}
	b.ReportAllocs()
	for b.Loop() {
		p.Parse(line, fn)
	}
}
