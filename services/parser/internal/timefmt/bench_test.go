package timefmt

import (
	"testing"
	"time"
)

func benchParse(b *testing.B, layout, in string, opts ...Option) {
	p := MustCompile(layout, opts...)
	if _, err := p.Parse(in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := p.Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.Run("apache_joda", func(b *testing.B) {
		benchParse(b, "dd/MMM/yyyy:HH:mm:ss Z", "10/Oct/2000:13:55:36 -0700")
	})
	b.Run("apache_strftime", func(b *testing.B) {
		benchParse(b, "%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36 -0700")
	})
	b.Run("iso_joda_millis", func(b *testing.B) {
		benchParse(b, "yyyy-MM-dd'T'HH:mm:ss.SSSZZ", "2024-03-15T10:11:12.345Z")
	})
	b.Run("cri_strftime", func(b *testing.B) {
		benchParse(b, "%Y-%m-%dT%H:%M:%S.%L%z", "2019-03-18T18:34:45.123456789Z")
	})
	b.Run("syslog_inferred_year", func(b *testing.B) {
		benchParse(b, "MMM dd HH:mm:ss", "Mar 14 08:01:02", WithNow(fixedNow))
	})
	b.Run("ISO8601", func(b *testing.B) {
		benchParse(b, "ISO8601", "2011-04-19T03:44:01.103+02:00")
	})
	b.Run("RFC3339", func(b *testing.B) {
		benchParse(b, "RFC3339", "2006-01-02T15:04:05.999999999-07:00")
	})
	b.Run("UNIX_MS", func(b *testing.B) {
		benchParse(b, "UNIX_MS", "1366125117123")
	})
	b.Run("TAI64N", func(b *testing.B) {
		benchParse(b, "TAI64N", "@4000000052f88ea32489532c")
	})
}

// BenchmarkStdlibParse is the time.Parse baseline for the apache layout.
func BenchmarkStdlibParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := time.Parse("02/Jan/2006:15:04:05 -0700", "10/Oct/2000:13:55:36 -0700"); err != nil {
			b.Fatal(err)
		}
	}
}
