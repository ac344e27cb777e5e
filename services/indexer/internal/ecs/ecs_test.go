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
				"log.offset": "long", "data_stream.dataset": "keyword", "app": "object",
			},
			check: func(t *testing.T, m map[string]any) {
				if app := appField(m); app["dynamic"] != false {
					t.Errorf("app %v, want an object with dynamic: false", app)
				}
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
			name:  "elasticsearch flattened app",
			opts:  Options{Flavor: FlavorElasticsearch, App: AppFlattened},
			types: map[string]string{"app": "flattened", "url.original": "wildcard"},
			check: func(t *testing.T, m map[string]any) {
				if app := appField(m); app["ignore_above"] != float64(1024) || app["dynamic"] != nil {
					t.Errorf("app %v, want flattened with ignore_above 1024", app)
				}
			},
		},
		{
			name:  "opensearch flat_object app",
			opts:  Options{Flavor: FlavorOpenSearch, App: AppFlatObject},
			types: map[string]string{"app": "flat_object", "url.original": "keyword"},
			check: func(t *testing.T, m map[string]any) {
				if app := appField(m); len(app) != 1 {
					t.Errorf("app %v, want only the flat_object type", app)
				}
			},
		},
		{
			name:  "opensearch unindexed app",
			opts:  Options{Flavor: FlavorOpenSearch, App: AppUnindexed},
			types: map[string]string{"app": "object"},
			check: func(t *testing.T, m map[string]any) {
				if app := appField(m); app["dynamic"] != false {
					t.Errorf("app %v, want an object with dynamic: false", app)
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
	for _, bad := range []Options{
		{Flavor: FlavorOpenSearch, ILMPolicy: "x"},
		{Flavor: FlavorOpenSearch, App: AppFlattened},
		{Flavor: FlavorElasticsearch, App: AppFlatObject},
		{Flavor: FlavorElasticsearch, App: "nested"},
	} {
		if _, err := Template(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// appField returns the mapping of app in a template body.
func appField(m map[string]any) map[string]any {
	props := m["template"].(map[string]any)["mappings"].(map[string]any)["properties"].(map[string]any)
	app, _ := props["app"].(map[string]any)
	return app
}

func TestAppMappingFor(t *testing.T) {
	tests := []struct {
		flavor, version, buildFlavor string
		want                         AppMapping
	}{
		{FlavorElasticsearch, "8.19.21", "default", AppFlattened},
		{FlavorElasticsearch, "8.0.0", "", AppFlattened},
		{FlavorElasticsearch, "9.1.0", "default", AppFlattened},
		{"", "8.15.0", "default", AppFlattened},
		{FlavorElasticsearch, "7.17.9", "default", AppFlattened},
		{FlavorElasticsearch, "7.3.0", "default", AppFlattened},
		{FlavorElasticsearch, "7.2.1", "default", AppUnindexed},
		{FlavorElasticsearch, "7.10.2", "oss", AppUnindexed},
		{FlavorElasticsearch, "6.8.23", "default", AppUnindexed},
		{FlavorOpenSearch, "2.19.1", "", AppFlatObject},
		{FlavorOpenSearch, "2.7.0", "", AppFlatObject},
		{FlavorOpenSearch, "3.0.0", "", AppFlatObject},
		{FlavorOpenSearch, "2.6.0", "", AppUnindexed},
		{FlavorOpenSearch, "1.3.20", "", AppUnindexed},
		// OpenSearch answering as Elasticsearch 7.10.2 (compatibility.override_main_response_version).
		{FlavorOpenSearch, "7.10.2", "", AppUnindexed},
		{FlavorElasticsearch, "", "default", AppUnindexed},
		{FlavorElasticsearch, "eight", "default", AppUnindexed},
		{FlavorElasticsearch, "8", "default", AppUnindexed},
		{"solr", "9.0.0", "", AppUnindexed},
	}
	for _, tt := range tests {
		if got := AppMappingFor(tt.flavor, tt.version, tt.buildFlavor); got != tt.want {
			t.Errorf("AppMappingFor(%q, %q, %q) = %q, want %q", tt.flavor, tt.version, tt.buildFlavor, got, tt.want)
		}
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
