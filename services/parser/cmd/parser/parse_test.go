package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "parser.yaml")
	if err := os.WriteFile(cfgFile, []byte("rules: [{name: tagged, builtin: nginx, processors: [{add: {team: web}}]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	access := `10.0.0.2, 67.43.156.14 - bob [07/Dec/2016:11:05:07 +0100] "GET /ocelot?x=1 HTTP/1.1" 503 571 "-" "curl/8"`
	tests := []struct {
		name     string
		args     []string
		input    string
		code     int
		want     map[string]any // field → value in the first document
		wantDocs int
		wantErr  string
	}{
		{name: "nginx builtin", args: []string{"--rule", "nginx"}, input: access + "\n" + "garbage\n", code: 0, wantDocs: 2,
			want: map[string]any{"source.ip": "67.43.156.14", "url.path": "/ocelot", "http.response.status_code": float64(503)}},
		{name: "rule from config", args: []string{"--config", cfgFile, "--rule", "tagged"}, input: access + "\n", code: 0, wantDocs: 1,
			want: map[string]any{"team": "web", "user.name": "bob"}},
		{name: "apache error with zone", args: []string{"--rule", "apache_error"}, input: "[Mon Dec 26 16:22:08 2016] [error] [client 192.168.33.1] File does not exist: /var/www/favicon.ico\n", code: 0, wantDocs: 1,
			want: map[string]any{"file.path": "/var/www/favicon.ico", "log.level": "error"}},
		{name: "unknown builtin", args: []string{"--rule", "nope"}, code: 2, wantErr: "unknown builtin"},
		{name: "bad flag", args: []string{"--bogus"}, code: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := parseCommand(tt.args, strings.NewReader(tt.input), &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, errOut.String())
			}
			if tt.wantErr != "" && !strings.Contains(errOut.String(), tt.wantErr) {
				t.Fatalf("stderr %q, want %q", errOut.String(), tt.wantErr)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if tt.wantDocs == 0 {
				return
			}
			if len(lines) != tt.wantDocs {
				t.Fatalf("%d documents, want %d: %s", len(lines), tt.wantDocs, out.String())
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &doc); err != nil {
				t.Fatal(err)
			}
			for path, w := range tt.want {
				var cur any = doc
				for _, seg := range strings.Split(path, ".") {
					cur = cur.(map[string]any)[seg]
				}
				if cur != w {
					t.Errorf("%s = %#v, want %#v", path, cur, w)
				}
			}
		})
	}
}
