package rules

import (
	"syscall"
	"testing"
	"time"

	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
)

// BenchmarkAutoRuleJSON is the parser's own cost for an application JSON
// log line of about 300 bytes: select, base document, ECS mapping and
// encoding, without Kafka.
func BenchmarkAutoRuleJSON(b *testing.B) {
	e, err := Compile(Options{Rules: []config.Rule{{Name: "auto", Builtin: "auto"}}, Index: "logs-%{+yyyy.MM.dd}"})
	if err != nil {
		b.Fatal(err)
	}
	rec := raw(`{"level":"info","ts":1764842400.1234567,"logger":"checkout.http","caller":"server/handler.go:142","msg":"request completed","method":"POST","path":"/api/v1/orders","status":201,"duration_ms":12.7,"request_id":"7f3c2a9e-4b1d-4c8e-9a2f-1e5d6c7b8a90","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`)
	var d document.Doc
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(rec.Line)))
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		r := e.Select(rec)
		if _, err := e.Apply(r, rec, &d); err != nil {
			b.Fatal(err)
		}
		buf = d.AppendJSON(buf[:0])
	}
	// CPU time rather than wall time: on a shared machine the wall clock
	// counts the time other processes had the cores.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
