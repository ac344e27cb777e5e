package applog

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/services/parser/internal/document"
)

// readLines returns the lines of testdata/name.
func readLines(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// mapLine maps line into a document that already has the fields the base
// document gives every record, and returns the encoded document.
func mapLine(t *testing.T, m *Mapper, line string) map[string]any {
	t.Helper()
	var d document.Doc
	d.Set("@timestamp", document.T(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)))
	d.Set("message", document.S(line))
	if err := m.Map(&d, line); err != nil {
		t.Fatalf("Map(%s): %v", line, err)
	}
	var out map[string]any
	if err := json.Unmarshal(d.AppendJSON(nil), &out); err != nil {
		t.Fatalf("document is not JSON: %v", err)
	}
	return out
}

func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, seg := range strings.Split(path, ".") {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = o[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func TestLoggerFamilies(t *testing.T) {
	const trace = "java.lang.IllegalStateException: boom\n\tat com.example.web.Controller.handle(Controller.java:41)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)"
	tests := []struct {
		file   string
		line   int
		want   map[string]any // dotted path → value as encoding/json decodes it
		absent []string
	}{
		{"zap.jsonl", 0, map[string]any{
			"@timestamp": "2025-12-04T10:00:00.123Z", "log.level": "info", "message": "request completed",
			"log.logger": "checkout.http", "log.origin.file.name": "server/handler.go", "log.origin.file.line": 142.0,
			"trace.id": "4bf92f3577b34da6a3ce929d0e0e4736", "span.id": "00f067aa0ba902b7",
			"app.method": "POST", "app.status": 201.0, "app.duration": 0.0127,
		}, []string{"level", "ts", "msg", "caller", "app.level", "app.msg", "app.trace_id"}},
		{"zap.jsonl", 1, map[string]any{
			"@timestamp": "2026-12-04T09:00:00.250Z", "log.level": "error", "message": "insert failed",
			"error.message":     `pq: duplicate key value violates unique constraint "orders_pkey"`,
			"error.stack_trace": "main.(*Store).Insert\n\t/app/store/orders.go:77\nmain.main\n\t/app/main.go:31",
			"app.order_id":      "o-19",
		}, []string{"app.error", "app.stacktrace"}},
		{"slog.jsonl", 0, map[string]any{
			"@timestamp": "2026-12-04T09:00:00.123Z", "log.level": "INFO", "message": "cache refreshed",
			"log.origin.function": "main.(*api).serve", "log.origin.file.name": "/app/api.go", "log.origin.file.line": 88.0,
			"app.component": "catalog", "app.entries": 18234.0, "app.user": "bob",
		}, []string{"user", "source", "app.source"}},
		{"slog.jsonl", 1, map[string]any{
			"@timestamp": "2026-12-04T09:00:01.000Z", "log.level": "ERROR", "message": "upstream unavailable",
			"error.message": "dial tcp 10.0.3.4:8080: connect: connection refused",
			"app.attempt":   3.0, "app.user.id": 42.0, "app.user.role": "admin",
		}, []string{"user", "app.err"}},
		{"logrus.jsonl", 0, map[string]any{
			"@timestamp": "2026-12-04T09:00:00.000Z", "log.level": "warning", "message": "disk almost full",
			"log.origin.file.name": "/go/src/app/main.go", "log.origin.file.line": 42.0, "log.origin.function": "main.main",
			"app.mount": "/data", "app.used_pct": 93.5,
		}, []string{"app.file", "app.func"}},
		{"logrus.jsonl", 1, map[string]any{
			"log.level": "error", "error.message": "card expired", "app.customer": "c-88123", "app.amount": 42.5,
		}, nil},
		{"zerolog.jsonl", 0, map[string]any{
			"@timestamp": "2026-12-04T09:00:03.000Z", "log.level": "debug", "message": "reserved stock",
			"log.origin.file.name": "/app/inventory/reserve.go", "log.origin.file.line": 55.0,
			"app.service": "inventory", "app.sku": "A-1001", "app.qty": 3.0,
		}, []string{"service"}},
		{"zerolog.jsonl", 1, map[string]any{
			"@timestamp": "2025-12-04T10:00:04.000Z", "log.level": "error", "message": "fetch failed",
			"error.message": "context deadline exceeded", "error.stack_trace": "goroutine 7 [running]:\nmain.fetch()\n\t/app/fetch.go:20",
		}, nil},
		{"logback.jsonl", 0, map[string]any{
			"@timestamp": "2026-12-04T09:00:05.123Z", "log.level": "INFO", "message": "Started OrderService in 4.2 seconds",
			"log.logger": "com.example.OrderService", "process.thread.name": "main",
			"app.level_value": 20000.0, "app.@version": "1", "app.app": "orders",
		}, nil},
		{"logback.jsonl", 1, map[string]any{
			"log.level": "ERROR", "error.stack_trace": trace, "log.logger": "com.example.web.Controller",
			"process.thread.name": "http-nio-8080-exec-3", "log.origin.function": "handle",
			"log.origin.file.name": "Controller.java", "log.origin.file.line": 41.0,
			"app.caller_class_name": "com.example.web.Controller",
		}, nil},
		{"logback_ecs.jsonl", 0, map[string]any{
			"@timestamp": "2026-12-04T09:00:07.456Z", "log.level": "WARN", "message": "Slow response from pricing",
			"ecs.version": "1.2.0", "service.name": "orders", "event.dataset": "orders",
			"process.thread.name": "pool-2-thread-1", "log.logger": "com.example.pricing.Client",
			"log.origin.file.name": "Client.java", "log.origin.file.line": 118.0, "log.origin.function": "quote",
			"transaction.id": "5f7b2a3c9d1e4f60", "user.name": "bob",
		}, []string{"app"}},
		{"log4j2.jsonl", 0, map[string]any{
			"@timestamp": "2025-12-04T10:00:08.789Z", "log.level": "ERROR", "message": "Could not render invoice",
			"log.logger": "com.example.billing.Invoicer", "process.thread.name": "main",
			"error.type": "java.io.FileNotFoundException", "error.message": "template missing",
			"error.stack_trace":           "java.io.FileNotFoundException: template missing\n\tat com.example.billing.Invoicer.render(Invoicer.java:63)",
			"app.thrown.localizedMessage": "template missing", "app.threadId": 1.0, "app.endOfBatch": false,
		}, []string{"app.instant", "app.thrown.name"}},
		{"log4j2.jsonl", 1, map[string]any{
			"@timestamp": "2025-12-04T10:00:09.001Z", "log.level": "INFO", "message": "Nightly run done",
			"log.origin.function": "run", "log.origin.file.name": "Job.java", "log.origin.file.line": 27.0,
			"app.source.class": "com.example.billing.Job", "process.thread.name": "scheduler-1",
		}, []string{"app.timeMillis"}},
		{"python_json_logger.jsonl", 0, map[string]any{
			"@timestamp": "2026-12-04T10:00:10.250Z", "log.level": "INFO", "message": "order placed",
			"log.logger": "shop.views", "log.origin.file.name": "views.py", "log.origin.function": "place_order",
			"log.origin.file.line": 214.0, "app.order_id": 9912.0, "app.total": 59.9,
		}, []string{"app.asctime", "app.name"}},
		{"python_json_logger.jsonl", 1, map[string]any{
			"log.level": "ERROR", "message": "email failed", "process.thread.name": "MainThread", "app.process": 1.0,
			"error.stack_trace": "Traceback (most recent call last):\n  File \"/app/shop/tasks.py\", line 40, in send\n    smtp.send(msg)\nConnectionRefusedError: [Errno 111] Connection refused",
		}, nil},
		{"structlog.jsonl", 0, map[string]any{
			"@timestamp": "2026-12-04T09:00:12.345Z", "log.level": "info", "message": "user logged in",
			"log.logger": "auth", "app.user": "bob", "app.ip": "10.1.2.3",
		}, []string{"event", "app.event", "user"}},
		{"structlog.jsonl", 1, map[string]any{
			"log.level": "error", "message": "token refresh failed",
			"error.stack_trace": "Traceback (most recent call last):\n  File \"/app/auth.py\", line 9, in refresh\nKeyError: 'exp'",
		}, nil},
		{"pino.jsonl", 0, map[string]any{
			"@timestamp": "2025-12-04T10:00:14.123Z", "log.level": "info", "message": "request completed",
			"process.pid": 7.0, "app.hostname": "gateway-7d9f8b6c4-x2x9q", "app.req.method": "GET",
			"app.res.statusCode": 200.0, "app.responseTime": 3.0,
		}, []string{"app.level", "app.time"}},
		{"pino.jsonl", 1, map[string]any{
			"log.level": "error", "message": "handler crashed", "error.type": "TypeError",
			"error.message":     "Cannot read properties of undefined (reading 'id')",
			"error.stack_trace": "TypeError: Cannot read properties of undefined (reading 'id')\n    at handler (/app/routes.js:12:20)",
		}, []string{"app.err"}},
		{"bunyan.jsonl", 0, map[string]any{
			"@timestamp": "2026-12-04T09:00:16.500Z", "log.level": "warn", "message": "queue is backing up",
			"log.logger": "mailer", "process.pid": 12.0, "app.v": 0.0, "app.queued": 1532.0, "app.hostname": "mailer-0",
		}, nil},
		{"bunyan.jsonl", 1, map[string]any{
			"log.level": "error", "error.type": "Error", "error.message": "getaddrinfo ENOTFOUND smtp.internal",
			"app.err.code": "ENOTFOUND", "message": "send failed",
		}, nil},
		{"winston.jsonl", 0, map[string]any{
			"@timestamp": "2026-12-04T09:00:18.042Z", "log.level": "info", "message": "listening on :3000",
			"app.service": "frontend",
		}, nil},
		{"winston.jsonl", 1, map[string]any{
			"log.level": "error", "message": "render failed: Unexpected token < in JSON at position 0",
			"error.stack_trace": "SyntaxError: Unexpected token < in JSON at position 0\n    at JSON.parse (<anonymous>)\n    at render (/app/ssr.js:88:17)",
		}, nil},
	}
	m := New("", nil)
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".jsonl")+"/"+string(rune('0'+tt.line)), func(t *testing.T) {
			lines := readLines(t, tt.file)
			if tt.line >= len(lines) {
				t.Fatalf("%s has %d lines", tt.file, len(lines))
			}
			got := mapLine(t, m, lines[tt.line])
			for path, want := range tt.want {
				v, ok := lookup(got, path)
				if !ok {
					t.Errorf("%s missing", path)
					continue
				}
				if v != want {
					t.Errorf("%s = %#v, want %#v", path, v, want)
				}
			}
			for _, path := range tt.absent {
				if v, ok := lookup(got, path); ok {
					t.Errorf("%s = %#v, want absent", path, v)
				}
			}
			if t.Failed() {
				b, _ := json.MarshalIndent(got, "", "  ")
				t.Logf("document:\n%s", b)
			}
		})
	}
}

// TestEveryFixtureMaps checks that every sample line of every family gets
// at least a level, a message and its own @timestamp.
func TestEveryFixtureMaps(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	if err != nil || len(files) < 12 {
		t.Fatalf("fixtures: %v, %d files", err, len(files))
	}
	m := New("", nil)
	for _, f := range files {
		for i, line := range readLines(t, filepath.Base(f)) {
			got := mapLine(t, m, line)
			for _, p := range []string{"log.level", "message", "@timestamp"} {
				if _, ok := lookup(got, p); !ok {
					t.Errorf("%s:%d: %s missing", f, i+1, p)
				}
			}
			if got["@timestamp"] == "2026-12-04T12:00:00.000Z" {
				t.Errorf("%s:%d: @timestamp not taken from the line", f, i+1)
			}
			if got["message"] == line {
				t.Errorf("%s:%d: message is still the raw line", f, i+1)
			}
		}
	}
}

func TestTargets(t *testing.T) {
	line := `{"level":"info","msg":"hi","user":"bob","http":{"status":200}}`
	tests := []struct {
		target string
		want   map[string]any
	}{
		{"", map[string]any{"app.user": "bob", "app.http.status": 200.0, "log.level": "info"}},
		{"root", map[string]any{"user": "bob", "http.status": 200.0, "log.level": "info"}},
		{"payload.fields", map[string]any{"payload.fields.user": "bob", "payload.fields.http.status": 200.0}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			got := mapLine(t, New(tt.target, nil), line)
			for path, want := range tt.want {
				if v, _ := lookup(got, path); v != want {
					t.Errorf("%s = %#v, want %#v", path, v, want)
				}
			}
		})
	}
}

func TestECSLinesKeepTheRoot(t *testing.T) {
	got := mapLine(t, New("", nil), `{"ecs":{"version":"8.11.0"},"log":{"level":"info"},"message":"m","user":{"name":"bob"}}`)
	for path, w := range map[string]any{"ecs.version": "8.11.0", "log.level": "info", "user.name": "bob"} {
		if v, _ := lookup(got, path); v != w {
			t.Errorf("%s = %#v, want %#v", path, v, w)
		}
	}
	got = mapLine(t, New("", nil), `{"ecs":"not a version object","user":"bob"}`)
	if v, _ := lookup(got, "app.user"); v != "bob" {
		t.Errorf("app.user = %#v: a string ecs field made the line ECS", v)
	}
}

func TestFirstOfEachMeaningWins(t *testing.T) {
	got := mapLine(t, New("", nil), `{"msg":"first","message":"second","level":{"x":1},"time":"yesterday","ts":1764842400}`)
	want := map[string]any{"message": "first", "app.message": "second", "app.level.x": 1.0,
		"app.time": "yesterday", "@timestamp": "2025-12-04T10:00:00.000Z"}
	for path, w := range want {
		if v, _ := lookup(got, path); v != w {
			t.Errorf("%s = %#v, want %#v", path, v, w)
		}
	}
}

func TestSyntaxErrorLeavesDocument(t *testing.T) {
	for _, line := range []string{`{"level":"info","msg":"x"`, `{"a":1}}`, `{"a":01}`, `{"a":"\x"}`, `[1]`, `{"a":1} x`, `{'a':1}`} {
		var d document.Doc
		d.Set("message", document.S(line))
		if err := New("", nil).Map(&d, line); err == nil {
			t.Errorf("Map(%q) accepted", line)
		}
		if d.Len() != 1 {
			t.Errorf("Map(%q) changed the document", line)
		}
	}
}

func TestParseTime(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		in   string
		loc  *time.Location
		want time.Time
		ok   bool
	}{
		{"2026-12-04T10:00:00Z", nil, time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), true},
		{"2026-12-04T10:00:00.123456789+01:00", nil, time.Date(2026, 12, 4, 9, 0, 0, 123456789, time.UTC), true},
		{"2026-12-04T10:00:00.1234567891Z", nil, time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC), true},
		{"2026-12-04T10:00:00.250-0530", nil, time.Date(2026, 12, 4, 15, 30, 0, 250e6, time.UTC), true},
		{"2026-12-04 10:00:00,250", nil, time.Date(2026, 12, 4, 10, 0, 0, 250e6, time.UTC), true},
		{"2026-12-04 10:00:00,250", cet, time.Date(2026, 12, 4, 9, 0, 0, 250e6, time.UTC), true},
		{"2026-12-04T10:00:00+01", nil, time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC), true},
		{"1764842400", nil, time.Date(2025, 12, 4, 10, 0, 0, 0, time.UTC), true},
		{"1764842400123", nil, time.Date(2025, 12, 4, 10, 0, 0, 123e6, time.UTC), true},
		{"1764842400123456", nil, time.Date(2025, 12, 4, 10, 0, 0, 123456e3, time.UTC), true},
		{"1764842400123456789", nil, time.Date(2025, 12, 4, 10, 0, 0, 123456789, time.UTC), true},
		{"1764842400.5", nil, time.Date(2025, 12, 4, 10, 0, 0, 5e8, time.UTC), true},
		{"2026-02-30T10:00:00Z", nil, time.Time{}, false},
		{"2026-12-04T10:00:00 CET", nil, time.Time{}, false},
		{"2026-12-04T10:00:00.Z", nil, time.Time{}, false},
		{"yesterday", nil, time.Time{}, false},
	}
	for _, tt := range tests {
		loc := tt.loc
		if loc == nil {
			loc = time.UTC
		}
		got, ok := parseTime(tt.in, loc)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if got, ok := parseEpoch("1.7648424001e9"); !ok || !got.Equal(time.Date(2025, 12, 4, 10, 0, 0, 100e6, time.UTC)) {
		t.Errorf("parseEpoch(exponent) = %v, %v", got, ok)
	}
}

// TestPathCache checks that the lossy path cache never returns another
// key's path, whatever the collisions.
func TestPathCache(t *testing.T) {
	var c pathCache
	for round := 0; round < 2; round++ {
		for i := 0; i < 2000; i++ {
			key := strings.Repeat("k", i%70) + string(rune('a'+i%26)) + strconv.Itoa(i)
			if got, p := c.get("app.", key); got != "app."+key || p != document.P(got) {
				t.Fatalf("get(%q) = %q, %v", key, got, p)
			}
		}
	}
	if got, p := c.get("", "x"); got != "x" || p != document.P("x") {
		t.Errorf("root path = %q, %v", got, p)
	}
}

// TestDeepNestingIsLinear guards against rescanning nested objects once
// per level: 10,000 levels (encoding/json's limit) around a 1 MB string
// would take minutes if each level scanned what it holds again.
func TestDeepNestingIsLinear(t *testing.T) {
	const depth = 10000
	line := strings.Repeat(`{"a":`, depth) + `"` + strings.Repeat("x", 1<<20) + `"` + strings.Repeat("}", depth)
	start := time.Now()
	var d document.Doc
	if err := New("", nil).Map(&d, line); err != nil {
		t.Fatal(err)
	}
	if d.Len() != 1 {
		t.Fatalf("%d fields, want 1", d.Len())
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("took %v", took)
	}
	if err := New("", nil).Map(&d, "{\"a\":"+line+"}"); err == nil {
		t.Fatal("10,001 levels accepted; encoding/json refuses them")
	}
}
