package dissect

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

type kv = map[string]string

func TestDissect(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		opts    []Option
		in      string
		want    kv
	}{
		{"basic", "%{a} %{b},%{c}", nil, "foo bar,baz", kv{"a": "foo", "b": "bar", "c": "baz"}},
		{"apache access", `%{clientip} %{ident} %{auth} [%{@timestamp}] "%{verb} %{request} HTTP/%{httpversion}" %{status} %{size}`, nil,
			`1.2.3.4 - - [30/Apr/1998:22:00:52 +0000] "GET /english/venues/cities/images/montpellier/18.gif HTTP/1.0" 200 3171`,
			kv{"clientip": "1.2.3.4", "ident": "-", "auth": "-", "@timestamp": "30/Apr/1998:22:00:52 +0000",
				"verb": "GET", "request": "/english/venues/cities/images/montpellier/18.gif", "httpversion": "1.0",
				"status": "200", "size": "3171"}},
		{"right padding", "%{ts->} %{level}", nil, "1998-08-10T17:15:42,466          WARN",
			kv{"ts": "1998-08-10T17:15:42,466", "level": "WARN"}},
		{"right padding empty key", "[%{ts}]%{->}[%{level}]", nil, "[1998-08-10T17:15:42,466]            [WARN]",
			kv{"ts": "1998-08-10T17:15:42,466", "level": "WARN"}},
		{"right padding comma", "%{a->},%{b},%{c}", nil, "foo,,,,bar,baz", kv{"a": "foo", "b": "bar", "c": "baz"}},
		{"right padding multi-char delimiter", "%{a->},:%{b},%{c}", nil, "foo,:,:,:,:bar,baz", kv{"a": "foo", "b": "bar", "c": "baz"}},
		{"padding skip key", "%{->},%{b},%{c}", nil, "foo,,,,bar,baz", kv{"b": "bar", "c": "baz"}},
		{"padding on last key with trailing delimiter", "%{id} %{function} %{server->} ", nil, "00000043 ViewReceive machine-321    ",
			kv{"id": "00000043", "function": "ViewReceive", "server": "machine-321"}},
		{"padding middle key", "%{id} %{function->} %{server}", nil, "00000043 ViewReceive     machine-321",
			kv{"id": "00000043", "function": "ViewReceive", "server": "machine-321"}},
		{"append", "%{+name} %{+name} %{+name} %{+name}", []Option{AppendSeparator(" ")}, "john jacob jingleheimer schmidt",
			kv{"name": "john jacob jingleheimer schmidt"}},
		{"append no separator", "%{a} %{+a} %{+a}", nil, "foo bar baz", kv{"a": "foobarbaz"}},
		{"append custom separator", "%{a} %{+a} %{+a}", []Option{AppendSeparator(", ")}, "foo bar baz", kv{"a": "foo, bar, baz"}},
		{"append with order", "%{+name/2} %{+name/4} %{+name/3} %{+name/1}", []Option{AppendSeparator(",")}, "john jacob jingleheimer schmidt",
			kv{"name": "schmidt,john,jingleheimer,jacob"}},
		{"append order plain first", "%{a} %{+a/2} %{+a/1}", nil, "foo bar baz", kv{"a": "foobazbar"}},
		{"append ordered spec", "%{+key/3} %{+key/1} %{+key/2}", []Option{AppendSeparator(" ")}, "1 2 3", kv{"key": "2 3 1"}},
		{"append dash", "%{key}-%{+key}-%{+key}", []Option{AppendSeparator("-")}, "1-2-3", kv{"key": "1-2-3"}},
		{"named skip", "%{clientip} %{?ident} %{?auth} [%{@timestamp}]", nil, "1.2.3.4 - - [30/Apr/1998:22:00:52 +0000]",
			kv{"clientip": "1.2.3.4", "@timestamp": "30/Apr/1998:22:00:52 +0000"}},
		{"empty skip", "%{} %{key}", nil, "hello world", kv{"key": "world"}},
		{"reference keys", "[%{ts}] [%{level}] %{*p1}:%{&p1} %{*p2}:%{&p2}", nil, "[2018-08-10T17:15:42,466] [ERR] ip:1.2.3.4 error:REFUSED",
			kv{"ts": "2018-08-10T17:15:42,466", "level": "ERR", "ip": "1.2.3.4", "error": "REFUSED"}},
		{"reference value first", "%{&a} %{b} %{*a}", nil, "foo bar baz", kv{"baz": "foo", "b": "bar"}},
		{"reference key first", "%{*a} %{b} %{&a}", nil, "foo bar baz", kv{"foo": "baz", "b": "bar"}},
		{"reference to plain key", "%{key} %{&key}", nil, "hello world", kv{"key": "hello", "hello": "world"}},
		{"reference to named skip", "%{?key} %{&key}", nil, "hello world", kv{"hello": "world"}},
		{"last key takes remainder", "%{a} %{b},%{c}", nil, "foo bar,baz  something more here",
			kv{"a": "foo", "b": "bar", "c": "baz  something more here"}},
		{"consecutive delimiters are empty values", "%{a},%{b},%{c},%{d},%{e},%{f},%{g}", nil, "foo,,,,,,bar",
			kv{"a": "foo", "b": "", "c": "", "d": "", "e": "", "f": "", "g": "bar"}},
		{"mixed empties", "%{a},%{b},%{c},%{d},%{e},%{f},%{g}", nil, "foo,,bar,,,,baz",
			kv{"a": "foo", "b": "", "c": "bar", "d": "", "e": "", "f": "", "g": "baz"}},
		{"padding over repeats", "%{a->},%{g}", nil, "foo,,,,,,bar", kv{"a": "foo", "g": "bar"}},
		{"postfix", "%{timestamp} %{+timestamp} %{+timestamp} %{logsource} %{program}[%{pid}]: %{message}", []Option{AppendSeparator(" ")},
			"Mar 16 00:01:25 example postfix/smtpd[1713]: connect from example.com[192.100.1.3]",
			kv{"timestamp": "Mar 16 00:01:25", "logsource": "example", "program": "postfix/smtpd", "pid": "1713",
				"message": "connect from example.com[192.100.1.3]"}},
		{"trailing data after last delimiter", `level=%{level} ts=%{timestamp} caller=%{caller} msg="%{message}"`, nil,
			`level=info ts=2018-06-27T17:19:13.036579993Z caller=main.go:222 msg="Starting OK" version="(version=2.3.1)"}`,
			kv{"level": "info", "timestamp": "2018-06-27T17:19:13.036579993Z", "caller": "main.go:222", "message": "Starting OK"}},
		{"leading delimiter", "/var/%{key}/log", nil, "/var/foobar/log", kv{"key": "foobar"}},
		{"leading delimiter rest", "/var/%{key}", nil, "/var/foobar/log", kv{"key": "foobar/log"}},
		{"suffix", "/var/%{key}/log/%{key1}.log", nil, "/var/foobar/log/apache.log", kv{"key": "foobar", "key1": "apache"}},
		{"braces as delimiters", "{%{a}}{%{b}} %{rest}", nil, "{c}{d} anything", kv{"a": "c", "b": "d", "rest": "anything"}},
		{"multiline value", "%{day}-%{month} %{message}", nil, "18-Apr line one\n line two", kv{"day": "18", "month": "Apr", "message": "line one\n line two"}},
		{"unicode", "%{a}→%{b}", nil, "héllo→wörld", kv{"a": "héllo", "b": "wörld"}},
		{"trim both", "%{a}|%{b}|%{c}", []Option{TrimValues(TrimBoth, "")}, " x |  y\t|z  ", kv{"a": "x", "b": "y", "c": "z"}},
		{"trim right custom", "%{a}|%{b}", []Option{TrimValues(TrimRight, ".")}, "x..|y.", kv{"a": "x", "b": "y"}},
		{"trim left appended", "%{a}|%{+a}", []Option{TrimValues(TrimLeft, " "), AppendSeparator("+")}, " x| y", kv{"a": "x+y"}},
		{"empty last value", "%{a} %{b}", nil, "foo ", kv{"a": "foo", "b": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Compile(tc.pattern, tc.opts...)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := d.DissectMap(tc.in)
			if err != nil {
				t.Fatalf("Dissect(%q): %v", tc.in, err)
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("Dissect(%q)\n got %v\nwant %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestDissectOrder(t *testing.T) {
	d := MustCompile("%{*k} %{a} %{+b} %{&k} %{+b} %{c}")
	var keys []string
	if err := d.Dissect("x 1 2 3 4 5", func(k, v string) { keys = append(keys, k+"="+v) }); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(keys, " "), "a=1 b=24 x=3 c=5"; got != want {
		t.Fatalf("order = %q, want %q", got, want)
	}
	if got, want := strings.Join(d.Keys(), ","), "a,b,c"; got != want {
		t.Fatalf("Keys() = %q, want %q", got, want)
	}
}

func TestDissectNoMatch(t *testing.T) {
	tests := []struct {
		name, pattern, in string
		offset            int
		expected          string
	}{
		{"missing leading delimiter", "/var/log/%{key}.log", "foobar", 0, "/var/log/"},
		{"missing trailing delimiter", "/var/log/%{key}.log", "/var/log/foobar", 9, ".log"},
		{"missing middle delimiter", "%{a} %{b},%{c}", "foo bar baz", 4, ","},
		{"single space pattern vs padding", "%{a}  %{b}", "foo bar", 0, "  "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := MustCompile(tc.pattern)
			called := false
			err := d.Dissect(tc.in, func(string, string) { called = true })
			var me *MatchError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want *MatchError", err)
			}
			if me.Offset != tc.offset || me.Expected != tc.expected {
				t.Fatalf("err = %+v, want offset %d expected %q", me, tc.offset, tc.expected)
			}
			if called {
				t.Fatal("fn called on a failed match")
			}
			if !strings.Contains(err.Error(), "does not match pattern") {
				t.Fatalf("message: %v", err)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ name, pattern, want string }{
		{"no key", "plain text", "no %{key}"},
		{"unterminated", "%{a} %{b", "unterminated key"},
		{"adjacent keys", "%{a}%{b}", "need a delimiter"},
		{"duplicate", "%{a} %{a}", `duplicate key "a"`},
		{"orphan reference value", "%{&a} %{b}", "no matching %{*a}"},
		{"orphan reference key", "%{*a} %{b}", "no matching %{&a}"},
		{"order without append", "%{a/1} %{b}", "only allowed with the + modifier"},
		{"order zero", "%{+a/0} %{+a/1}", "must start at 1"},
		{"append without name", "%{+} %{b}", "needs a key name"},
		{"double modifier", "%{+?a} %{b}", "more than one prefix modifier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.pattern)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Compile(%q) err = %v, want %q", tc.pattern, err, tc.want)
			}
		})
	}
}

func TestDissectZeroAlloc(t *testing.T) {
	d := MustCompile(`%{clientip} %{ident} %{auth} [%{ts}] "%{verb} %{request} HTTP/%{httpversion}" %{status} %{size}`)
	line := `1.2.3.4 - - [30/Apr/1998:22:00:52 +0000] "GET /x.gif HTTP/1.0" 200 3171`
	n := 0
	fn := func(k, v string) { n++ }
	allocs := testing.AllocsPerRun(100, func() {
		if err := d.Dissect(line, fn); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Dissect allocates %v times, want 0", allocs)
	}
}

func TestManyFields(t *testing.T) {
	var p, in strings.Builder
	want := kv{}
	for i := 0; i < 40; i++ {
		if i > 0 {
			p.WriteString(",")
			in.WriteString(",")
		}
		k := "f" + strings.Repeat("x", i)
		p.WriteString("%{" + k + "}")
		in.WriteString(k)
		want[k] = k
	}
	got, err := MustCompile(p.String()).DissectMap(in.String())
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("got %v, %v", got, err)
	}
}
