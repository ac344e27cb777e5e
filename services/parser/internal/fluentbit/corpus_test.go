package fluentbit

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/corpus"
	"github.com/sluice-io/sluice/services/parser/internal/timefmt"
)

// expectedFailures lists corpus sections that may not compile, with the
// reason their error must contain.
var expectedFailures = map[string]string{
	// A [MULTILINE_PARSER]: recorded, not executable per line.
	"exception_test": "[MULTILINE_PARSER] sections are recorded but not supported",
}

// expectedCounts is the number of sections in each reference file.
var expectedCounts = map[string]int{
	"parsers.conf":            18,
	"parsers_extra.conf":      19,
	"parsers_openstack.conf":  6,
	"parsers_mult.conf":       5,
	"parsers_kafka.conf":      2,
	"parsers_ambassador.conf": 1,
	"parsers_cinder.conf":     1,
	"parsers_java.conf":       1,
	"parsers_multiline.conf":  1,
}

func loadCorpus(t *testing.T) map[string]Parser {
	t.Helper()
	dir := corpus.Dir(t, "fluentbit")
	files, err := filepath.Glob(filepath.Join(dir, "*.conf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .conf files in %s (%v)", dir, err)
	}
	all := map[string]Parser{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := ParseFile(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if want, ok := expectedCounts[filepath.Base(f)]; ok && len(ps) != want {
			t.Errorf("%s: %d sections, want %d", filepath.Base(f), len(ps), want)
		}
		for _, p := range ps {
			if _, dup := all[p.Name]; dup {
				t.Errorf("parser %q defined in more than one file", p.Name)
			}
			all[p.Name] = p
		}
	}
	return all
}

// TestCorpusCompiles requires every reference section to compile or to
// fail for its listed reason.
func TestCorpusCompiles(t *testing.T) {
	all := loadCorpus(t)
	for name, p := range all {
		t.Run(name, func(t *testing.T) {
			_, err := p.Compile()
			reason, expectFail := expectedFailures[name]
			switch {
			case err == nil && expectFail:
				t.Fatalf("compiled, but listed as failing with %q", reason)
			case err != nil && !expectFail:
				t.Fatalf("does not compile: %v", err)
			case err != nil && !strings.Contains(err.Error(), reason):
				t.Fatalf("error %q does not contain the expected reason %q", err, reason)
			case err != nil && !strings.Contains(err.Error(), name):
				t.Fatalf("error %q does not name the parser", err)
			}
		})
	}
	for name := range expectedFailures {
		if _, ok := all[name]; !ok {
			t.Errorf("expected failure %q is not in the corpus", name)
		}
	}
	if ml, ok := all["exception_test"]; ok {
		if !ml.Multiline || ml.MultilineType != "regex" || len(ml.Rules) != 2 || ml.Rules[0].State != "start_state" {
			t.Errorf("multiline section not recorded: %+v", ml)
		}
	}
}

var corpusNow = time.Date(2024, time.March, 15, 12, 0, 0, 0, time.UTC)

func TestCorpusSamples(t *testing.T) {
	all := loadCorpus(t)
	tests := []struct {
		parser  string
		line    string
		want    map[string]any
		ts      time.Time // zero: no time expected
		wantErr error
	}{
		{"apache2", `192.168.2.20 - - [28/Jul/2006:10:27:10 -0300] "GET /cgi-bin/try/ HTTP/1.0" 200 3395`,
			map[string]any{"host": "192.168.2.20", "user": "-", "method": "GET", "path": "/cgi-bin/try/", "code": "200", "size": "3395"},
			time.Date(2006, 7, 28, 10, 27, 10, 0, time.FixedZone("", -3*3600)), nil},
		{"apache2", `10.0.0.7 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`,
			map[string]any{"host": "10.0.0.7", "user": "frank", "method": "GET", "path": "/apache_pb.gif", "code": "200", "size": "2326",
				"referer": "http://www.example.com/start.html", "agent": "Mozilla/4.08 [en] (Win98; I ;Nav)"},
			time.Date(2000, 10, 10, 13, 55, 36, 0, time.FixedZone("", -7*3600)), nil},
		{"nginx", `172.17.0.1 - - [26/Oct/2023:10:00:00 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "curl/7.68.0"`,
			map[string]any{"remote": "172.17.0.1", "host": "-", "user": "-", "method": "GET", "path": "/index.html", "code": "200",
				"size": "612", "referer": "-", "agent": "curl/7.68.0"},
			time.Date(2023, 10, 26, 10, 0, 0, 0, time.UTC), nil},
		{"nginx", `not an access log line`, nil, time.Time{}, ErrNoMatch},
		{"k8s-nginx-ingress", `10.244.0.1 - alice [10/Mar/2024:12:00:00 +0000] "POST /api/v1/items?x=1 HTTP/2.0" 201 48 "https://app.example.com/" "Mozilla/5.0" 512 0.012 [default-api-80] [] 10.244.1.7:8080 48 0.011 201 7f3c9a2b1d`,
			map[string]any{"host": "10.244.0.1", "user": "alice", "method": "POST", "path": "/api/v1/items?x=1", "code": "201", "size": "48",
				"referer": "https://app.example.com/", "agent": "Mozilla/5.0", "request_length": "512", "request_time": "0.012",
				"proxy_upstream_name": "default-api-80", "upstream_addr": "10.244.1.7:8080", "upstream_response_length": "48",
				"upstream_response_time": "0.011", "upstream_status": "201", "reg_id": "7f3c9a2b1d"},
			time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC), nil},
		{"syslog-rfc5424", `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event log entry`,
			map[string]any{"pri": "165", "time": "2003-10-11T22:14:15.003Z", "host": "mymachine.example.com", "ident": "evntslog", "pid": "-",
				"msgid": "ID47", "extradata": `[exampleSDID@32473 iut="3" eventSource="Application"]`, "message": "An application event log entry"},
			time.Date(2003, 10, 11, 22, 14, 15, 3000000, time.UTC), nil},
		{"syslog-rfc5424", `<34>1 2024-03-14T08:01:02.123456+02:00 web01 sshd 4123 - - Accepted publickey for bob`,
			map[string]any{"pri": "34", "time": "2024-03-14T08:01:02.123456+02:00", "host": "web01", "ident": "sshd", "pid": "4123",
				"msgid": "-", "extradata": "-", "message": "Accepted publickey for bob"},
			time.Date(2024, 3, 14, 8, 1, 2, 123456000, time.FixedZone("", 2*3600)), nil},
		{"syslog-rfc3164", `<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
			map[string]any{"pri": "34", "time": "Oct 11 22:14:15", "host": "mymachine", "ident": "su", "message": "'su root' failed for lonvick on /dev/pts/8"},
			time.Date(2023, 10, 11, 22, 14, 15, 0, time.UTC), nil},
		{"syslog-rfc3164", `<13>Mar  4 08:01:02 web01 sshd[4123]: Accepted publickey for bob`,
			map[string]any{"pri": "13", "time": "Mar  4 08:01:02", "host": "web01", "ident": "sshd", "pid": "4123", "message": "Accepted publickey for bob"},
			time.Date(2024, 3, 4, 8, 1, 2, 0, time.UTC), nil},
		{"cri", `2019-03-18T18:34:45.123456789Z stdout F hello world`,
			map[string]any{"time": "2019-03-18T18:34:45.123456789Z", "stream": "stdout", "logtag": "F", "message": "hello world"},
			time.Date(2019, 3, 18, 18, 34, 45, 123456789, time.UTC), nil},
		{"cri", `2024-03-14T08:01:02.5+01:00 stderr P partial line`,
			map[string]any{"time": "2024-03-14T08:01:02.5+01:00", "stream": "stderr", "logtag": "P", "message": "partial line"},
			time.Date(2024, 3, 14, 8, 1, 2, 500000000, time.FixedZone("", 3600)), nil},
		{"docker", `{"log":"hello world\n","stream":"stdout","time":"2018-05-03T15:13:01.123456789Z"}`,
			map[string]any{"log": "hello world\n", "stream": "stdout", "time": "2018-05-03T15:13:01.123456789Z"},
			time.Date(2018, 5, 3, 15, 13, 1, 123456789, time.UTC), nil},
		{"json", `{"time":"10/Oct/2000:13:55:36 -0700","msg":"started","pid":42,"load":1.5,"ok":true,"tags":["a","b"],"ctx":{"n":1}}`,
			map[string]any{"msg": "started", "pid": int64(42), "load": 1.5, "ok": true, "tags": []any{"a", "b"}, "ctx": map[string]any{"n": int64(1)}},
			time.Date(2000, 10, 10, 13, 55, 36, 0, time.FixedZone("", -7*3600)), nil},
		{"json", `{"msg":"no time here"}`,
			map[string]any{"msg": "no time here"}, time.Time{}, nil},
		{"logfmt", `level=info msg="hello world" flag`,
			map[string]any{"level": "info", "msg": "hello world", "flag": true}, time.Time{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.parser, func(t *testing.T) {
			def, ok := all[tc.parser]
			if !ok {
				t.Fatalf("parser %q not in corpus", tc.parser)
			}
			c, err := def.Compile(timefmt.WithNow(func() time.Time { return corpusNow }))
			if err != nil {
				t.Fatal(err)
			}
			fields, ts, hasTime, err := c.Parse([]byte(tc.line))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(fields, tc.want) {
				t.Fatalf("fields\n got %#v\nwant %#v", fields, tc.want)
			}
			if tc.ts.IsZero() {
				if hasTime {
					t.Fatalf("unexpected time %v", ts)
				}
				return
			}
			if !hasTime || !ts.Equal(tc.ts) {
				t.Fatalf("time = %v (%v), want %v", ts, hasTime, tc.ts)
			}
			_, gotOff := ts.Zone()
			_, wantOff := tc.ts.Zone()
			if gotOff != wantOff {
				t.Fatalf("offset = %d, want %d", gotOff, wantOff)
			}
		})
	}
}
