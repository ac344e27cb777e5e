package timefmt

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var refNow = time.Date(2024, time.March, 15, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return refNow }

func tz(h, m int) *time.Location { return time.FixedZone("", h*3600+m*60) }

func TestParse(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name   string
		layout string
		opts   []Option
		in     string
		want   time.Time
	}{
		// nginx / apache access logs
		{"apache common", "dd/MMM/yyyy:HH:mm:ss Z", nil, "10/Oct/2000:13:55:36 -0700",
			time.Date(2000, 10, 10, 13, 55, 36, 0, tz(-7, 0))},
		{"apache common positive offset", "dd/MMM/yyyy:HH:mm:ss Z", nil, "01/Jan/2024:00:00:00 +0530",
			time.Date(2024, 1, 1, 0, 0, 0, 0, tz(5, 30))},
		{"apache common lowercase month", "dd/MMM/yyyy:HH:mm:ss Z", nil, "10/oct/2000:13:55:36 +0000",
			time.Date(2000, 10, 10, 13, 55, 36, 0, time.UTC)},
		{"strftime apache", "%d/%b/%Y:%H:%M:%S %z", nil, "10/Oct/2000:13:55:36 -0700",
			time.Date(2000, 10, 10, 13, 55, 36, 0, tz(-7, 0))},
		{"strftime prefix", "strftime:%d/%b/%Y:%H:%M:%S %z", nil, "10/Oct/2000:13:55:36 -0700",
			time.Date(2000, 10, 10, 13, 55, 36, 0, tz(-7, 0))},
		// apache error log
		{"apache error", "EEE MMM dd HH:mm:ss.SSSSSS yyyy", nil, "Wed Oct 11 14:32:52.123456 2000",
			time.Date(2000, 10, 11, 14, 32, 52, 123456000, time.UTC)},
		{"apache error strftime", "%a %b %d %H:%M:%S.%L %Y", nil, "Wed Oct 11 14:32:52.123456 2000",
			time.Date(2000, 10, 11, 14, 32, 52, 123456000, time.UTC)},
		{"full weekday and month names", "EEEE, MMMM d, yyyy h:mm a", nil, "Wednesday, October 11, 2000 2:32 PM",
			time.Date(2000, 10, 11, 14, 32, 0, 0, time.UTC)},
		{"12 AM is midnight", "h:mm a yyyy-MM-dd", nil, "12:05 am 2000-10-11",
			time.Date(2000, 10, 11, 0, 5, 0, 0, time.UTC)},
		// syslog (year inferred against 2024-03-15)
		{"syslog two-digit day", "MMM dd HH:mm:ss", nil, "Mar 14 08:01:02",
			time.Date(2024, 3, 14, 8, 1, 2, 0, time.UTC)},
		{"syslog space padded day", "MMM  d HH:mm:ss", nil, "Mar  4 08:01:02",
			time.Date(2024, 3, 4, 8, 1, 2, 0, time.UTC)},
		{"syslog december read in march is last year", "MMM dd HH:mm:ss", nil, "Dec 31 23:59:59",
			time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"syslog a few days ahead stays this year", "MMM dd HH:mm:ss", nil, "Mar 18 00:00:00",
			time.Date(2024, 3, 18, 0, 0, 0, 0, time.UTC)},
		{"syslog strftime single space matches padding", "%b %d %H:%M:%S", nil, "Mar  4 08:01:02",
			time.Date(2024, 3, 4, 8, 1, 2, 0, time.UTC)},
		{"syslog strftime two-digit day", "%b %d %H:%M:%S", nil, "Mar 14 08:01:02",
			time.Date(2024, 3, 14, 8, 1, 2, 0, time.UTC)},
		{"syslog with location", "MMM dd HH:mm:ss", []Option{WithLocation(ny)}, "Mar 14 08:01:02",
			time.Date(2024, 3, 14, 8, 1, 2, 0, ny)},
		{"syslog leap day picks a leap year", "MMM dd HH:mm:ss", nil, "Feb 29 10:00:00",
			time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)},
		// ISO 8601 via Joda patterns
		{"iso joda millis ZZ", "yyyy-MM-dd'T'HH:mm:ss.SSSZZ", nil, "2024-03-15T10:11:12.345+02:00",
			time.Date(2024, 3, 15, 10, 11, 12, 345000000, tz(2, 0))},
		{"iso joda ZZ accepts Z", "yyyy-MM-dd'T'HH:mm:ss.SSSZZ", nil, "2024-03-15T10:11:12.345Z",
			time.Date(2024, 3, 15, 10, 11, 12, 345000000, time.UTC)},
		{"iso joda SSS accepts micros", "yyyy-MM-dd'T'HH:mm:ss.SSSZ", nil, "2024-03-15T10:11:12.345678-0100",
			time.Date(2024, 3, 15, 10, 11, 12, 345678000, tz(-1, 0))},
		{"joda compact adjacent numbers", "yyyyMMddHHmmss", nil, "20240315101112",
			time.Date(2024, 3, 15, 10, 11, 12, 0, time.UTC)},
		{"joda quoted quote", "yyyy''MM", nil, "2024'03",
			time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"joda zone id", "yyyy-MM-dd HH:mm:ss ZZZ", nil, "2024-07-01 12:00:00 America/New_York",
			time.Date(2024, 7, 1, 12, 0, 0, 0, ny)},
		{"joda zone abbreviation", "yyyy-MM-dd HH:mm:ss z", nil, "2024-07-01 12:00:00 PDT",
			time.Date(2024, 7, 1, 12, 0, 0, 0, tz(-7, 0))},
		{"joda two-digit year", "dd/MM/yy", nil, "05/06/99",
			time.Date(1999, 6, 5, 0, 0, 0, 0, time.UTC)},
		{"joda two-digit year recent", "dd/MM/yy", nil, "05/06/21",
			time.Date(2021, 6, 5, 0, 0, 0, 0, time.UTC)},
		{"joda day of year", "yyyy-DDD", nil, "2024-060",
			time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"joda comma millis", "yyyy-MM-dd HH:mm:ss,SSS", nil, "2024-03-15 10:11:12,007",
			time.Date(2024, 3, 15, 10, 11, 12, 7000000, time.UTC)},
		{"no zone uses location", "yyyy-MM-dd HH:mm:ss", []Option{WithLocation(ny)}, "2024-01-15 10:00:00",
			time.Date(2024, 1, 15, 10, 0, 0, 0, ny)},
		// strftime (Fluent Bit)
		{"fluentbit cri", "%Y-%m-%dT%H:%M:%S.%L%z", nil, "2019-03-18T18:34:45.123456789Z",
			time.Date(2019, 3, 18, 18, 34, 45, 123456789, time.UTC)},
		{"fluentbit offset with colon", "%Y-%m-%dT%H:%M:%S.%L%z", nil, "2019-03-18T18:34:45.1+01:00",
			time.Date(2019, 3, 18, 18, 34, 45, 100000000, tz(1, 0))},
		{"fluentbit literal Z is UTC", "%Y-%m-%dT%H:%M:%S.%LZ", []Option{WithLocation(ny)}, "2021-03-09T17:32:02.136Z",
			time.Date(2021, 3, 9, 17, 32, 2, 136000000, time.UTC)},
		{"fluentbit docker trailing Z ignored", "%Y-%m-%dT%H:%M:%S.%L", []Option{WithTrailing()}, "2018-05-03T15:13:01.123456789Z",
			time.Date(2018, 5, 3, 15, 13, 1, 123456789, time.UTC)},
		{"strftime epoch", "%s", nil, "1326149001",
			time.Unix(1326149001, 0).UTC()},
		{"strftime T and F", "%F %T", nil, "2024-03-15 10:11:12",
			time.Date(2024, 3, 15, 10, 11, 12, 0, time.UTC)},
		{"strftime 12h", "%I:%M:%S %p %d.%m.%Y", nil, "01:02:03 PM 15.03.2024",
			time.Date(2024, 3, 15, 13, 2, 3, 0, time.UTC)},
		{"strftime percent literal", "%Y%%%m", nil, "2024%03",
			time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"strftime kafka comma millis", "%Y-%m-%d %H:%M:%S,%L", nil, "2022-06-01 10:20:30,123",
			time.Date(2022, 6, 1, 10, 20, 30, 123000000, time.UTC)},
		{"strftime rabbitmq", "%d-%b-%Y::%H:%M:%S", nil, "08-Mar-2016::14:23:55",
			time.Date(2016, 3, 8, 14, 23, 55, 0, time.UTC)},
		{"strftime zone name", "%Y-%m-%d %H:%M:%S %Z", nil, "2024-03-15 10:11:12 UTC",
			time.Date(2024, 3, 15, 10, 11, 12, 0, time.UTC)},
		// Keywords
		{"ISO8601 Z millis", "ISO8601", nil, "2011-04-19T03:44:01.103Z",
			time.Date(2011, 4, 19, 3, 44, 1, 103000000, time.UTC)},
		{"ISO8601 no fraction offset", "ISO8601", nil, "2011-04-19T03:44:01+02:00",
			time.Date(2011, 4, 19, 3, 44, 1, 0, tz(2, 0))},
		{"ISO8601 compact offset", "ISO8601", nil, "2011-04-19T03:44:01.5-0330",
			time.Date(2011, 4, 19, 3, 44, 1, 500000000, tz(-3, -30))},
		{"ISO8601 space and comma", "ISO8601", nil, "2011-04-19 03:44:01,123456",
			time.Date(2011, 4, 19, 3, 44, 1, 123456000, time.UTC)},
		{"ISO8601 no zone uses location", "ISO8601", []Option{WithLocation(ny)}, "2011-04-19T03:44:01",
			time.Date(2011, 4, 19, 3, 44, 1, 0, ny)},
		{"ISO8601 date only", "ISO8601", nil, "2011-04-19",
			time.Date(2011, 4, 19, 0, 0, 0, 0, time.UTC)},
		{"ISO8601 minutes only", "ISO8601", nil, "2011-04-19T03:44Z",
			time.Date(2011, 4, 19, 3, 44, 0, 0, time.UTC)},
		{"ISO8601 nanos", "ISO8601", nil, "2018-06-27T17:19:13.036579993Z",
			time.Date(2018, 6, 27, 17, 19, 13, 36579993, time.UTC)},
		{"RFC3339", "RFC3339", nil, "2006-01-02T15:04:05Z",
			time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)},
		{"RFC3339 nano offset", "RFC3339", nil, "2006-01-02T15:04:05.999999999-07:00",
			time.Date(2006, 1, 2, 15, 4, 5, 999999999, tz(-7, 0))},
		{"UNIX", "UNIX", nil, "1326149001",
			time.Unix(1326149001, 0).UTC()},
		{"UNIX fraction", "UNIX", nil, "1326149001.132",
			time.Unix(1326149001, 132000000).UTC()},
		{"UNIX negative", "UNIX", nil, "-1.5",
			time.Unix(-1, -500000000).UTC()},
		{"UNIX_MS", "UNIX_MS", nil, "1366125117000",
			time.Unix(1366125117, 0).UTC()},
		{"UNIX_MS remainder", "UNIX_MS", nil, "1366125117123",
			time.Unix(1366125117, 123000000).UTC()},
		{"UNIX_US", "UNIX_US", nil, "1366125117123456",
			time.Unix(1366125117, 123456000).UTC()},
		{"UNIX_NS", "UNIX_NS", nil, "1366125117123456789",
			time.Unix(1366125117, 123456789).UTC()},
		{"TAI64N", "TAI64N", nil, "@4000000052f88ea32489532c",
			time.Unix(0x52f88ea3, 0x2489532c).UTC()},
		{"TAI64N without at", "TAI64N", nil, "4000000052f88ea32489532c",
			time.Unix(0x52f88ea3, 0x2489532c).UTC()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]Option{WithNow(fixedNow)}, tc.opts...)
			p, err := Compile(tc.layout, opts...)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.layout, err)
			}
			got, err := p.Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !got.Equal(tc.want) {
				t.Fatalf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
			}
			_, gotOff := got.Zone()
			_, wantOff := tc.want.Zone()
			if gotOff != wantOff {
				t.Fatalf("Parse(%q) offset = %d, want %d (%v)", tc.in, gotOff, wantOff, got)
			}
			// ParseBytes agrees.
			got2, err := p.ParseBytes([]byte(tc.in))
			if err != nil || !got2.Equal(got) {
				t.Fatalf("ParseBytes(%q) = %v, %v", tc.in, got2, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		layout  string
		in      string
		wantErr string // substring of the error
		offset  int
	}{
		{"day 32", "dd/MMM/yyyy:HH:mm:ss Z", "32/Feb/2020:00:00:00 +0000",
			`timefmt: "32/Feb/2020:00:00:00 +0000" does not match "dd/MMM/yyyy:HH:mm:ss Z" at byte 0`, 0},
		{"feb 30", "dd/MMM/yyyy:HH:mm:ss Z", "30/Feb/2020:00:00:00 +0000", "day out of range", 0},
		{"feb 29 non leap", "yyyy-MM-dd", "2023-02-29", "day out of range", 8},
		{"bad month name", "dd/MMM/yyyy", "10/Foo/2000", "expected month name", 3},
		{"missing literal", "dd/MMM/yyyy", "10-Oct-2000", `expected "/"`, 2},
		{"hour 24", "HH:mm", "24:00", "hour out of range", 0},
		{"minute 60", "HH:mm", "23:60", "minute out of range", 3},
		{"trailing text", "yyyy-MM-dd", "2024-03-15T", "unexpected trailing text", 10},
		{"short input", "yyyy-MM-dd HH:mm:ss", "2024-03-15 10", `expected ":"`, 13},
		{"bad offset", "HH:mm Z", "10:00 +9", "expected zone offset", 6},
		{"empty", "yyyy", "", "expected year", 0},
		{"ISO8601 bad", "ISO8601", "2024-13-01", "expected month", 5},
		{"ISO8601 junk zone", "ISO8601", "2024-01-01T00:00:00X", "expected zone offset", 19},
		{"RFC3339 needs zone", "RFC3339", "2024-01-01T00:00:00", "expected zone offset", 19},
		{"RFC3339 needs seconds", "RFC3339", "2024-01-01T00:00Z", `expected ":"`, 16},
		{"UNIX letters", "UNIX", "12a", "unexpected trailing text", 2},
		{"UNIX_MS fraction", "UNIX_MS", "12.5", "unexpected trailing text", 2},
		{"UNIX empty", "UNIX", "", "expected digits", 0},
		{"TAI64N short", "TAI64N", "@4000", "expected 24 hex digits", 1},
		{"TAI64N not hex", "TAI64N", "@400000005x", "expected 24 hex digits", 1},
		{"TAI64N bad label", "TAI64N", "@0000000052f88ea32489532c", "TAI64 label out of range", 1},
		{"strftime missing fraction", "%H:%M:%S.%L", "10:11:12.", "expected fraction", 9},
		{"weekday", "EEE", "Xyz", "expected weekday name", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.layout, WithNow(fixedNow))
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error", tc.in)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *ParseError", err)
			}
			if pe.Offset != tc.offset {
				t.Fatalf("offset = %d, want %d (%v)", pe.Offset, tc.offset, err)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ name, layout, want string }{
		{"unquoted T", "yyyy-MM-ddTHH", `unsupported pattern letter 'T'`},
		{"unterminated quote", "yyyy'T", "unterminated quote"},
		{"unknown strftime", "%Q", "unsupported directive %Q"},
		{"trailing percent", "%Y%", "trailing %"},
		{"empty", "", "empty"},
		{"era", "G yyyy", "unsupported pattern letter 'G'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.layout)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Compile(%q) error = %v, want %q", tc.layout, err, tc.want)
			}
		})
	}
}

func TestYearInference(t *testing.T) {
	p := MustCompile("MMM dd HH:mm:ss", WithNow(func() time.Time {
		return time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC)
	}))
	// A January line seen just before new year (clock skew) is next year.
	got, err := p.Parse("Jan 01 00:00:30")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 1, 1, 0, 0, 30, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// An old January line read in December stays this year.
	got, _ = p.Parse("Jan 15 00:00:00")
	if want := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	p = MustCompile("MMM dd HH:mm:ss", WithNow(func() time.Time {
		return time.Date(2025, 1, 1, 0, 0, 5, 0, time.UTC)
	}))
	got, _ = p.Parse("Dec 31 23:59:59")
	if want := time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if p.HasYear() || p.HasZone() {
		t.Fatal("HasYear/HasZone should be false for syslog layout")
	}
}

func TestFixedZoneShared(t *testing.T) {
	p := MustCompile("yyyy-MM-dd HH:mm:ss Z")
	a, _ := p.Parse("2024-01-01 00:00:00 +0200")
	b, _ := p.Parse("2024-06-01 00:00:00 +0200")
	if a.Location() != b.Location() {
		t.Fatal("fixed zones for the same offset should be shared")
	}
}

// TestAgainstTimeParse compares with time.Parse on layouts both understand.
func TestAgainstTimeParse(t *testing.T) {
	pairs := []struct{ ours, goLayout string }{
		{"dd/MMM/yyyy:HH:mm:ss Z", "02/Jan/2006:15:04:05 -0700"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZZ", "2006-01-02T15:04:05.000Z07:00"},
		{"RFC3339", time.RFC3339Nano},
		{"EEE MMM dd HH:mm:ss.SSSSSS yyyy", "Mon Jan 02 15:04:05.000000 2006"},
	}
	inputs := []string{
		"10/Oct/2000:13:55:36 -0700", "2024-02-29T23:59:59.999+05:45", "2024-02-29T23:59:59.999Z",
		"2006-01-02T15:04:05.123456789+01:00", "Wed Oct 11 14:32:52.123456 2000",
		"29/Feb/2023:00:00:00 +0000", "2024-02-29T23:59:59.999-00:30",
	}
	for _, pr := range pairs {
		p := MustCompile(pr.ours)
		for _, in := range inputs {
			want, werr := time.Parse(pr.goLayout, in)
			got, gerr := p.Parse(in)
			if werr == nil {
				if gerr != nil {
					t.Errorf("%s %q: time.Parse ok, we fail: %v", pr.ours, in, gerr)
				} else if !got.Equal(want) {
					t.Errorf("%s %q: got %v, time.Parse %v", pr.ours, in, got, want)
				}
			}
		}
	}
}

func TestParseAllocs(t *testing.T) {
	p := MustCompile("dd/MMM/yyyy:HH:mm:ss Z")
	n := testing.AllocsPerRun(100, func() {
		if _, err := p.Parse("10/Oct/2000:13:55:36 -0700"); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("Parse allocates %v times, want 0", n)
	}
}

// TestLayoutsFixture runs testdata/layouts.tsv: layout, input and the
// expected instant and offset in RFC 3339.
func TestLayoutsFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/layouts.tsv")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 {
			t.Fatalf("line %d: want 3 tab-separated columns, got %d", i+1, len(cols))
		}
		n++
		t.Run(fmt.Sprintf("line%d", i+1), func(t *testing.T) {
			want, err := time.Parse(time.RFC3339Nano, cols[2])
			if err != nil {
				t.Fatal(err)
			}
			p, err := Compile(cols[0], WithNow(fixedNow))
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Parse(cols[1])
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) || got.Format(time.RFC3339Nano) != cols[2] {
				t.Fatalf("%q with %q = %s, want %s", cols[1], cols[0], got.Format(time.RFC3339Nano), cols[2])
			}
		})
	}
	if n == 0 {
		t.Fatal("no cases in fixture")
	}
}
