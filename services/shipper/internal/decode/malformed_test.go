package decode

import (
	"errors"
	"testing"
	"time"
)

func TestMalformedTime(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 123000000, time.UTC).UnixNano()
	tests := []struct {
		name   string
		format Format
		line   string
		want   int64
	}{
		{"CRI unknown stream", FormatCRI, "2026-12-04T10:00:00.123Z stdweird F hello\n", at},
		{"CRI missing tag", FormatCRI, "2026-12-04T10:00:00.123Z stdout", at},
		{"CRI offset time, bad stream", FormatCRI, "2026-12-04T11:00:00.123+01:00 x F y", at},
		{"CRI bad time", FormatCRI, "2026-13-04T10:00:00Z stdout F hello", 0},
		{"CRI no time at all", FormatCRI, "hello world", 0},
		{"not CRI in an unknown file", FormatUnknown, "panic: runtime error", 0},
		{"unknown file, time first", FormatUnknown, "2026-12-04T10:00:00.123Z weird", at},
		{"empty", FormatCRI, "", 0},
		{"docker unknown stream", FormatDocker, `{"log":"x\n","stream":"stdin","time":"2026-12-04T10:00:00.123Z"}`, at},
		{"docker log not a string", FormatDocker, `{"log":5,"stream":"stdout","time":"2026-12-04T10:00:00.123Z"}`, at},
		{"docker bad time", FormatDocker, `{"log":"x\n","stream":"stdout","time":"yesterday"}`, 0},
		{"docker broken JSON", FormatDocker, `{"log":"x\n","stream":"stdout","time":"2026-12-04T10:00:00.123Z"`, 0},
		{"docker line in a CRI file", FormatCRI, `{"log":"x","stream":"bad","time":"2026-12-04T10:00:00.123Z"}`, at},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every case is a line the decoder rejects: MalformedTime only
			// ever sees those.
			if _, err := Parse(tt.format, []byte(tt.line)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse accepted the line (err %v); the case tests nothing", err)
			}
			if got := MalformedTime(tt.format, []byte(tt.line)); got != tt.want {
				t.Fatalf("MalformedTime = %v, want %v", time.Unix(0, got).UTC(), time.Unix(0, tt.want).UTC())
			}
		})
	}
}

// FuzzMalformedTime checks that MalformedTime never panics and, on a line
// the decoder accepts, reads the same time the decoder does: the salvaged
// time of a malformed line is the runtime's, not a guess.
func FuzzMalformedTime(f *testing.F) {
	f.Add(int(FormatCRI), []byte("2026-12-04T10:00:00.123456789Z stdout F hello"))
	f.Add(int(FormatCRI), []byte("2026-12-04T10:00:00+01:00 stderr P:x part"))
	f.Add(int(FormatDocker), []byte(`{"log":"x\n","stream":"stdout","time":"2026-12-04T10:00:00.5Z"}`))
	f.Add(int(FormatUnknown), []byte("garbage"))
	f.Fuzz(func(t *testing.T, format int, line []byte) {
		ft := Format(format % 3)
		ts := MalformedTime(ft, line)
		l, err := Parse(ft, line)
		if err != nil || ft == FormatUnknown {
			return
		}
		if ts != l.Time {
			t.Fatalf("MalformedTime = %d, decoder read %d", ts, l.Time)
		}
	})
}
