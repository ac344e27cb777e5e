package rules

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-io/sluice/libs/corpus"
	"github.com/sluice-io/sluice/services/parser/config"
)

const inlineParsers = `
[PARSER]
    Name        app
    Format      regex
    Regex       ^(?<time>[^ ]+) (?<level>[A-Z]+) (?<took_ms>\d+) (?<msg>.*)$
    Time_Key    time
    Time_Format %Y-%m-%dT%H:%M:%S
    Types       took_ms:integer

[PARSER]
    Name   other
    Format logfmt
`

func TestFluentBitRegex(t *testing.T) {
	tests := []struct {
		name    string
		fb      config.FluentBit
		line    string
		want    map[string]any
		failure bool
	}{
		{
			name: "inline with time and types",
			fb:   config.FluentBit{Inline: inlineParsers, Parser: "app"},
			line: `2026-11-24T10:00:01 WARN 42 disk almost full`,
			want: map[string]any{"@timestamp": "2026-11-24T10:00:01.000Z", "level": "WARN", "took_ms": float64(42), "msg": "disk almost full", "time": nil},
		},
		{
			name:    "no match is a failure",
			fb:      config.FluentBit{Inline: inlineParsers, Parser: "app"},
			line:    `not the format`,
			want:    map[string]any{"message": "not the format"},
			failure: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := tt.fb
			m, _, err := apply(t, []config.Rule{{Name: "r", Processors: []config.Processor{{Regex: &config.Regex{FluentBit: &fb}}}}}, raw(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			for path, w := range tt.want {
				if got := get(m, path); got != w {
					t.Errorf("%s = %#v, want %#v", path, got, w)
				}
			}
			if _, tagged := m["tags"]; tagged != tt.failure {
				t.Errorf("tags = %v, want failure %v", m["tags"], tt.failure)
			}
		})
	}
}

func TestFluentBitShippedParsers(t *testing.T) {
	file := filepath.Join(corpus.Dir(t, "fluentbit"), "parsers.conf")
	fb := config.FluentBit{File: file, Parser: "apache2"}
	line := `192.168.2.20 - frank [28/Jul/2006:10:27:10 -0300] "GET /cgi-bin/try/ HTTP/1.0" 200 3395 "-" "curl/8"`
	m, _, err := apply(t, []config.Rule{{Name: "r", Processors: []config.Processor{{Regex: &config.Regex{FluentBit: &fb}}}}}, raw(line))
	if err != nil {
		t.Fatal(err)
	}
	for path, w := range map[string]any{"@timestamp": "2006-07-28T13:27:10.000Z", "host._value": "192.168.2.20", "user": "frank",
		"method": "GET", "path": "/cgi-bin/try/", "code": "200", "agent": "curl/8"} {
		if got := get(m, path); got != w {
			t.Errorf("%s = %#v, want %#v", path, got, w)
		}
	}
}

func TestFluentBitCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		re   config.Regex
		want string
	}{
		{"both pattern and fluentbit", config.Regex{Pattern: "(?P<a>x)", FluentBit: &config.FluentBit{Inline: inlineParsers, Parser: "app"}}, "regex: pattern and fluentbit"},
		{"neither file nor inline", config.Regex{FluentBit: &config.FluentBit{Parser: "x"}}, "regex.fluentbit: file or inline"},
		{"missing file", config.Regex{FluentBit: &config.FluentBit{File: "/nonexistent/parsers.conf"}}, "regex.fluentbit.file"},
		{"unknown parser", config.Regex{FluentBit: &config.FluentBit{Inline: inlineParsers, Parser: "nope"}}, `regex.fluentbit.parser: no parser "nope"`},
		{"ambiguous parser", config.Regex{FluentBit: &config.FluentBit{Inline: inlineParsers}}, "regex.fluentbit.parser: required"},
		{"look-behind", config.Regex{FluentBit: &config.FluentBit{Inline: "[PARSER]\n Name x\n Format regex\n Regex (?<=a)(?<b>c)\n"}}, "regex.fluentbit.parser"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re := tt.re
			_, err := Compile(Options{Index: "logs", Rules: []config.Rule{{Name: "r", Processors: []config.Processor{{Regex: &re}}}}})
			if err == nil || !strings.Contains(err.Error(), "rules[0].processors[0]."+tt.want) {
				t.Fatalf("err = %v, want it to name rules[0].processors[0].%s", err, tt.want)
			}
		})
	}
}
