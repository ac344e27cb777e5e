package dissect

import "testing"

const benchLine = `1.2.3.4 - - [30/Apr/1998:22:00:52 +0000] "GET /english/venues/cities/images/montpellier/18.gif HTTP/1.0" 200 3171`

func BenchmarkDissect(b *testing.B) {
	b.Run("apache_plain", func(b *testing.B) {
		d := MustCompile(`%{clientip} %{ident} %{auth} [%{ts}] "%{verb} %{request} HTTP/%{httpversion}" %{status} %{size}`)
		fn := func(k, v string) {}
		b.ReportAllocs()
		b.SetBytes(int64(len(benchLine)))
		for b.Loop() {
			if err := d.Dissect(benchLine, fn); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("syslog_append", func(b *testing.B) {
		d := MustCompile("%{ts} %{+ts} %{+ts} %{host} %{program}[%{pid}]: %{message}", AppendSeparator(" "))
		line := "Mar 16 00:01:25 example postfix/smtpd[1713]: connect from example.com[192.100.1.3]"
		fn := func(k, v string) {}
		b.ReportAllocs()
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			if err := d.Dissect(line, fn); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		d := MustCompile(`%{clientip} %{ident} %{auth} [%{ts}] "%{verb} %{request} HTTP/%{httpversion}" %{status} %{size}`)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.DissectMap(benchLine); err != nil {
				b.Fatal(err)
			}
		}
	})
}
