package applog

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-io/sluice/services/parser/internal/document"
)

const benchLine = `{"level":"info","ts":1764842400.1234567,"logger":"checkout.http","caller":"server/handler.go:142","msg":"request completed","method":"POST","path":"/api/v1/orders","status":201,"duration_ms":12.7,"request_id":"7f3c2a9e-4b1d-4c8e-9a2f-1e5d6c7b8a90","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`

// BenchmarkMap is the ECS mapping of one ~300-byte zap line into a reused
// document.
func BenchmarkMap(b *testing.B) {
	m := New("", nil)
	var d document.Doc
	b.ReportAllocs()
	b.SetBytes(int64(len(benchLine)))
	cpu0 := processCPU()
	for b.Loop() {
		d.Reset()
		if err := m.Map(&d, benchLine); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkDecode is Decode (no mapping) of the same line.
func BenchmarkDecode(b *testing.B) {
	var d document.Doc
	b.ReportAllocs()
	b.SetBytes(int64(len(benchLine)))
	cpu0 := processCPU()
	for b.Loop() {
		d.Reset()
		if err := Decode(&d, benchLine, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkEncodingJSON is what the parser did before: encoding/json into
// a map with UseNumber, then the map written into the document.
func BenchmarkEncodingJSON(b *testing.B) {
	var d document.Doc
	b.ReportAllocs()
	b.SetBytes(int64(len(benchLine)))
	cpu0 := processCPU()
	for b.Loop() {
		d.Reset()
		dec := json.NewDecoder(strings.NewReader(benchLine))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil || dec.More() {
			b.Fatal("rejected")
		}
		refFlatten(&d, "", obj)
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the process's CPU time: on a shared machine wall time
// counts the time other processes had the cores.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
