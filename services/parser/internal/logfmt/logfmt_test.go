package logfmt

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"
)

type pair struct {
	k string
	v *string // nil for a bare key
}

func s(v string) *string { return &v }

func collect(t *testing.T, line string) ([]pair, error) {
	t.Helper()
	var out []pair
	err := Decode([]byte(line), func(k, v []byte) error {
		p := pair{k: string(k)}
		if v != nil {
			p.v = s(string(v))
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

func format(ps []pair) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.k)
		if p.v != nil {
			b.WriteString("=<" + *p.v + ">")
		}
	}
	return b.String()
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"blank", " \t ", ""},
		{"single pair", "a=1", "a=<1>"},
		{"bare key", "flag", "flag"},
		{"bare keys", "a b c", "a b c"},
		{"empty value", "a= b=1", "a=<> b=<1>"},
		{"empty value at end", "a=", "a=<>"},
		{"quoted", `msg="hello world"`, "msg=<hello world>"},
		{"quoted escape quote", `key2="quoted \" value"`, `key2=<quoted " value>`},
		{"quoted empty", `a=""`, "a=<>"},
		{"quoted escapes", `a="tab\there\nnl \\ \/ \u00e9 \ud83d\ude00"`, "a=<tab\there\nnl \\ / é 😀>"},
		{"lone surrogate", `a="\ud83d x"`, "a=<\uFFFD x>"},
		{"mixed", `key=value key2="quoted \" value" flag`, `key=<value> key2=<quoted " value> flag`},
		{"quoted then key without space", `a="x"b=2`, "a=<x> b=<2>"},
		{"extra spaces", "  a=1    b=2  ", "a=<1> b=<2>"},
		{"newline separates", "a=1\nb=2\r\n", "a=<1> b=<2>"},
		{"unicode key and value", "clé=valeur ключ=значение", "clé=<valeur> ключ=<значение>"},
		{"duplicate keys", "a=1 a=2", "a=<1> a=<2>"},
		{"punctuation in key", "http.status_code=200 x-y:z=1", "http.status_code=<200> x-y:z=<1>"},
		{"heroku", `at=info method=GET path="/" fwd="204.204.204.204" connect=1ms`,
			`at=<info> method=<GET> path=</> fwd=<204.204.204.204> connect=<1ms>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(t, tc.in)
			if err != nil {
				t.Fatalf("Decode(%q): %v", tc.in, err)
			}
			if f := format(got); f != tc.want {
				t.Fatalf("Decode(%q)\n got %s\nwant %s", tc.in, f, tc.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in string
		pos      int
		msg      string
		before   string // pairs delivered before the error
	}{
		{"leading equals", "=1", 0, "unexpected '='", ""},
		{"equals after space", "a=1 =2", 4, "unexpected '='", "a=<1>"},
		{"quote in key", `a"b=1`, 1, `unexpected '"'`, ""},
		{"equals in value", "a=b=c", 3, "unexpected '='", ""},
		{"quote in value", `a=b"c"`, 3, `unexpected '"'`, ""},
		{"unterminated", `a="abc`, 2, "unterminated quoted value", ""},
		{"unterminated escape at end", `a="abc\"`, 2, "unterminated quoted value", ""},
		{"bad escape", `a="\x"`, 2, "invalid quoted value", ""},
		{"bad unicode escape", `a="\u12"`, 2, "invalid quoted value", ""},
		{"control char with escape", "a=\"\\n\x01\"", 2, "invalid quoted value", ""},
		{"invalid utf8 key", "a\xffb=1", 0, "invalid key", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(t, tc.in)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Decode(%q) err = %v, want *SyntaxError", tc.in, err)
			}
			if se.Pos != tc.pos || se.Msg != tc.msg {
				t.Fatalf("Decode(%q) err = %+v, want pos %d msg %q", tc.in, se, tc.pos, tc.msg)
			}
			if f := format(got); f != tc.before {
				t.Fatalf("pairs before error = %q, want %q", f, tc.before)
			}
			if !strings.HasPrefix(err.Error(), "logfmt: syntax error at byte ") {
				t.Fatalf("message %q", err)
			}
		})
	}
}

func TestCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Decode([]byte("a=1 b=2 c=3"), func(k, v []byte) error {
		n++
		if string(k) == "b" {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Fatalf("err = %v after %d pairs, want stop after 2", err, n)
	}
}

func TestDecodeMap(t *testing.T) {
	m, err := DecodeMap([]byte(`a=1 b="x y" flag a=2`))
	if err != nil {
		t.Fatal(err)
	}
	if m["a"] != "2" || m["b"] != "x y" || m["flag"] != "" || len(m) != 3 {
		t.Fatalf("got %v", m)
	}
	if _, err := DecodeMap([]byte("=")); err == nil {
		t.Fatal("want error")
	}
}

func TestSampleFile(t *testing.T) {
	f, err := os.Open("testdata/sample.logfmt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d Decoder
	sc := bufio.NewScanner(f)
	lines := 0
	for sc.Scan() {
		lines++
		pairs := 0
		if err := d.Decode(sc.Bytes(), func(k, v []byte) error { pairs++; return nil }); err != nil {
			t.Fatalf("line %d: %v", lines, err)
		}
		if pairs < 3 {
			t.Fatalf("line %d: only %d pairs", lines, pairs)
		}
	}
	if lines == 0 {
		t.Fatal("empty sample")
	}
}

func TestDecodeZeroAlloc(t *testing.T) {
	line := []byte(`level=warn caller=main.go:222 msg="slow \"query\"" took=1.2s`)
	var d Decoder
	fn := func(k, v []byte) error { return nil }
	_ = d.Decode(line, fn) // warm the buffer
	if n := testing.AllocsPerRun(100, func() { _ = d.Decode(line, fn) }); n != 0 {
		t.Fatalf("Decode allocates %v times, want 0", n)
	}
}
