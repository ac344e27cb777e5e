package decode

import (
	"bytes"
	"errors"
	"testing"
	"time"
	"unsafe"
)

func TestParseCRI(t *testing.T) {
	ts := "2024-04-13T07:59:37.505201169Z"
	nanos := time.Date(2024, 4, 13, 7, 59, 37, 505201169, time.UTC).UnixNano()
	tests := []struct {
		name    string
		line    string
		stream  Stream
		partial bool
		content string
		err     string
	}{
		{name: "full", line: ts + " stdout F hello\n", stream: StreamStdout, content: "hello"},
		{name: "no newline", line: ts + " stderr F hello", stream: StreamStderr, content: "hello"},
		{name: "partial", line: ts + " stdout P part", stream: StreamStdout, partial: true, content: "part"},
		{name: "tags", line: ts + " stdout P:TAG1:TAG2 x", stream: StreamStdout, partial: true, content: "x"},
		{name: "full with tags", line: ts + " stdout F:x y", stream: StreamStdout, content: "y"},
		{name: "empty content", line: ts + " stdout F \n", stream: StreamStdout, content: ""},
		{name: "content spaces kept", line: ts + " stdout F  two  spaces ", stream: StreamStdout, content: " two  spaces "},
		{name: "CRLF keeps CR", line: ts + " stdout F dos\r\n", stream: StreamStdout, content: "dos\r"},
		{name: "NUL kept", line: ts + " stdout F a\x00b", stream: StreamStdout, content: "a\x00b"},
		{name: "invalid UTF-8 kept", line: ts + " stdout F \xff\xfe", stream: StreamStdout, content: "\xff\xfe"},
		{name: "ANSI kept", line: ts + " stdout F \x1b[31mred\x1b[0m", stream: StreamStdout, content: "\x1b[31mred\x1b[0m"},
		{name: "legacy no tag", line: ts + " stdout hello world", stream: StreamStdout, content: "hello world"},
		{name: "crio offset", line: "2024-04-13T07:59:37.505201169-10:00 stdout F x", stream: StreamStdout, content: "x"},
		{name: "empty", line: "\n", err: "decode: malformed CRI line: empty line"},
		{name: "only time", line: ts, err: "decode: malformed CRI line: missing stream"},
		{name: "missing stream", line: ts + " ", err: "decode: malformed CRI line: missing stream"},
		{name: "bad stream", line: ts + " stdin F x", err: "decode: malformed CRI line: unknown stream"},
		{name: "stream glued", line: ts + " stdoutF x", err: "decode: malformed CRI line: unknown stream"},
		{name: "missing tag", line: ts + " stdout", err: "decode: malformed CRI line: missing tag"},
		{name: "tag without separator", line: ts + " stdout F", err: "decode: malformed CRI line: missing content separator"},
		{name: "bad time", line: "2024-13-13T07:59:37Z stdout F x", err: "decode: malformed CRI line: bad time"},
		{name: "Feb 30", line: "2024-02-30T07:59:37Z stdout F x", err: "decode: malformed CRI line: bad time"},
		{name: "leading space", line: " " + ts + " stdout F x", err: "decode: malformed CRI line: missing time"},
		{name: "not CRI", line: "hello world", err: "decode: malformed CRI line: bad time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.line)
			orig := bytes.Clone(in)
			l, err := ParseCRI(in)
			if !bytes.Equal(in, orig) {
				t.Fatal("input modified")
			}
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if !errors.Is(err, ErrMalformed) {
					t.Fatal("not ErrMalformed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Stream != tc.stream || l.Partial != tc.partial || string(l.Content) != tc.content {
				t.Fatalf("got %+v (%q)", l, l.Content)
			}
			if tc.name != "crio offset" && l.Time != nanos {
				t.Fatalf("time = %d, want %d", l.Time, nanos)
			}
		})
	}
}

func TestParseDocker(t *testing.T) {
	const tail = `"stream":"stdout","time":"2016-10-20T18:39:20.57606443Z"}`
	tests := []struct {
		name    string
		line    string
		partial bool
		content string
		alias   bool
		err     string
	}{
		{name: "common", line: `{"log":"hello\n",` + tail + "\n", content: "hello", alias: true},
		{name: "partial", line: `{"log":"hel",` + tail, content: "hel", partial: true, alias: true},
		{name: "escapes", line: `{"log":"a\"b\\c\td\/e\r\n",` + tail, content: "a\"b\\c\td/e\r"},
		{name: "inner newline", line: `{"log":"a\nb\n",` + tail, content: "a\nb"},
		{name: "unicode escape", line: `{"log":"caf\u00e9 \ud83d\ude00\n",` + tail, content: "café 😀"},
		{name: "NUL escape", line: `{"log":"a\u0000b\n",` + tail, content: "a\x00b"},
		{name: "raw invalid UTF-8 kept", line: "{\"log\":\"\xff\\n\"," + tail, content: "\xff", alias: true},
		{name: "attrs", line: `{"log":"x\n","attrs":{"k":["v",1,true,null,{"n":-1.5e3}]},` + tail, content: "x", alias: true},
		{name: "spaces", line: "{ \"log\" : \"x\\n\" , \"stream\" : \"stderr\" , \"time\" : \"2016-10-20T18:39:20Z\" }", content: "x", alias: true},
		{name: "key order", line: `{"time":"2016-10-20T18:39:20Z","stream":"stdout","log":"x\n"}`, content: "x", alias: true},
		{name: "raw newline tolerated", line: "{\"log\":\"x\n\"," + tail, content: "x", alias: true},
		{name: "lowercase z", line: `{"log":"x\n","stream":"stdout","time":"2021-02-01T16:45:03.01231z"}`, content: "x", alias: true},
		{name: "empty log", line: `{"log":"",` + tail, content: "", partial: true, alias: true},
		{name: "not JSON", line: "this is not JSON", err: "decode: malformed docker line: not a JSON object"},
		{name: "truncated", line: `{"log":"x\n","stream`, err: "decode: malformed docker line: invalid JSON"},
		{name: "missing time", line: `{"log":"x\n","stream":"stdout"}`, err: "decode: malformed docker line: missing time"},
		{name: "missing stream", line: `{"log":"x\n","time":"2016-10-20T18:39:20Z"}`, err: "decode: malformed docker line: missing stream"},
		{name: "missing log", line: `{` + tail, err: "decode: malformed docker line: missing log"},
		{name: "log number", line: `{"log":1,` + tail, err: "decode: malformed docker line: log is not a string"},
		{name: "trailing comma", line: `{"log":"x",` + tail[:len(tail)-1] + `,}`, err: "decode: malformed docker line: invalid JSON"},
		{name: "trailing garbage", line: `{"log":"x",` + tail + `x`, err: "decode: malformed docker line: invalid JSON"},
		{name: "bad escape", line: `{"log":"\x",` + tail, err: "decode: malformed docker line: invalid JSON"},
		{name: "bad stream", line: `{"log":"x","stream":"stdin","time":"2016-10-20T18:39:20Z"}`, err: "decode: malformed docker line: unknown stream"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.line)
			orig := bytes.Clone(in)
			l, err := ParseDocker(in)
			if !bytes.Equal(in, orig) {
				t.Fatal("input modified")
			}
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Partial != tc.partial || string(l.Content) != tc.content {
				t.Fatalf("got partial=%v content=%q", l.Partial, l.Content)
			}
			if aliases(in, l.Content) != tc.alias && len(l.Content) > 0 {
				t.Errorf("aliasing = %v, want %v", !tc.alias, tc.alias)
			}
		})
	}
}

func aliases(in, sub []byte) bool {
	if len(sub) == 0 || len(in) == 0 {
		return false
	}
	p, lo := uintptr(unsafe.Pointer(&sub[0])), uintptr(unsafe.Pointer(&in[0]))
	return p >= lo && p < lo+uintptr(len(in))
}

func TestDetect(t *testing.T) {
	tests := []struct {
		line string
		want Format
	}{
		{`{"log":"x"}`, FormatDocker},
		{"  {", FormatDocker},
		{"2024-04-13T07:59:37Z stdout F x", FormatCRI},
		{"2024-04-13T07:59:37.1+02:00 stderr x", FormatCRI},
		{"2024-04-13 07:59:37 stdout F x", FormatUnknown},
		{"hello", FormatUnknown},
		{"", FormatUnknown},
	}
	for _, tc := range tests {
		if got := Detect([]byte(tc.line)); got != tc.want {
			t.Errorf("Detect(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

func TestParseTimeMatchesStdlib(t *testing.T) {
	for _, s := range []string{
		"2016-10-20T18:39:20.57606443Z", "2024-04-13T07:59:37.505201169-10:00", "2024-02-29T00:00:00Z",
		"1999-12-31T23:59:59.999999999+14:00", "2024-04-13T07:59:37.1234567891234Z", "2000-01-01T00:00:00.0Z",
	} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseTime([]byte(s))
		if !ok || got != want.UnixNano() {
			t.Errorf("parseTime(%q) = %d %v, want %d", s, got, ok, want.UnixNano())
		}
	}
	for _, s := range []string{"2023-02-29T00:00:00Z", "2024-04-13T07:59:37", "2024-04-13T07:59:37.Z", "2024-04-13T24:00:00Z", "2024-04-13T07:59:37+1:00"} {
		if _, ok := parseTime([]byte(s)); ok {
			t.Errorf("parseTime(%q) accepted", s)
		}
	}
}

func TestMerger(t *testing.T) {
	m := NewMerger(10)
	add := func(s Stream, partial bool, c string, off, end int64) (Event, bool) {
		return m.Add(Line{Time: off, Stream: s, Partial: partial, Content: []byte(c)}, off, end)
	}
	if _, ok := add(StreamStdout, true, "abc", 0, 10); ok {
		t.Fatal("partial completed")
	}
	if p, ok := m.Pending(); !ok || p != 0 {
		t.Fatalf("Pending = %d %v", p, ok)
	}
	ev, ok := add(StreamStderr, false, "err", 10, 20)
	if !ok || string(ev.Content) != "err" || ev.Offset != 10 || ev.End != 20 || ev.Stream != StreamStderr {
		t.Fatalf("stderr event %+v", ev)
	}
	add(StreamStdout, true, "defgh", 20, 30)
	ev, ok = add(StreamStdout, false, "ijklmn", 30, 40)
	if !ok || string(ev.Content) != "abcdefghij" || !ev.Truncated || ev.Offset != 0 || ev.End != 40 || ev.Time != 0 || ev.Stream != StreamStdout {
		t.Fatalf("joined event %+v %q", ev, ev.Content)
	}
	if _, ok := m.Pending(); ok {
		t.Fatal("still pending")
	}
	ev, ok = add(StreamStdout, false, "0123456789AB", 40, 50)
	if !ok || string(ev.Content) != "0123456789" || !ev.Truncated {
		t.Fatalf("long single line %+v", ev)
	}
	add(StreamStderr, true, "e1", 50, 60)
	add(StreamStdout, true, "o1", 60, 70)
	fl := m.Flush()
	if len(fl) != 2 || string(fl[0].Content) != "e1" || fl[0].Stream != StreamStderr || !fl[0].Unterminated || string(fl[1].Content) != "o1" {
		t.Fatalf("Flush = %+v", fl)
	}
	if len(m.Flush()) != 0 {
		t.Fatal("second Flush not empty")
	}
}
