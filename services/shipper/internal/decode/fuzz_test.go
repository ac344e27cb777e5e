package decode

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzParseCRI(f *testing.F) {
	for _, s := range []string{
		"2016-10-20T18:39:20.57606443Z stdout F cri stdout test log\n",
		"2016-10-20T18:39:20.57606443Z stdout P:TAG1:TAG2 x",
		"2024-04-13T07:59:37.505201169-10:00 stderr F \xff\x00\r",
		"2017-09-12T22:32:21.212861448Z stdout",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		l, err := ParseCRI(in)
		if !bytes.Equal(in, orig) {
			t.Fatal("input modified")
		}
		l2, err2 := ParseCRI(in)
		if (err == nil) != (err2 == nil) || l.Time != l2.Time || !bytes.Equal(l.Content, l2.Content) {
			t.Fatal("not deterministic")
		}
		if err != nil {
			return
		}
		if l.Stream != StreamStdout && l.Stream != StreamStderr {
			t.Fatalf("stream %d", l.Stream)
		}
		if len(l.Content) > 0 && !aliases(in, l.Content) {
			t.Fatal("CRI content must alias the input")
		}
		// Re-encoding what was decoded decodes to the same thing.
		tag := "F"
		if l.Partial {
			tag = "P"
		}
		re := time.Unix(0, l.Time).UTC().Format(time.RFC3339Nano) + " " + l.Stream.String() + " " + tag + " " + string(l.Content) + "\n"
		l3, err := ParseCRI([]byte(re))
		if err != nil || l3.Time != l.Time || l3.Stream != l.Stream || l3.Partial != l.Partial || !bytes.Equal(l3.Content, l.Content) {
			t.Fatalf("round trip of %q: %+v %v", re, l3, err)
		}
	})
}

// FuzzParseDocker checks the hand-written path against encoding/json on
// every valid-JSON, valid-UTF-8 input.
func FuzzParseDocker(f *testing.F) {
	for _, s := range []string{
		`{"log":"hello\n","stream":"stdout","time":"2016-10-20T18:39:20.57606443Z"}`,
		`{"log":"caf\u00e9","stream":"stderr","attrs":{"a":[1,{"b":null}]},"time":"2016-10-20T18:39:20Z"}`,
		`{"log":"a\"b\\","stream":"stdout","time":"2016-10-20T18:39:20Z","log":"dup\n"}`,
		`{"log":null,"stream":"stdout","time":"2016-10-20T18:39:20Z"}`,
		`{"Log":"\u0041","stream":"stdout","time":"2016-10-20T18:39:20Z"}`,
		"{\"log\":\"\xff\x00\",\"stream\":\"stdout\",\"time\":\"2016-10-20T18:39:20Z\"}",
		`{this is not JSON`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		l, err := ParseDocker(in)
		if !bytes.Equal(in, orig) {
			t.Fatal("input modified")
		}
		l2, err2 := ParseDocker(in)
		if (err == nil) != (err2 == nil) || !bytes.Equal(l.Content, l2.Content) || l.Partial != l2.Partial {
			t.Fatal("not deterministic")
		}
		if !json.Valid(in) || !utf8.Valid(in) {
			return
		}
		ref, rerr := parseDockerStd(in)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("fast: %v, encoding/json: %v", err, rerr)
		}
		if err != nil {
			return
		}
		if l.Time != ref.Time || l.Stream != ref.Stream || l.Partial != ref.Partial || !bytes.Equal(l.Content, ref.Content) {
			t.Fatalf("fast %+v %q\nstd  %+v %q", l, l.Content, ref, ref.Content)
		}
	})
}

// FuzzMerger drives a Merger with arbitrary fragments and checks its
// invariants: bounded content, Truncated exactly when something was cut,
// offsets spanning the fragments, and the joined bytes.
func FuzzMerger(f *testing.F) {
	f.Add(uint8(8), []byte{0x81, 3, 0x01, 2, 0x82, 20, 0x02, 1})
	f.Add(uint8(1), []byte{0x81, 0, 0x81, 0, 0x01, 0})
	f.Fuzz(func(t *testing.T, max uint8, ops []byte) {
		m := NewMerger(int(max%64) + 1)
		limit := int(max%64) + 1
		type want struct {
			buf    []byte
			off    int64
			active bool
			total  int
		}
		var w [3]want
		var off int64
		for i := 0; i+1 < len(ops); i += 2 {
			op, n := ops[i], int(ops[i+1]%48)
			s := Stream(op & 3 % 3)
			partial := op&0x80 != 0
			content := bytes.Repeat([]byte{'a' + byte(i%26)}, n)
			end := off + int64(n) + 40
			st := &w[streamIndex(s)]
			if !st.active {
				st.buf, st.off, st.total, st.active = nil, off, 0, true
			}
			st.buf = append(st.buf, content...)
			st.total += n
			ev, ok := m.Add(Line{Time: off, Stream: s, Partial: partial, Content: content}, off, end)
			if ok == partial {
				t.Fatalf("op %d: ok=%v partial=%v", i, ok, partial)
			}
			if ok {
				exp := st.buf
				if len(exp) > limit {
					exp = exp[:limit]
				}
				if !bytes.Equal(ev.Content, exp) || ev.Truncated != (st.total > limit) || ev.Offset != st.off || ev.End != end || ev.Stream != s || ev.Time != st.off {
					t.Fatalf("op %d: event %+v, want content %q from %d", i, ev, exp, st.off)
				}
				st.active = false
			}
			if p, ok := m.Pending(); ok {
				lowest := int64(-1)
				for _, x := range w {
					if x.active && (lowest < 0 || x.off < lowest) {
						lowest = x.off
					}
				}
				if p != lowest {
					t.Fatalf("Pending = %d, want %d", p, lowest)
				}
			}
			off = end
		}
		var last int64 = -1
		for _, ev := range m.Flush() {
			if len(ev.Content) > limit || !ev.Unterminated || ev.Offset < last {
				t.Fatalf("flush %+v", ev)
			}
			last = ev.Offset
		}
	})
}
