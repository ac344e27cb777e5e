package multiline

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkJoiner measures joining a typical mix: nine plain lines, then a
// twelve-line Java trace, per built-in languages and per Filebeat pattern.
func BenchmarkJoiner(b *testing.B) {
	var lines [][]byte
	for i := 0; i < 9; i++ {
		lines = append(lines, []byte(fmt.Sprintf("2026-12-04T10:00:00.%03dZ INFO  [main] com.acme.Service - handled request id=%d in 3ms", i, i)))
	}
	lines = append(lines, []byte("java.lang.IllegalStateException: connection pool exhausted"))
	for i := 0; i < 10; i++ {
		lines = append(lines, []byte(fmt.Sprintf("\tat com.acme.pool.Pool.acquire%d(Pool.java:%d)", i, 100+i)))
	}
	lines = append(lines, []byte("\t... 42 more"))
	for _, r := range []Rule{
		{Name: "builtin", Type: TypeBuiltin, Languages: []string{"java", "python", "go"}},
		{Name: "pattern", Type: TypePattern, Pattern: `^\d{4}-`, Negate: true},
		{Name: "fluentbit-java", Type: TypeStates, Parsers: []string{"java", "python", "go"}},
	} {
		b.Run(r.Name, func(b *testing.B) {
			sp, err := CompileRule(r, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			events := 0
			j := NewJoiner(sp, func(Event[int]) { events++ })
			now := time.Now()
			var bytes int64
			for _, l := range lines {
				bytes += int64(len(l))
			}
			b.ReportAllocs()
			b.SetBytes(bytes)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k, l := range lines {
					j.Add(l, k, now)
				}
			}
			j.Flush()
			b.ReportMetric(float64(b.N*len(lines))/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
