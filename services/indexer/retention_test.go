package indexer

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/bulktest"
	libcfg "github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/services/indexer/config"
	"github.com/sluice-io/sluice/services/indexer/internal/indexname"
)

// TestDefaultRetention checks the retention policy the indexer installs by
// default on each engine, and that it coexists with the engines' own
// templates: narrow patterns, a priority no built-in or Fleet template has.
func TestDefaultRetention(t *testing.T) {
	type template struct {
		Patterns []string `json:"index_patterns"`
		Priority int      `json:"priority"`
		Template struct {
			Settings struct {
				Index struct {
					Lifecycle *struct {
						Name string `json:"name"`
					} `json:"lifecycle"`
				} `json:"index"`
			} `json:"settings"`
		} `json:"template"`
	}
	tests := []struct {
		name   string
		server []bulktest.Option
		tune   func(*config.Config)
		check  func(t *testing.T, srv *bulktest.Server, tm template)
	}{
		{
			name: "elasticsearch: ILM, 30 days, named in the template",
			check: func(t *testing.T, srv *bulktest.Server, tm template) {
				p := string(srv.Policy("ilm/sluice-logs"))
				if !strings.Contains(p, `"delete":{"actions":{"delete":{}},"min_age":"30d"}`) {
					t.Errorf("ILM policy %s", p)
				}
				if tm.Template.Settings.Index.Lifecycle == nil || tm.Template.Settings.Index.Lifecycle.Name != "sluice-logs" {
					t.Errorf("template does not name the policy: %+v", tm.Template.Settings.Index)
				}
				if strings.Join(tm.Patterns, ",") != "logs-2*" || tm.Priority != 150 {
					t.Errorf("template patterns %v priority %d, want logs-2* at 150", tm.Patterns, tm.Priority)
				}
			},
		},
		{
			name:   "opensearch: ISM attached by its ism_template",
			server: []bulktest.Option{bulktest.WithOpenSearch()},
			tune:   func(c *config.Config) { c.Elasticsearch.Flavor = "opensearch" },
			check: func(t *testing.T, srv *bulktest.Server, tm template) {
				p := string(srv.Policy("ism/sluice-logs"))
				for _, want := range []string{`"ism_template":[{"index_patterns":["logs-2*"],"priority":150}]`, `"min_index_age":"30d"`, `{"delete":{}}`} {
					if !strings.Contains(p, want) {
						t.Errorf("ISM policy lacks %s: %s", want, p)
					}
				}
				if tm.Template.Settings.Index.Lifecycle != nil {
					t.Errorf("OpenSearch template names an ILM policy")
				}
			},
		},
		{
			name: "sized by the operator, data streams roll over",
			tune: func(c *config.Config) {
				c.Index = indexname.Config{Mode: indexname.ModeDataStream, Dataset: "app", Namespace: "prod", Allow: []string{"nginx"}}
				c.Elasticsearch.ILM.DeleteAfter = libcfg.Duration(7 * 24 * time.Hour)
			},
			check: func(t *testing.T, srv *bulktest.Server, tm template) {
				p := string(srv.Policy("ilm/sluice-logs"))
				if !strings.Contains(p, `"rollover"`) || !strings.Contains(p, `"min_age":"7d"`) {
					t.Errorf("ILM policy %s", p)
				}
				if strings.Join(tm.Patterns, ",") != "logs-nginx-*,logs-app-*" {
					t.Errorf("data stream patterns %v", tm.Patterns)
				}
			},
		},
		{
			name: "turned off",
			tune: func(c *config.Config) { c.Elasticsearch.ILM = config.ILM{} },
			check: func(t *testing.T, srv *bulktest.Server, tm template) {
				if p := srv.Policy("ilm/sluice-logs"); p != nil {
					t.Errorf("policy installed although turned off: %s", p)
				}
				if tm.Template.Settings.Index.Lifecycle != nil {
					t.Errorf("template names a policy although turned off")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := bulktest.New(t, tt.server...)
			cfg := sinkConfig(srv.URL())
			if tt.tune != nil {
				tt.tune(&cfg)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			// Twice: a restart finds the policy in place (ISM answers 409 to a
			// blind overwrite) and starts all the same.
			for range 2 {
				if _, err := NewSink(context.Background(), cfg); err != nil {
					t.Fatal(err)
				}
			}
			var tm template
			if err := json.Unmarshal(srv.Template(cfg.Elasticsearch.TemplateName), &tm); err != nil {
				t.Fatalf("template: %v", err)
			}
			tt.check(t, srv, tm)
		})
	}
}

// TestRetentionWithoutISM: an OpenSearch without the index-management
// plugin answers "no handler found" for the ISM API; the indexer starts all
// the same and says that no retention policy was installed.
func TestRetentionWithoutISM(t *testing.T) {
	srv := bulktest.New(t, bulktest.WithOpenSearch())
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_plugins/_ism/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"no handler found for uri [` + r.URL.Path + `] and method [` + r.Method + `]"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	cfg := sinkConfig(front.URL)
	cfg.Elasticsearch.Flavor = "opensearch"
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := NewSink(context.Background(), cfg, WithSetupLog(log)); err != nil {
		t.Fatalf("NewSink without ISM: %v", err)
	}
	if !strings.Contains(logs.String(), "no retention policy installed") {
		t.Fatalf("no warning logged:\n%s", logs.String())
	}
	if srv.Template(cfg.Elasticsearch.TemplateName) == nil {
		t.Fatal("template not installed")
	}
}
