package grok

import (
	"testing"

	gogrok "github.com/elastic/go-grok"
)

// benchLines are typical ~200-byte combined access lines.
var benchLines = [][]byte{
	[]byte(combinedLine),
	[]byte(`10.0.4.21 - alice [12/Mar/2024:09:14:02 +0100] "POST /api/v1/orders?id=8812&retry=1 HTTP/1.1" 201 512 "https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0"`),
	[]byte(`192.168.1.10 - - [12/Mar/2024:09:14:03 +0100] "GET /static/app.3f9a1c.js HTTP/2.0" 304 - "https://shop.example.com/" "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15"`),
	[]byte(`203.0.113.7 - - [12/Mar/2024:09:14:04 +0100] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"`),
}

func benchMatcher(b *testing.B, mode Mode, fast bool) {
	m, err := NewLibrary(mode).Compile("%{COMBINEDAPACHELOG}")
	if err != nil {
		b.Fatal(err)
	}
	if !fast {
		m.prog = nil
	}
	var total int
	for _, l := range benchLines {
		total += len(l)
	}
	b.SetBytes(int64(total / len(benchLines)))
	b.ReportAllocs()
	n := 0
	fn := func(path []string, v Value) { n++ }
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !m.Match(benchLines[i%len(benchLines)], fn) {
			b.Fatal("no match")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkCombinedApacheLog is the fast path on legacy %{COMBINEDAPACHELOG}.
func BenchmarkCombinedApacheLog(b *testing.B) { benchMatcher(b, ModeLegacy, true) }

// BenchmarkCombinedApacheLogECS is the fast path with ECS field names and
// :int conversions.
func BenchmarkCombinedApacheLogECS(b *testing.B) { benchMatcher(b, ModeECS, true) }

// BenchmarkCombinedApacheLogRE2 forces every line through regexp.
func BenchmarkCombinedApacheLogRE2(b *testing.B) { benchMatcher(b, ModeLegacy, false) }

// BenchmarkGoGrokCombinedApacheLog is github.com/elastic/go-grok on the same
// lines and expression.
func BenchmarkGoGrokCombinedApacheLog(b *testing.B) {
	g, err := gogrok.NewComplete()
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Compile("%{COMBINEDAPACHELOG}", true); err != nil {
		b.Fatal(err)
	}
	var total int
	for _, l := range benchLines {
		total += len(l)
	}
	b.SetBytes(int64(total / len(benchLines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := g.Parse(benchLines[i%len(benchLines)])
		if err != nil || len(res) == 0 {
			b.Fatal("no match", err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// noMatchLines are lines %{COMBINEDAPACHELOG} does not match.
var noMatchLines = [][]byte{
	[]byte(`hello world`),
	[]byte(`Mar 16 00:01:25 evita postfix/smtpd[1713]: connect from camomile.cloud9.net[168.100.1.3]`),
	[]byte(`2024-03-12T09:14:02.123Z INFO  [main] c.e.app.Server - listening on 0.0.0.0:8080 (pid 4711, build 3f9a1c)`),
	[]byte(`{"level":"info","ts":1710234842.123,"msg":"request done","status":200,"path":"/healthz"}`),
}

func benchNoMatch(b *testing.B, mode Mode) {
	m, err := NewLibrary(mode).Compile("%{COMBINEDAPACHELOG}")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	fn := func(path []string, v Value) {}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if m.Match(noMatchLines[i%len(noMatchLines)], fn) {
			b.Fatal("unexpected match")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkCombinedApacheLogNoMatch is %{COMBINEDAPACHELOG} on lines of
// other formats (plain text, syslog, application log, JSON).
func BenchmarkCombinedApacheLogNoMatch(b *testing.B) { benchNoMatch(b, ModeLegacy) }

// BenchmarkCombinedApacheLogNoMatchECS is the same in ECS mode.
func BenchmarkCombinedApacheLogNoMatchECS(b *testing.B) { benchNoMatch(b, ModeECS) }
