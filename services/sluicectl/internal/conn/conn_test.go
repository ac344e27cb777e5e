package conn

import (
	"context"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "localhost:9090", want: "localhost:9090"},
		{in: " parser-0.parser:7000 ", want: "parser-0.parser:7000"},
		{in: "indexer", want: "indexer:9090"},
		{in: "10.1.2.3", want: "10.1.2.3:9090"},
		{in: "[::1]:9091", want: "[::1]:9091"},
		{in: "::1", want: "[::1]:9090"},
		{in: "[::1]", want: "[::1]:9090"},
		{in: "dns:///sluice-parser:9090", want: "dns:///sluice-parser:9090"},
		{in: "unix:/run/sluice.sock", want: "unix:/run/sluice.sock"},
		{in: "", err: "empty address"},
		{in: "a b:1", err: `"a b:1" is not host:port`},
		{in: "[::1", err: `"[::1" is not host:port`},
		{in: "host:", err: `"host:" has no port`},
		{in: "host/path", err: `"host/path" is not host:port`},
	} {
		got, err := Normalize(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("Normalize(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestReadLimited(t *testing.T) {
	if _, err := ReadLimited(strings.NewReader(strings.Repeat("x", MaxFileBytes+1)), "big.yaml"); err == nil || err.Error() != "big.yaml: larger than 4 MiB" {
		t.Errorf("err %v", err)
	}
	b, err := ReadLimited(strings.NewReader("ok"), "small")
	if err != nil || string(b) != "ok" {
		t.Errorf("%q %v", b, err)
	}
}

func TestBearer(t *testing.T) {
	md, err := bearer("tok").GetRequestMetadata(context.Background())
	if err != nil || md["authorization"] != "Bearer tok" {
		t.Errorf("%v %v", md, err)
	}
}
