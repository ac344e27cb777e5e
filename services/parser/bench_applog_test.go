package parser

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/kafkatest"
	"github.com/sluice-io/sluice/services/parser/config"
)

// appLogLines are typical application JSON log lines of about 300 bytes
// (zap, slog, pino and logrus), rotated through by the JSON benchmark.
var appLogLines = []string{
	`{"level":"info","ts":1764842400.1234567,"logger":"checkout.http","caller":"server/handler.go:142","msg":"request completed","method":"POST","path":"/api/v1/orders","status":201,"duration_ms":12.7,"request_id":"7f3c2a9e-4b1d-4c8e-9a2f-1e5d6c7b8a90","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}`,
	`{"time":"2026-12-04T10:00:00.123456789Z","level":"INFO","source":{"function":"main.(*api).serve","file":"/app/api.go","line":88},"msg":"cache refreshed","component":"catalog","entries":18234,"took":"31.2ms","region":"eu-west-1","user":"bob","request_id":"c0a8012e-5f3d-4e2b"}`,
	`{"level":30,"time":1764842400123,"pid":7,"hostname":"web-7d9f8b6c4-x2x9q","name":"gateway","reqId":"req-4f1","req":{"method":"GET","url":"/health"},"res":{"statusCode":200},"responseTime":3,"msg":"request completed","v":0,"traceId":"0af7651916cd43dd8448eb211c80319c"}`,
	`{"level":"warning","msg":"slow query","time":"2026-12-04T10:00:00+01:00","db.statement":"SELECT id, total FROM orders WHERE customer_id = $1","rows":412,"elapsed":1.875,"service":"billing","span_id":"00f067aa0ba902b7","func":"billing.(*Store).Orders","customer":"c-88123"}`,
}

// BenchmarkServicePathJSON is BenchmarkServicePath with application JSON
// logs parsed by the builtin auto rule.
//
//	go test -run XXX -bench ServicePathJSON -benchtime 200000x
func BenchmarkServicePathJSON(b *testing.B) {
	c := kafkatest.New(b, 6, rawTopic, parsedTopic, dlqTopic)
	prod := c.Client(kgo.DefaultProduceTopic(rawTopic), kgo.ProducerLinger(5*time.Millisecond))
	batch := make([]*kgo.Record, 0, 1000)
	for i := 0; i < b.N; i++ {
		batch = append(batch, rawRecord(i, "", appLogLines[i%len(appLogLines)]))
		if len(batch) == cap(batch) || i == b.N-1 {
			if err := prod.ProduceSync(context.Background(), batch...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	cfg := testConfig(c)
	cfg.Rules = []config.Rule{{Name: "auto", Builtin: "auto"}}
	cfg.Kafka.MaxPollRecords = 10000
	cfg.Kafka.Compression = "snappy"
	p, err := New(cfg, "bench", quietLog(), WithBuiltins(testBuiltins))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, t0 := cpuTime(), time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for p.docsOut.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	wall, cpu := time.Since(t0), cpuTime()-cpu0
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/wall.Seconds(), "lines/s")
	b.ReportMetric(cpu.Seconds()*1e6/float64(b.N), "cpu-s/Mlines")
}
