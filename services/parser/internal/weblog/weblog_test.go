package weblog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/corpus"
)

func TestParseNginx(t *testing.T) {
	tests := []struct {
		name                         string
		line                         string
		address, ip, destDomain      string
		list                         []string
		method, target, version, usr string
		err                          error
	}{
		{name: "combined", line: `67.43.156.13 - - [25/Oct/2016:14:49:33 +0200] "GET / HTTP/1.1" 200 612 "-" "curl"`,
			address: "67.43.156.13", ip: "67.43.156.13", list: []string{"67.43.156.13"}, method: "GET", target: "/", version: "1.1"},
		{name: "proxy chain, all private", line: `10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /o HTTP/1.1" 200 5 "-" "-"`,
			address: "10.0.0.2", ip: "10.0.0.2", list: []string{"10.0.0.2", "10.0.0.1", "127.0.0.1"}, method: "GET", target: "/o", version: "1.1"},
		{name: "quoted forwarded list", line: `"10.5.102.222, 199.96.1.1, 204.246.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /a?q=1 HTTP/1.1" 200 1 "-" "CF"`,
			address: "199.96.1.1", ip: "199.96.1.1", list: []string{"10.5.102.222", "199.96.1.1", "204.246.1.1", "10.2.1.185"}, method: "GET", target: "/a?q=1", version: "1.1"},
		{name: "ipv6 in chain counts as public", line: `2a02:cf40::1, 10.225.192.17 10.2.2.121 - - [30/Dec/2016:06:47:09 +0000] "GET /t HTTP/1.1" 404 1 "-" "x"`,
			address: "2a02:cf40::1", ip: "2a02:cf40::1", list: []string{"2a02:cf40::1", "10.225.192.17", "10.2.2.121"}, method: "GET", target: "/t", version: "1.1"},
		{name: "host prefix", line: `example.com 10.0.0.1 - bob [07/Dec/2016:11:05:07 +0100] "GET / HTTP/1.1" 200 1 "-" "x"`,
			address: "10.0.0.1", ip: "10.0.0.1", list: []string{"10.0.0.1"}, destDomain: "example.com", method: "GET", target: "/", version: "1.1", usr: "bob"},
		{name: "unix socket", line: `unix: - - [26/Feb/2019:15:39:42 +0100] "hello" 400 173 "-" "-"`, address: "unix:"},
		{name: "names", line: `localhost, localhost - - [29/May/2017:19:02:48 +0000] "GET /t HTTP/1.1" 200 6 "-" "x" "-"`,
			address: "localhost", list: []string{"localhost", "localhost"}, method: "GET", target: "/t", version: "1.1"},
		{name: "empty request", line: `127.0.0.1 - - [12/Apr/2018:09:48:40 +0200] "" 400 0 "-" "-"`, address: "127.0.0.1", ip: "127.0.0.1", list: []string{"127.0.0.1"}},
		{name: "no time", line: `1.2.3.4 - - "GET / HTTP/1.1" 200 1`, err: ErrTime},
		{name: "empty", line: ``, err: ErrAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Access
			err := ParseNginx(tt.line, &a)
			if err != tt.err {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if a.Address != tt.address || a.SourceIP != tt.ip || a.DestinationDomain != tt.destDomain || a.User != tt.usr ||
				a.Method != tt.method || a.Target != tt.target || a.Version != tt.version || strings.Join(a.RemoteList, "|") != strings.Join(tt.list, "|") {
				t.Fatalf("got %+v", a)
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in               string
		ok               bool
		path, query, ext string
		domain           string
	}{
		{"/favicon.ico", true, "/favicon.ico", "", "ico", ""},
		{"/A%20B/x.mp4?a=%7B%22b%22%7D", true, "/A B/x.mp4", `a={"b"}`, "mp4", ""},
		{"/a.b/c", true, "/a.b/c", "", "", ""},
		{"http://user:pw@example.com:8080/p?q#f", true, "/p", "q", "", "example.com"},
		{"/bad%zz", false, "", "", "", ""},
		{"/sp ace", false, "", "", "", ""},
		{"/{x}", false, "", "", "", ""},
	}
	for _, tt := range tests {
		u, ok := ParseURL(tt.in)
		if ok != tt.ok || (ok && (u.Path != tt.path || u.Query != tt.query || u.Extension != tt.ext || u.Domain != tt.domain)) {
			t.Errorf("ParseURL(%q) = %+v, %v", tt.in, u, ok)
		}
	}
}

func TestParseZone(t *testing.T) {
	for in, off := range map[string]int{"": 0, "UTC": 0, "GMT+2": 7200, "UTC-05:30": -19800, "+0200": 7200, "Europe/Paris": 3600} {
		loc, err := ParseZone(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if _, got := time.Date(2020, 1, 1, 0, 0, 0, 0, loc).Zone(); got != off {
			t.Errorf("%q: offset %d, want %d", in, got, off)
		}
	}
	for _, bad := range []string{"Mars/Base", "GMT+99", "+2:3"} {
		if _, err := ParseZone(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestNewerLogs runs the newer, unpaired logs of the corpus (more edge
// cases, no expected output) through every parser: no panics, and the
// lines in the layouts this package knows parse.
func TestNewerLogs(t *testing.T) {
	cases := []struct {
		file  string
		parse func(string) error
	}{
		{"nginx/error/newer-unpaired/test-error-raw.log", func(s string) error { var e ErrorEntry; return ParseNginxError(s, nil, &e) }},
		{"apache/access/newer-unpaired/test-access-basic.log", func(s string) error { var a Access; return ParseApache(s, &a) }},
		{"apache/error/newer-unpaired/test-error-basic.log", func(s string) error { var e ErrorEntry; return ParseApacheError(s, nil, &e) }},
	}
	root := corpus.Dir(t)
	for _, c := range cases {
		b, err := os.ReadFile(filepath.Join(root, c.file))
		if err != nil {
			t.Skip(err)
		}
		ok, n := 0, 0
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" || line[0] == 'P' { // continuation lines of a multi-line PHP message
				continue
			}
			n++
			if c.parse(line) == nil {
				ok++
			}
		}
		t.Logf("%s: %d of %d lines parse", c.file, ok, n)
		if ok*2 < n {
			t.Errorf("%s: only %d of %d lines parse", c.file, ok, n)
		}
	}
}
