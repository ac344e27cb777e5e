package timefmt

import (
	"testing"
	"time"
)

var fuzzLayouts = []string{
	"dd/MMM/yyyy:HH:mm:ss Z",
	"yyyy-MM-dd'T'HH:mm:ss.SSSZZ",
	"MMM  d HH:mm:ss",
	"EEE MMM dd HH:mm:ss.SSSSSS yyyy",
	"yyyyMMddHHmmss",
	"h:mm a z",
	"%d/%b/%Y:%H:%M:%S %z",
	"%Y-%m-%dT%H:%M:%S.%L%z",
	"%b %d %H:%M:%S",
	"%s",
	"ISO8601", "RFC3339", "UNIX", "UNIX_MS", "UNIX_US", "UNIX_NS", "TAI64N",
}

// FuzzParse checks that no input panics any layout, that successful parses
// are stable, and that RFC3339 agrees with time.Parse whenever both accept.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"10/Oct/2000:13:55:36 -0700", "2024-03-15T10:11:12.345+02:00", "Mar  4 08:01:02",
		"Wed Oct 11 14:32:52.123456 2000", "20240315101112", "2:32 PM PDT",
		"2019-03-18T18:34:45.123456789Z", "1326149001.132", "@4000000052f88ea32489532c",
		"2006-01-02T15:04:05Z", "", "-", "99999999999999999999", "Feb 29 00:00:00",
	} {
		f.Add(s)
	}
	parsers := make([]*Parser, len(fuzzLayouts))
	for i, l := range fuzzLayouts {
		parsers[i] = MustCompile(l, WithNow(fixedNow))
	}
	rfc := MustCompile("RFC3339")
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range parsers {
			got, err := p.Parse(s)
			if err != nil {
				if _, ok := err.(*ParseError); !ok {
					t.Fatalf("%s: error type %T", p.Layout(), err)
				}
				continue
			}
			again, err := p.Parse(s)
			if err != nil || !again.Equal(got) {
				t.Fatalf("%s: unstable parse of %q", p.Layout(), s)
			}
		}
		want, werr := time.Parse(time.RFC3339Nano, s)
		got, gerr := rfc.Parse(s)
		if werr == nil && gerr == nil && !got.Equal(want) {
			t.Fatalf("RFC3339 %q: got %v, time.Parse %v", s, got, want)
		}
	})
}
