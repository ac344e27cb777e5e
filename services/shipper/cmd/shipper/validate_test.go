package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestValidateCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := validateCommand([]string{"-config", "testdata/good.yaml"}, &out, &errOut); code != 0 {
		t.Fatalf("good: exit %d: %s", code, &errOut)
	}
	want := "shipper: testdata/good.yaml: ok: node node-a; kafka kafka-0:9092,kafka-1:9092 topic logs.raw; tailing /var/log/containers/*.log; state /var/lib/sluice/shipper-state.json; digest "
	if !strings.HasPrefix(out.String(), want) || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("good: stdout %q, want one line starting %q", &out, want)
	}

	out.Reset()
	errOut.Reset()
	if code := validateCommand([]string{"-config", "testdata/broken.yaml"}, &out, &errOut); code != 2 {
		t.Fatalf("broken: exit %d, want 2", code)
	}
	wantErr := strings.Join([]string{
		"shipper: testdata/broken.yaml: 5 problems",
		"  kafka.max_buffered_bytes: 10 is below the 64KiB minimum",
		`  kafka.topik: unknown field "topik" (did you mean "topic"?)`,
		"  node: required (set NODE_NAME)",
		`  tail.include[0]: bad glob "[": syntax error in pattern`,
		"  tail.poll_interval: must be positive",
	}, "\n")
	if got := strings.TrimSpace(errOut.String()); got != wantErr {
		t.Fatalf("broken: stderr\n%s\nwant\n%s", got, wantErr)
	}
}
