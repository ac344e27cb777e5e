package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestValidateCommand(t *testing.T) {
	t.Setenv("SLUICE_TEST_API_KEY", "a#b: c")
	var out, errOut bytes.Buffer
	if code := validateCommand([]string{"-config", "testdata/good.yaml"}, &out, &errOut); code != 0 {
		t.Fatalf("good: exit %d: %s", code, &errOut)
	}
	want := "indexer: testdata/good.yaml: ok: kafka kafka:9092 group sluice-indexer topic logs.parsed (dead letters logs.dlq); output elasticsearch https://es-0:9200,https://es-1:9200; digest "
	if !strings.HasPrefix(out.String(), want) || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("good: stdout %q, want one line starting %q", &out, want)
	}

	out.Reset()
	errOut.Reset()
	if code := validateCommand([]string{"-config", "testdata/broken.yaml"}, &out, &errOut); code != 2 {
		t.Fatalf("broken: exit %d, want 2", code)
	}
	wantErr := strings.Join([]string{
		"indexer: testdata/broken.yaml: 7 problems",
		"  batch.concurrency: cannot unmarshal !!str `many` into int",
		"  batch.max_docs: must be positive",
		`  elasticsearch.flavour: unknown field "flavour" (did you mean "flavor"?)`,
		`  elasticsearch.timeout: "30" is not a duration (use 500ms, 5s, 1m)`,
		`  elasticsearch.urls[0]: "localhost:9200" is not an http(s) URL`,
		`  kafka.brokers[0]: "kafka" is not host:port`,
		`  kafka.grop: unknown field "grop" (did you mean "group"?)`,
	}, "\n")
	if got := strings.TrimSpace(errOut.String()); got != wantErr {
		t.Fatalf("broken: stderr\n%s\nwant\n%s", got, wantErr)
	}
	if out.Len() != 0 {
		t.Fatalf("broken: stdout %q", &out)
	}
}
