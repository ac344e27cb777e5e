package fluentbit

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func loadCustom(t testing.TB) map[string]Parser {
	t.Helper()
	f, err := os.Open("testdata/custom.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps, err := ParseFile(f)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Parser{}
	for _, p := range ps {
		m[p.Name] = p
	}
	return m
}

func TestParseFileFields(t *testing.T) {
	m := loadCustom(t)
	if len(m) != 9 {
		t.Fatalf("got %d sections, want 9 (the [SERVICE] section is skipped)", len(m))
	}
	typed := m["typed"]
	wantTypes := []Type{{"status", "integer"}, {"bytes", "integer"}, {"ratio", "float"}, {"ok", "bool"}, {"flags", "hex"}}
	if !reflect.DeepEqual(typed.Types, wantTypes) {
		t.Errorf("Types = %+v", typed.Types)
	}
	if typed.TimeOffset != "+0900" || typed.TimeKeep || !typed.SkipEmptyValues || !typed.TimeStrict {
		t.Errorf("typed = %+v", typed)
	}
	dd := m["docker_decoded"]
	wantDec := []Decoder{{Field: "log", Decoder: "escaped", Action: "do_next", As: true}, {Field: "log", Decoder: "json", As: true}}
	if !reflect.DeepEqual(dd.Decoders, wantDec) {
		t.Errorf("Decoders = %+v (the @SET variable should be expanded)", dd.Decoders)
	}
	ml := m["go_panic"]
	wantRules := []Rule{{"start_state", "/^panic: /", "cont"}, {"cont", `/^\s+/`, "cont"}}
	if !ml.Multiline || ml.MultilineType != "regex" || ml.FlushTimeout != "500" || !reflect.DeepEqual(ml.Rules, wantRules) {
		t.Errorf("multiline = %+v", ml)
	}
	if _, err := ml.Compile(); !errors.Is(err, ErrMultilineUnsupported) {
		t.Errorf("Compile multiline err = %v", err)
	}
}

func TestCustomParsers(t *testing.T) {
	m := loadCustom(t)
	jst := time.FixedZone("", 9*3600)
	tests := []struct {
		name   string
		parser string
		line   string
		want   map[string]any
		ts     time.Time
		errIs  error
		errHas string
	}{
		{"types and offset", "typed", "2024-03-15T10:00:00 200 1234 0.5 true 0x1f done",
			map[string]any{"status": int64(200), "bytes": int64(1234), "ratio": 0.5, "ok": true, "flags": int64(31), "msg": "done"},
			time.Date(2024, 3, 15, 10, 0, 0, 0, jst), nil, ""},
		{"types that do not convert stay strings", "typed", "2024-03-15T10:00:00 200 - x maybe 0x1f done",
			map[string]any{"status": int64(200), "bytes": "-", "ratio": "x", "ok": "maybe", "flags": int64(31), "msg": "done"},
			time.Date(2024, 3, 15, 10, 0, 0, 0, jst), nil, ""},
		{"bad time kept with TimeError", "typed", "yesterday 200 1 1 false 0x0 m",
			map[string]any{"time": "yesterday", "status": int64(200), "bytes": int64(1), "ratio": 1.0, "ok": false, "flags": int64(0), "msg": "m"},
			time.Time{}, nil, `invalid time "yesterday"`},
		{"escaped then json", "docker_decoded", `{"log":"{\\\"level\\\":\\\"info\\\",\\\"n\\\":3}","time":"2018-05-03T15:13:01.5Z"}`,
			map[string]any{"log": map[string]any{"level": "info", "n": int64(3)}, "time": "2018-05-03T15:13:01.5Z"},
			time.Date(2018, 5, 3, 15, 13, 1, 500000000, time.UTC), nil, ""},
		{"json decoder leaves plain text", "docker_decoded", `{"log":"plain text\\n"}`,
			map[string]any{"log": "plain text\n"}, time.Time{}, nil, ""},
		{"decode field merges object", "merged", `{"payload":"{\"user\":\"bob\",\"id\":7}","src":"api"}`,
			map[string]any{"payload": `{"user":"bob","id":7}`, "user": "bob", "id": int64(7), "src": "api"}, time.Time{}, nil, ""},
		{"json not an object", "merged", `[1,2]`, nil, time.Time{}, nil, "json"},
		{"json trailing data", "merged", `{"a":1} x`, nil, time.Time{}, nil, "unexpected data after the object"},
		{"ltsv", "access_ltsv", "time:[10/Oct/2000:13:55:36 -0700]\thost:127.0.0.1\tstatus:200\treq:GET / HTTP/1.1\tempty:",
			map[string]any{"host": "127.0.0.1", "status": int64(200), "req": "GET / HTTP/1.1", "empty": ""},
			time.Date(2000, 10, 10, 13, 55, 36, 0, time.FixedZone("", -7*3600)), nil, ""},
		{"logfmt with time", "app_logfmt", `ts=2024-03-15T10:11:12.345Z level=warn msg="disk \"sda\" slow" retry`,
			map[string]any{"level": "warn", "msg": `disk "sda" slow`, "retry": true},
			time.Date(2024, 3, 15, 10, 11, 12, 345000000, time.UTC), nil, ""},
		{"logfmt syntax error", "app_logfmt", `a=b=c`, nil, time.Time{}, nil, "syntax error at byte 3"},
		{"logfmt no bare keys", "strict_logfmt", `a=1 flag`, nil, time.Time{}, nil, `bare key "flag"`},
		{"keep empty values", "keep_empty", `,b`, map[string]any{"a": "", "b": "b"}, time.Time{}, nil, ""},
		{"slashes and i flag", "slashed", `HELLO`, map[string]any{"word": "HELLO"}, time.Time{}, nil, ""},
		{"no match", "slashed", `bye`, nil, time.Time{}, ErrNoMatch, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			def := m[tc.parser]
			c, err := def.Compile()
			if err != nil {
				t.Fatal(err)
			}
			fields, ts, hasTime, err := c.Parse([]byte(tc.line))
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Fatalf("err = %v, want %v", err, tc.errIs)
			}
			if tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.errHas)
			}
			if tc.errIs == nil && tc.errHas == "" && err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(fields, tc.want) && !(len(fields) == 0 && len(tc.want) == 0) {
				t.Fatalf("fields\n got %#v\nwant %#v", fields, tc.want)
			}
			if hasTime != !tc.ts.IsZero() || (hasTime && !ts.Equal(tc.ts)) {
				t.Fatalf("time = %v (%v), want %v", ts, hasTime, tc.ts)
			}
		})
	}
}

func TestTimeErrorType(t *testing.T) {
	def := loadCustom(t)["typed"]
	c, err := def.Compile()
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = c.Parse([]byte("bad 1 1 1 true 0x1 m"))
	var te *TimeError
	if !errors.As(err, &te) || te.Parser != "typed" || te.Value != "bad" {
		t.Fatalf("err = %#v", err)
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct{ name, conf, want string }{
		{"no name", "[PARSER]\n Format json\n", "line 1: section has no Name"},
		{"no format", "[PARSER]\n Name x\n", `parser "x" has no Format`},
		{"regex without regex", "[PARSER]\n Name x\n Format regex\n", "has Format regex but no Regex"},
		{"duplicate", "[PARSER]\n Name x\n Format json\n[PARSER]\n Name x\n Format json\n", `line 4: parser "x" already defined at line 1`},
		{"outside section", "Name x\n", "line 1: property outside a section"},
		{"no value", "[PARSER]\n Name\n", `line 2: property "Name" has no value`},
		{"bad bool", "[PARSER]\n Name x\n Format json\n Time_Keep maybe\n", "line 4: time_keep must be On or Off"},
		{"include", "@INCLUDE other.conf\n", "@INCLUDE other.conf cannot be followed"},
		{"bad header", "[PARSER\n", "malformed section header"},
		{"bad types", "[PARSER]\n Name x\n Format json\n Types a\n", `Types entry "a" is not key:type`},
		{"bad decoder", "[PARSER]\n Name x\n Format json\n Decode_Field_As json\n", "needs 'decoder field [action]'"},
		{"bad rule", "[MULTILINE_PARSER]\n name x\n rule \"a\" \"b\"\n", "rule needs three quoted values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile(strings.NewReader(tc.conf))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		p    Parser
		want string
	}{
		{"unknown format", Parser{Name: "x", Format: "csv"}, `unknown Format "csv"`},
		{"unknown type", Parser{Name: "x", Format: "json", Types: []Type{{"a", "date"}}}, "Types a:date: unknown type"},
		{"unknown decoder", Parser{Name: "x", Format: "json", Decoders: []Decoder{{Field: "a", Decoder: "yaml"}}}, `unknown decoder "yaml"`},
		{"unknown action", Parser{Name: "x", Format: "json", Decoders: []Decoder{{Field: "a", Decoder: "json", Action: "maybe"}}}, `unknown decoder action "maybe"`},
		{"bad time format", Parser{Name: "x", Format: "json", TimeFormat: "%Q"}, "unsupported directive %Q"},
		{"bad offset", Parser{Name: "x", Format: "json", TimeFormat: "%s", TimeOffset: "9"}, "Time_Offset"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.p.Compile()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `parser "x"`) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzParseFile(f *testing.F) {
	data, err := os.ReadFile("testdata/custom.conf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	f.Add("[PARSER]\n Name a\n Format regex\n Regex (?<x>.)\n")
	f.Add("@SET a=${a}\n[PARSER]\n Name ${a}\n Format json\n")
	f.Fuzz(func(t *testing.T, conf string) {
		ps, err := ParseFile(strings.NewReader(conf))
		if err != nil {
			return
		}
		for _, p := range ps {
			c, err := p.Compile()
			if err != nil {
				continue
			}
			_, _, _, _ = c.Parse([]byte(conf))
		}
	})
}

func FuzzParseLine(f *testing.F) {
	m := loadCustom(f)
	var cs []*Compiled
	for _, name := range []string{"typed", "docker_decoded", "merged", "access_ltsv", "app_logfmt"} {
		def := m[name]
		c, err := def.Compile()
		if err != nil {
			f.Fatal(err)
		}
		cs = append(cs, c)
	}
	f.Add([]byte("2024-03-15T10:00:00 200 1234 0.5 true 0x1f done"))
	f.Add([]byte(`{"log":"{\"a\":1}","time":"2018-05-03T15:13:01.5Z"}`))
	f.Add([]byte("time:[10/Oct/2000:13:55:36 -0700]\thost:x"))
	f.Add([]byte(`ts=2024-03-15T10:11:12.345Z level=warn`))
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, c := range cs {
			fields, _, _, err := c.Parse(line)
			var te *TimeError
			if err != nil && !errors.As(err, &te) && fields != nil {
				t.Fatalf("%s: fields returned with error %v", c.def.Name, err)
			}
		}
	})
}
