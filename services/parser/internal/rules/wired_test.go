package rules

import (
	"strings"
	"testing"

	"github.com/sluice-io/sluice/services/parser/config"
)

func TestProcessors(t *testing.T) {
	tests := []struct {
		name  string
		procs []config.Processor
		line  string
		want  map[string]any
	}{
		{
			name: "grok legacy with conversion and date",
			procs: []config.Processor{
				{Grok: &config.Grok{Mode: "legacy", Patterns: []string{`%{IPORHOST:client} %{WORD:method} %{NUMBER:bytes:int} \[%{HTTPDATE:ts}\]`}}},
				{Date: &config.Date{Source: config.Source{Field: "ts"}, Formats: []string{"dd/MMM/yyyy:HH:mm:ss Z"}}},
				{Remove: []string{"ts"}},
			},
			line: `10.1.2.3 GET 512 [25/Oct/2016:14:49:33 +0200]`,
			want: map[string]any{"client": "10.1.2.3", "method": "GET", "bytes": float64(512), "@timestamp": "2016-10-25T12:49:33.000Z", "ts": nil},
		},
		{
			name:  "grok ecs nested targets",
			procs: []config.Processor{{Grok: &config.Grok{Patterns: []string{`^%{INT:x}$`, `%{IP:[source][ip]} %{GREEDYDATA:[event][reason]}`}}}},
			line:  `::1 went away`,
			want:  map[string]any{"source.ip": "::1", "event.reason": "went away"},
		},
		{
			name:  "dissect",
			procs: []config.Processor{{Dissect: &config.Dissect{Pattern: "%{level} [%{thread}] %{msg}"}}},
			line:  `WARN [main] disk almost full`,
			want:  map[string]any{"level": "WARN", "thread": "main", "msg": "disk almost full"},
		},
		{
			name:  "logfmt",
			procs: []config.Processor{{Logfmt: &config.Source{}}},
			line:  `level=info msg="hello world" took=3ms`,
			want:  map[string]any{"level": "info", "msg": "hello world", "took": "3ms"},
		},
		{
			name:  "kv with prefix",
			procs: []config.Processor{{KV: &config.KV{FieldSplit: "&", ValueSplit: "=", Prefix: "q_"}}},
			line:  `a=1&b=two`,
			want:  map[string]any{"q_a": "1", "q_b": "two"},
		},
		{
			name:  "regex named groups",
			procs: []config.Processor{{Regex: &config.Regex{Pattern: `^(?P<level>[A-Z]+): (?P<text>.*)$`}}},
			line:  `ERROR: boom`,
			want:  map[string]any{"level": "ERROR", "text": "boom"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := apply(t, []config.Rule{{Name: "r", Processors: tt.procs, OnFailure: "dlq"}}, raw(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			for path, w := range tt.want {
				if got := get(m, path); got != w {
					t.Errorf("%s = %#v, want %#v", path, got, w)
				}
			}
		})
	}
}

func TestProcessorCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		proc config.Processor
		want string
	}{
		{"unknown grok pattern", config.Processor{Grok: &config.Grok{Patterns: []string{"%{NOPE}"}}}, `rules[0].processors[0].grok.patterns[0]`},
		{"grok mode", config.Processor{Grok: &config.Grok{Mode: "ecs-v9", Patterns: []string{"%{WORD}"}}}, "grok.mode"},
		{"bad date format", config.Processor{Date: &config.Date{Formats: []string{"%Q%Q"}}}, "date.formats[0]"},
		{"bad timezone", config.Processor{Date: &config.Date{Formats: []string{"ISO8601"}, Timezone: "Mars/Base"}}, "date.timezone"},
		{"bad dissect", config.Processor{Dissect: &config.Dissect{Pattern: "%{a"}}, "dissect.pattern"},
		{"bad convert", config.Processor{Convert: map[string]string{"x": "decimal"}}, "convert.x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(Options{Index: "logs", Rules: []config.Rule{{Name: "r", Processors: []config.Processor{tt.proc}}}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %q", err, tt.want)
			}
		})
	}
}
