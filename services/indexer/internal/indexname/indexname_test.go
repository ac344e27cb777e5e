package indexname

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var recTime = time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)

func TestRouterName(t *testing.T) {
	const doc = `{"@timestamp":"2026-02-14T23:59:59.999+00:00","message":"x","kubernetes":{"namespace":"payments","pod":{"name":"p"}},"data_stream":{"dataset":"nginx.access","namespace":"prod"}}`
	tests := []struct {
		name   string
		cfg    Config
		header string
		src    string
		want   string
	}{
		{"header kept", Config{}, "logs-parser-2026.02.14", doc, "logs-parser-2026.02.14"},
		{"header missing uses default on @timestamp", Config{}, "", doc, "logs-2026.02.14"},
		{"header missing, no @timestamp: record time", Config{}, "", `{"message":"x"}`, "logs-2026.03.01"},
		{"fixed", Config{Mode: ModeFixed, Name: "applogs"}, "logs-x", doc, "applogs"},
		{"date UTC", Config{Mode: ModeDate, Name: "logs-%{+yyyy.MM.dd}"}, "ignored", `{"@timestamp":"2026-02-15T01:00:00+02:00"}`, "logs-2026.02.14"},
		{"date hourly", Config{Mode: ModeDate, Name: "k8s-%{+yyyy.MM.dd.HH}"}, "", doc, "k8s-2026.02.14.23"},
		{"date ISO week", Config{Mode: ModeDate, Name: "w-%{+xxxx.ww}"}, "", `{"@timestamp":"2027-01-01T00:00:00Z"}`, "w-2026.53"},
		{"date epoch millis", Config{Mode: ModeDate, Name: "logs-%{+yyyy.MM}"}, "", `{"@timestamp":1767225600000}`, "logs-2026.01"},
		{"date no zone is UTC", Config{Mode: ModeDate}, "", `{"@timestamp":"2026-02-14T10:00:00"}`, "logs-2026.02.14"},
		{"date unparseable: record time", Config{Mode: ModeDate}, "", `{"@timestamp":"yesterday"}`, "logs-2026.03.01"},
		{"field allowed", Config{Mode: ModeField, Field: "kubernetes.namespace", Allow: []string{"payments", "shop"}, Name: "logs-%{value}-%{+yyyy.MM.dd}"}, "", doc, "logs-payments-2026.02.14"},
		{"field flattened", Config{Mode: ModeField, Field: "kubernetes.namespace", Allow: []string{"shop"}, Name: "ns-%{value}"}, "", `{"kubernetes.namespace":"shop"}`, "ns-shop"},
		{"field not allowed", Config{Mode: ModeField, Field: "kubernetes.namespace", Allow: []string{"shop"}, Name: "ns-%{value}", Default: "ns-other"}, "", doc, "ns-other"},
		{"field missing", Config{Mode: ModeField, Field: "kubernetes.namespace", Allow: []string{"shop"}, Name: "ns-%{value}"}, "", `{"@timestamp":"2026-02-14T00:00:00Z"}`, "logs-2026.02.14"},
		{"data stream from document", Config{Mode: ModeDataStream}, "", doc, "logs-nginx.access-prod"},
		{"data stream defaults", Config{Mode: ModeDataStream}, "", `{"message":"x"}`, "logs-generic-default"},
		{"data stream sanitised", Config{Mode: ModeDataStream}, "", `{"data_stream":{"dataset":"My-App","namespace":"Team A"}}`, "logs-my_app-team_a"},
		{"data stream unlisted dataset", Config{Mode: ModeDataStream, Allow: []string{"nginx.access"}, Dataset: "other"}, "", `{"data_stream":{"dataset":"evil"}}`, "logs-other-default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Name(tt.header, []byte(tt.src), recTime); got != tt.want {
				t.Fatalf("Name = %q, want %q", got, tt.want)
			}
			// Same input, same name: replays must hit the same index.
			if got := r.Name(tt.header, []byte(tt.src), recTime); got != tt.want {
				t.Fatalf("second Name = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		key  string
	}{
		{"unknown mode", Config{Mode: "hash"}, "mode"},
		{"fixed with placeholder", Config{Mode: ModeFixed, Name: "logs-%{+yyyy}"}, "name"},
		{"fixed uppercase", Config{Mode: ModeFixed, Name: "Logs"}, "name"},
		{"bad date field", Config{Mode: ModeDate, Name: "logs-%{+yyyy.MMM}"}, "name"},
		{"unknown placeholder", Config{Mode: ModeDate, Name: "logs-%{host}"}, "name"},
		{"unclosed", Config{Mode: ModeDate, Name: "logs-%{+yyyy"}, "name"},
		{"value outside field mode", Config{Mode: ModeDate, Name: "logs-%{value}"}, "name"},
		{"field without field", Config{Mode: ModeField, Name: "a-%{value}", Allow: []string{"a"}}, "field"},
		{"field without allow", Config{Mode: ModeField, Field: "k", Name: "a-%{value}"}, "allow"},
		{"field without value", Config{Mode: ModeField, Field: "k", Name: "a", Allow: []string{"a"}}, "name"},
		{"field bad allowed value", Config{Mode: ModeField, Field: "k", Name: "a-%{value}", Allow: []string{"ok", "Not Ok"}}, "allow[1]"},
		{"datastream bad namespace", Config{Mode: ModeDataStream, Namespace: "a-b"}, "namespace"},
		{"bad default", Config{Default: "_x"}, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tt.key+":") {
				t.Fatalf("error %v, want one naming %q", err, tt.key)
			}
		})
	}
}

func TestPatterns(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{NewDefaultConfig(), "logs-*"},
		{Config{Mode: ModeFixed, Name: "applogs", Default: "applogs"}, "applogs"},
		{Config{Mode: ModeDate, Name: "k8s-%{+yyyy.MM.dd}", Default: "logs-%{+yyyy}"}, "k8s-*,logs-*"},
		{Config{Mode: ModeDataStream}, "logs-*-*"},
	}
	for _, tt := range tests {
		if got := strings.Join(tt.cfg.Patterns(), ","); got != tt.want {
			t.Errorf("%+v: Patterns = %s, want %s", tt.cfg, got, tt.want)
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		src, path, want string
		kind            int
	}{
		{`{"a":"x"}`, "a", "x", kindString},
		{`{"a":{"b":{"c":"deep"}}}`, "a.b.c", "deep", kindString},
		{`{"a":{"b":1},"a.b":"flat"}`, "a.b", "1", kindNumber},
		{`{"a":{"c":1},"a.b":"flat"}`, "a.b", "flat", kindString},
		{`{"a.b":{"c":"mixed"}}`, "a.b.c", "mixed", kindString},
		{`{"skip":[{"a":"no"},"}"],"a":"yes"}`, "a", "yes", kindString},
		{`{"a":"esc\"aped\u00e9"}`, "a", `esc"apedé`, kindString},
		{`{"a":true}`, "a", "", kindNone},
		{`{"a":{"b":"x"}}`, "a", "", kindNone},
		{` { "a" : -1.5e3 } `, "a", "-1.5e3", kindNumber},
		{`{"ab":"x"}`, "a.b", "", kindNone},
		{`["a"]`, "a", "", kindNone},
		{`{"a":`, "a", "", kindNone},
		{`{"b":"unterminated`, "a", "", kindNone},
	}
	for _, tt := range tests {
		v, k := lookup([]byte(tt.src), tt.path)
		if k != tt.kind || string(v) != tt.want {
			t.Errorf("lookup(%s, %s) = %q, %d; want %q, %d", tt.src, tt.path, v, k, tt.want, tt.kind)
		}
	}
}

// FuzzLookup checks that lookup never panics and agrees with encoding/json
// on well-formed documents with nested string fields.
func FuzzLookup(f *testing.F) {
	f.Add([]byte(`{"a":{"b":"x"}}`), "a.b")
	f.Add([]byte(`{"@timestamp":"2026-01-01T00:00:00Z","k":[1,{"x":"}"}]}`), "@timestamp")
	f.Add([]byte(`{"a.b":"\u0041"}`), "a.b")
	f.Fuzz(func(t *testing.T, src []byte, path string) {
		v, k := lookup(src, path)
		if k == kindNone || strings.Contains(path, ".") {
			return
		}
		var m map[string]any
		if json.Unmarshal(src, &m) != nil {
			return
		}
		want, ok := m[path]
		if !ok {
			return
		}
		if s, isStr := want.(string); isStr && k == kindString && string(v) != s && strings.Count(string(src), `"`+path+`"`) == 1 {
			t.Fatalf("lookup(%s, %s) = %q, encoding/json says %q", src, path, v, s)
		}
	})
}

func BenchmarkRouter(b *testing.B) {
	src := []byte(`{"@timestamp":"2026-02-14T23:59:59.999Z","message":"GET /api/v1/items 200","kubernetes":{"namespace":"shop","pod":{"name":"web-7d4b9c-xk2p9"}},"log":{"level":"info"}}`)
	for _, c := range []Config{{Mode: ModeHeader}, {Mode: ModeDate}, {Mode: ModeField, Field: "kubernetes.namespace", Allow: []string{"shop"}, Name: "logs-%{value}-%{+yyyy.MM.dd}"}, {Mode: ModeDataStream}} {
		b.Run(c.Mode, func(b *testing.B) {
			r, err := New(c)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = r.Name("logs-2026.02.14", src, recTime)
			}
		})
	}
}
