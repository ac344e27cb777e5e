package ecs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// fieldType returns the mapping type at a dotted path of the template.
func fieldType(t *testing.T, body []byte, path string) string {
	t.Helper()
	var tm struct {
		Template struct {
			Mappings struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(body, &tm); err != nil {
		t.Fatal(err)
	}
	props := tm.Template.Mappings.Properties
	parts := strings.Split(path, ".")
	for i, p := range parts {
		var f struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		raw, ok := props[p]
		if !ok {
			return ""
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		if i == len(parts)-1 {
			return f.Type
		}
		props = f.Properties
	}
	return ""
}

func TestTemplate(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		types map[string]string
		check func(t *testing.T, m map[string]any)
	}{
		{
			name: "elasticsearch",
			opts: Options{Flavor: FlavorElasticsearch, Patterns: []string{"k8s-*"}, ILMPolicy: "sluice-logs"},
			types: map[string]string{
				"@timestamp": "date", "message": "text", "kubernetes.namespace": "keyword",
				"kubernetes.pod.name": "keyword", "http.response.status_code": "long",
				"source.ip": "ip", "url.original": "wildcard", "user_agent.original": "keyword",
				"log.offset": "long", "data_stream.dataset": "keyword",
			},
			check: func(t *testing.T, m map[string]any) {
				if got := m["index_patterns"].([]any)[0]; got != "k8s-*" {
					t.Errorf("index_patterns %v", got)
				}
				idx := m["template"].(map[string]any)["settings"].(map[string]any)["index"].(map[string]any)
				if idx["lifecycle"].(map[string]any)["name"] != "sluice-logs" {
					t.Errorf("lifecycle %v", idx["lifecycle"])
				}
				if _, ok := m["data_stream"]; ok {
					t.Error("data_stream set without DataStream")
				}
			},
		},
		{
			name:  "elasticsearch data streams",
			opts:  Options{Flavor: FlavorElasticsearch, DataStream: true},
			types: map[string]string{"data_stream.dataset": "constant_keyword", "url.original": "wildcard"},
			check: func(t *testing.T, m map[string]any) {
				if _, ok := m["data_stream"]; !ok {
					t.Error("no data_stream")
				}
			},
		},
		{
			name:  "opensearch",
			opts:  Options{Flavor: FlavorOpenSearch, DataStream: true},
			types: map[string]string{"url.original": "keyword", "url.path": "keyword", "data_stream.dataset": "keyword", "source.ip": "ip"},
			check: func(t *testing.T, m map[string]any) {
				idx := m["template"].(map[string]any)["settings"].(map[string]any)["index"].(map[string]any)
				if _, ok := idx["lifecycle"]; ok {
					t.Error("lifecycle on OpenSearch")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := Template(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for path, want := range tt.types {
				if got := fieldType(t, body, path); got != want {
					t.Errorf("%s: type %q, want %q", path, got, want)
				}
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if m["priority"].(float64) != 200 {
				t.Errorf("priority %v", m["priority"])
			}
			tt.check(t, m)
		})
	}
	if _, err := Template(Options{Flavor: FlavorOpenSearch, ILMPolicy: "x"}); err == nil {
		t.Error("ILM on OpenSearch accepted")
	}
}

func TestPolicy(t *testing.T) {
	tests := []struct {
		name    string
		opts    PolicyOptions
		want    []string
		wantErr bool
	}{
		{"delete only", PolicyOptions{DeleteAfter: 30 * 24 * time.Hour}, []string{`"delete":{"actions":{"delete":{}},"min_age":"30d"}`}, false},
		{"rollover", PolicyOptions{Rollover: true, DeleteAfter: 36 * time.Hour}, []string{`"rollover":{"max_age":"1d","max_primary_shard_size":"50gb"}`, `"min_age":"36h"`}, false},
		{"nothing", PolicyOptions{}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := Policy(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("%s lacks %s", body, w)
				}
			}
		})
	}
}
