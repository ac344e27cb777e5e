package parser

import (
	"testing"

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
	benchServicePath(b, func(i int) string { return appLogLines[i%len(appLogLines)] }, func(cfg *config.Config) {
		cfg.Rules = []config.Rule{{Name: "auto", Builtin: "auto"}}
	})
}
