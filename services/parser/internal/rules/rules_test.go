package rules

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
)

func raw(line string) *logsv1.RawRecord {
	return &logsv1.RawRecord{
		Line:         []byte(line),
		TimeUnixNano: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC).UnixNano(),
		Stream:       logsv1.Stream_STREAM_STDOUT,
		Source:       &logsv1.Source{Node: "n1", Path: "/var/log/containers/web_shop_nginx-abc.log", Fingerprint: "fp", Offset: 42},
		Kubernetes: &logsv1.Kubernetes{Namespace: "shop", Pod: "web", Container: "nginx", Node: "n1",
			Labels: map[string]string{"app.kubernetes.io/name": "web"}},
	}
}

func apply(t *testing.T, rs []config.Rule, rec *logsv1.RawRecord) (map[string]any, string, error) {
	t.Helper()
	e, err := Compile(Options{Rules: rs, Index: "logs-%{+yyyy.MM.dd}"})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	var d document.Doc
	idx, err := e.Apply(e.Select(rec), rec, &d)
	if err != nil {
		return nil, "", err
	}
	var m map[string]any
	if err := json.Unmarshal(d.AppendJSON(nil), &m); err != nil {
		t.Fatalf("document is not JSON: %v", err)
	}
	return m, idx, nil
}

func get(m map[string]any, path string) any {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = o[p]
	}
	return cur
}

func TestNginxRule(t *testing.T) {
	line := `10.0.0.2, 67.43.156.14 - bob [07/Dec/2016:11:05:07 +0100] "GET /ocelot?x=1 HTTP/1.1" 503 571 "http://ref/" "curl/8"`
	m, idx, err := apply(t, []config.Rule{{Name: "nginx", Builtin: "nginx"}}, raw(line))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"@timestamp":                "2016-12-07T10:05:07.000Z",
		"event.created":             "2026-11-24T10:00:00.000Z",
		"source.address":            "67.43.156.14",
		"source.ip":                 "67.43.156.14",
		"user.name":                 "bob",
		"http.request.method":       "GET",
		"url.original":              "/ocelot?x=1",
		"url.path":                  "/ocelot",
		"url.query":                 "x=1",
		"http.version":              "1.1",
		"http.response.status_code": float64(503),
		"http.response.body.bytes":  float64(571),
		"http.request.referrer":     "http://ref/",
		"user_agent.original":       "curl/8",
		"event.outcome":             "failure",
		"message":                   nil, // parsed: dropped, as Elastic's integration does
		"event.original":            nil, // only with keep_original
		"kubernetes.namespace":      "shop",
		"kubernetes.pod.name":       "web",
		"kubernetes.container.name": "nginx",
		"kubernetes.labels.app_kubernetes_io/name": "web",
		"log.offset": float64(42),
		"host.name":  "n1",
		"stream":     "stdout",
	}
	for path, w := range want {
		if got := get(m, path); got != w {
			t.Errorf("%s = %#v, want %#v", path, got, w)
		}
	}
	if idx != "logs-2016.12.07" {
		t.Errorf("index %q, want logs-2016.12.07 (from the log's own time)", idx)
	}
}

// TestKeepOriginal checks that event.original holds the whole line only
// when the rule asks for it, and only for a line the rule parsed (a failed
// line keeps it in message).
func TestKeepOriginal(t *testing.T) {
	access := `10.0.0.2 - bob [07/Dec/2016:11:05:07 +0100] "GET /ocelot?x=1 HTTP/1.1" 503 571 "http://ref/" "curl/8"`
	errLine := `2016/10/25 14:49:34 [error] 54053#0: *1 open() "/usr/local/Cellar/nginx/1.10.2_1/html/favicon.ico" failed (2: No such file or directory), client: 127.0.0.1`
	tests := []struct {
		name, builtin, line string
		keep                bool
		original, message   any
	}{
		{"access", "nginx", access, false, nil, nil},
		{"access kept", "nginx", access, true, access, nil},
		{"error", "nginx_error", errLine, false, nil, `open() "/usr/local/Cellar/nginx/1.10.2_1/html/favicon.ico" failed (2: No such file or directory), client: 127.0.0.1`},
		{"error kept", "nginx_error", errLine, true, errLine, `open() "/usr/local/Cellar/nginx/1.10.2_1/html/favicon.ico" failed (2: No such file or directory), client: 127.0.0.1`},
		{"failed", "nginx", "not an access log", true, nil, "not an access log"},
		{"auto kept", "auto", `{"msg":"hi","level":"info"}`, true, `{"msg":"hi","level":"info"}`, "hi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := apply(t, []config.Rule{{Name: "r", Builtin: tt.builtin, KeepOriginal: tt.keep}}, raw(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			if got := get(m, "event.original"); got != tt.original {
				t.Errorf("event.original = %#v, want %#v", got, tt.original)
			}
			if got := get(m, "message"); got != tt.message {
				t.Errorf("message = %#v, want %#v", got, tt.message)
			}
		})
	}
}

func TestFailureHandling(t *testing.T) {
	tests := []struct {
		name      string
		onFailure string
		wantDLQ   bool
	}{
		{"tag by default", "", false},
		{"tag", "tag", false},
		{"dead letter", "dlq", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := apply(t, []config.Rule{{Name: "nginx", Builtin: "nginx", OnFailure: tt.onFailure}}, raw("not an access log"))
			if tt.wantDLQ {
				if !errors.Is(err, ErrDeadLetter) {
					t.Fatalf("err = %v, want ErrDeadLetter", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if get(m, "message") != "not an access log" {
				t.Fatalf("raw message lost: %v", m)
			}
			tags, _ := m["tags"].([]any)
			if len(tags) != 1 || tags[0] != FailureTag {
				t.Fatalf("tags = %v, want [%s]", tags, FailureTag)
			}
			if s, _ := get(m, "error.message").(string); !strings.Contains(s, "rule nginx") {
				t.Fatalf("error.message = %q", s)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	rs := []config.Rule{
		{Name: "by-hint", Match: config.Match{Hint: "json"}, Builtin: "json"},
		{Name: "by-label", Match: config.Match{Labels: map[string]string{"app.kubernetes.io/name": "web"}}, Builtin: "nginx"},
		{Name: "by-namespace", Match: config.Match{Namespaces: []string{"payments"}}, Builtin: "auto"},
		{Name: "default", Builtin: "none"},
	}
	e, err := Compile(Options{Rules: rs, Index: "logs"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(r *logsv1.RawRecord)
		want string
	}{
		{"hint wins first", func(r *logsv1.RawRecord) { r.ParserHint = "json" }, "by-hint"},
		{"label", func(r *logsv1.RawRecord) {}, "by-label"},
		{"namespace", func(r *logsv1.RawRecord) { r.Kubernetes.Labels = nil; r.Kubernetes.Namespace = "payments" }, "by-namespace"},
		{"default", func(r *logsv1.RawRecord) { r.Kubernetes.Labels = nil }, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := raw("x")
			tt.edit(r)
			if got := e.Select(r).Name; got != tt.want {
				t.Fatalf("Select = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestJSONAndEdits(t *testing.T) {
	rs := []config.Rule{{Name: "app", Builtin: "json", Target: "root", Processors: []config.Processor{
		{Rename: map[string]string{"region": "cloud.region"}},
		{Remove: []string{"secret"}},
		{Convert: map[string]string{"took": "int"}},
		{Add: map[string]string{"service.name": "api"}},
	}}}
	m, _, err := apply(t, rs, raw(`{"lvl":"info","msg":"hi","took":"12","secret":"s","nested":{"a":1},"list":[1,2],"region":"eu"}`))
	if err != nil {
		t.Fatal(err)
	}
	for path, w := range map[string]any{"log.level": "info", "message": "hi", "took": float64(12), "nested.a": float64(1),
		"service.name": "api", "cloud.region": "eu"} {
		if got := get(m, path); got != w {
			t.Errorf("%s = %#v, want %#v", path, got, w)
		}
	}
	if get(m, "secret") != nil || get(m, "lvl") != nil || get(m, "region") != nil {
		t.Errorf("removed or renamed field still present: %v", m)
	}
	if l, _ := m["list"].([]any); len(l) != 2 {
		t.Errorf("list = %v", m["list"])
	}
}

func TestCompileErrorsNameTheKey(t *testing.T) {
	_, err := Compile(Options{Index: "logs", Rules: []config.Rule{
		{Name: "a", Builtin: "nginx"},
		{Name: "b", Processors: []config.Processor{{Regex: &config.Regex{Pattern: "("}}}},
	}})
	if err == nil || !strings.HasPrefix(err.Error(), "rules[1].processors[0].regex.pattern") {
		t.Fatalf("err = %v", err)
	}
	_, err = Compile(Options{Index: "logs", Rules: []config.Rule{{Name: "a", Builtin: "syslog-ng"}}})
	if err == nil || !strings.HasPrefix(err.Error(), "rules[0].builtin") {
		t.Fatalf("err = %v", err)
	}
	_, err = Compile(Options{Index: "Logs-%{+yyyy"})
	if err == nil || !strings.HasPrefix(err.Error(), "kafka.index") {
		t.Fatalf("err = %v", err)
	}
}

func BenchmarkNginxRule(b *testing.B) {
	e, err := Compile(Options{Rules: []config.Rule{{Name: "nginx", Builtin: "nginx"}}, Index: "logs-%{+yyyy.MM.dd}"})
	if err != nil {
		b.Fatal(err)
	}
	rec := raw(`67.43.156.13 - - [25/Oct/2016:14:49:34 +0200] "GET /favicon.ico HTTP/1.1" 404 571 "http://localhost:8080/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36"`)
	var d document.Doc
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		r := e.Select(rec)
		if _, err := e.Apply(r, rec, &d); err != nil {
			b.Fatal(err)
		}
		buf = d.AppendJSON(buf[:0])
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}
