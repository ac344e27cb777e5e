package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestValidateCommand(t *testing.T) {
	t.Setenv("SLUICE_TEST_PASSWORD", "p#ss: word\nwith a newline")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr []string
		exact  bool // stderr is the whole output, line by line
	}{
		{
			name:   "good",
			args:   []string{"-config", "testdata/good.yaml"},
			stdout: "parser: testdata/good.yaml: ok: kafka kafka-0:9092,kafka-1:9092 group sluice-parser, logs.raw -> logs.parsed (dead letters logs.dlq); 2 rules; digest ",
		},
		{
			name: "broken: every problem, each with its key",
			args: []string{"-config", "testdata/broken.yaml"},
			code: 2,
			stderr: []string{
				"parser: testdata/broken.yaml: 6 problems",
				`  budget: "soon" is not a duration (use 500ms, 5s, 1m)`,
				"  kafka.brokers: at least one broker is required (host:port)",
				`  kafka.compression: unknown codec "brotli"`,
				`  kafka.gruop: unknown field "gruop" (did you mean "group"?)`,
				`  rules[0].on_failur: unknown field "on_failur" (did you mean "on_failure"?)`,
				"  rules[1].name: required",
			},
			exact: true,
		},
		{
			name:   "a pattern that does not compile",
			args:   []string{"-config", "testdata/bad-pattern.yaml"},
			code:   2,
			stderr: []string{"parser: testdata/bad-pattern.yaml: 1 problem", "NOSUCHPATTERN"},
		},
		{
			name:   "missing file",
			args:   []string{"-config", "testdata/nope.yaml"},
			code:   2,
			stderr: []string{"parser: testdata/nope.yaml: 1 problem", "no such file"},
		},
		{name: "stray argument", args: []string{"extra"}, code: 2, stderr: []string{`unexpected argument "extra"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := validateCommand(tt.args, &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, &out, &errOut)
			}
			if !strings.HasPrefix(out.String(), tt.stdout) || (tt.stdout == "" && out.Len() > 0) {
				t.Errorf("stdout = %q, want prefix %q", &out, tt.stdout)
			}
			if tt.code == 0 && strings.Count(out.String(), "\n") != 1 {
				t.Errorf("want a one-line summary, got %q", &out)
			}
			if tt.exact {
				if got := strings.TrimSpace(errOut.String()); got != strings.Join(tt.stderr, "\n") {
					t.Fatalf("stderr:\n%s\nwant:\n%s", got, strings.Join(tt.stderr, "\n"))
				}
				return
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr %q does not contain %q", &errOut, want)
				}
			}
		})
	}
}
