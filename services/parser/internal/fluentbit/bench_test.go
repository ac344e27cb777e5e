package fluentbit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-io/sluice/libs/corpus"
)

func benchCompiled(b *testing.B, c *Compiled, line string) {
	in := []byte(line)
	if _, _, _, err := c.Parse(in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, _, err := c.Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCorpusParse(b *testing.B) {
	dir := corpus.Dir(b, "fluentbit")
	f, err := os.Open(filepath.Join(dir, "parsers.conf"))
	if err != nil {
		b.Fatal(err)
	}
	ps, err := ParseFile(f)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	byName := map[string]*Parser{}
	for i := range ps {
		byName[ps[i].Name] = &ps[i]
	}
	cases := []struct{ parser, line string }{
		{"nginx", `172.17.0.1 - - [26/Oct/2023:10:00:00 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "curl/7.68.0"`},
		{"cri", `2019-03-18T18:34:45.123456789Z stdout F hello world`},
		{"docker", `{"log":"hello world\n","stream":"stdout","time":"2018-05-03T15:13:01.123456789Z"}`},
		{"syslog-rfc5424", `<34>1 2024-03-14T08:01:02.123456+02:00 web01 sshd 4123 - - Accepted publickey for bob`},
	}
	for _, tc := range cases {
		b.Run(tc.parser, func(b *testing.B) {
			c, err := byName[tc.parser].Compile()
			if err != nil {
				b.Fatal(err)
			}
			benchCompiled(b, c, tc.line)
		})
	}
}

func BenchmarkCustomParse(b *testing.B) {
	m := loadCustom(b)
	cases := []struct{ parser, line string }{
		{"typed", "2024-03-15T10:00:00 200 1234 0.5 true 0x1f done"},
		{"app_logfmt", `ts=2024-03-15T10:11:12.345Z level=warn msg="disk slow" retry`},
		{"access_ltsv", "time:[10/Oct/2000:13:55:36 -0700]\thost:127.0.0.1\tstatus:200\treq:GET / HTTP/1.1"},
	}
	for _, tc := range cases {
		b.Run(tc.parser, func(b *testing.B) {
			def := m[tc.parser]
			c, err := def.Compile()
			if err != nil {
				b.Fatal(err)
			}
			benchCompiled(b, c, tc.line)
		})
	}
}

func BenchmarkParseFile(b *testing.B) {
	data, err := os.ReadFile("testdata/custom.conf")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFile(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
