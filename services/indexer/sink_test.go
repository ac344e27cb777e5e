package indexer

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/bulktest"
	libcfg "github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/services/indexer/config"
	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
	"github.com/sluice-io/sluice/services/indexer/internal/indexname"
)

// appMappingOf returns the mapping of app in an installed template body,
// as compact JSON with sorted keys.
func appMappingOf(t *testing.T, body []byte) string {
	t.Helper()
	var tm struct {
		Template struct {
			Mappings struct {
				Properties map[string]any `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(body, &tm); err != nil {
		t.Fatalf("template %s: %v", body, err)
	}
	b, err := json.Marshal(tm.Template.Mappings.Properties["app"])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// deadURL returns an http URL nothing listens on.
func deadURL(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func sinkConfig(urls ...string) config.Config {
	cfg := config.NewDefault()
	// Validate wants a broker; the sink never dials it.
	cfg.Kafka.Brokers = []string{"127.0.0.1:9092"}
	cfg.Elasticsearch.URLs = urls
	cfg.Elasticsearch.SetupTimeout = libcfg.Duration(time.Minute) // the success paths return at once
	cfg.Elasticsearch.BackoffMin = libcfg.Duration(10 * time.Millisecond)
	return cfg
}

// TestNewSink covers the connection settings end to end through the
// config: authentication, TLS with a custom CA, failover, OpenSearch,
// template and ILM installs, and errors that say what to fix.
func TestNewSink(t *testing.T) {
	tests := []struct {
		name    string
		server  []bulktest.Option
		tune    func(cfg *config.Config, srv *bulktest.Server)
		wantErr string
		// waits: the error comes after setup_timeout; only an engine that
		// does not answer is worth waiting for, every other refusal names a
		// setting and fails at once.
		waits bool
		check func(t *testing.T, srv *bulktest.Server)
	}{
		{name: "defaults install the template", check: func(t *testing.T, srv *bulktest.Server) {
			var tm struct {
				Patterns []string `json:"index_patterns"`
			}
			if err := json.Unmarshal(srv.Template("sluice-logs"), &tm); err != nil || strings.Join(tm.Patterns, ",") != "logs-2*" {
				t.Fatalf("template %s (%v)", srv.Template("sluice-logs"), err)
			}
			if got := appMappingOf(t, srv.Template("sluice-logs")); got != `{"ignore_above":1024,"type":"flattened"}` {
				t.Fatalf("app mapped %s on Elasticsearch 8, want flattened", got)
			}
		}},
		{
			name:   "Elasticsearch before flattened gets an unindexed app",
			server: []bulktest.Option{bulktest.WithVersion("7.2.1")},
			check: func(t *testing.T, srv *bulktest.Server) {
				if got := appMappingOf(t, srv.Template("sluice-logs")); got != `{"dynamic":false,"type":"object"}` {
					t.Fatalf("app mapped %s on Elasticsearch 7.2, want an object with dynamic: false", got)
				}
			},
		},
		{
			name:   "OpenSearch before flat_object gets an unindexed app",
			server: []bulktest.Option{bulktest.WithOpenSearch(), bulktest.WithVersion("2.6.0")},
			tune:   func(c *config.Config, _ *bulktest.Server) { c.Elasticsearch.Flavor = "opensearch" },
			check: func(t *testing.T, srv *bulktest.Server) {
				if got := appMappingOf(t, srv.Template("sluice-logs")); got != `{"dynamic":false,"type":"object"}` {
					t.Fatalf("app mapped %s on OpenSearch 2.6, want an object with dynamic: false", got)
				}
			},
		},
		{
			name:   "basic auth",
			server: []bulktest.Option{bulktest.WithBasicAuth("elastic", "s3cret")},
			tune: func(c *config.Config, _ *bulktest.Server) {
				c.Elasticsearch.Username, c.Elasticsearch.Password = "elastic", "s3cret"
			},
		},
		{
			name:   "basic auth wrong password",
			server: []bulktest.Option{bulktest.WithBasicAuth("elastic", "s3cret")},
			tune: func(c *config.Config, _ *bulktest.Server) {
				c.Elasticsearch.Username, c.Elasticsearch.Password = "elastic", "nope"
			},
			wantErr: "check indexer.elasticsearch.username/password",
		},
		{
			name:   "API key",
			server: []bulktest.Option{bulktest.WithAPIKey("a2V5OnNlY3JldA==")},
			tune:   func(c *config.Config, _ *bulktest.Server) { c.Elasticsearch.APIKey = "a2V5OnNlY3JldA==" },
		},
		{
			name:   "TLS with a custom CA",
			server: []bulktest.Option{bulktest.WithTLS()},
			tune: func(c *config.Config, srv *bulktest.Server) {
				c.Elasticsearch.URLs = []string{srv.URL()}
				c.Elasticsearch.CAFile = srv.CACertFile()
			},
		},
		{
			name:   "TLS without the CA",
			server: []bulktest.Option{bulktest.WithTLS()},
			tune: func(c *config.Config, srv *bulktest.Server) {
				// Long enough that a retried certificate error would show
				// as "gave up after elasticsearch.setup_timeout".
				c.Elasticsearch.SetupTimeout = libcfg.Duration(time.Minute)
			},
			wantErr: "TLS certificate is not accepted (set indexer.elasticsearch.ca_file",
		},
		{
			name: "failover past a dead node",
			tune: func(c *config.Config, srv *bulktest.Server) { c.Elasticsearch.URLs = []string{deadURL(t), srv.URL()} },
		},
		{
			name:   "OpenSearch flavor",
			server: []bulktest.Option{bulktest.WithOpenSearch()},
			tune:   func(c *config.Config, _ *bulktest.Server) { c.Elasticsearch.Flavor = "opensearch" },
			check: func(t *testing.T, srv *bulktest.Server) {
				if !strings.Contains(string(srv.Template("sluice-logs")), `"original":{"type":"keyword"`) {
					t.Fatalf("OpenSearch template kept wildcard: %s", srv.Template("sluice-logs"))
				}
				if got := appMappingOf(t, srv.Template("sluice-logs")); got != `{"type":"flat_object"}` {
					t.Fatalf("app mapped %s on OpenSearch 2.17, want flat_object", got)
				}
			},
		},
		{
			name:    "OpenSearch without the flavor",
			server:  []bulktest.Option{bulktest.WithOpenSearch()},
			wantErr: "set indexer.elasticsearch.flavor: opensearch",
		},
		{
			name: "data streams template",
			tune: func(c *config.Config, _ *bulktest.Server) {
				c.Index = indexname.Config{Mode: indexname.ModeDataStream}
				c.Elasticsearch.TemplateName = "sluice-ds"
			},
			check: func(t *testing.T, srv *bulktest.Server) {
				if s := string(srv.Template("sluice-ds")); !strings.Contains(s, `"data_stream":{}`) || !strings.Contains(s, `"logs-*-*"`) {
					t.Fatalf("template %s", s)
				}
			},
		},
		{
			name: "engine unreachable",
			tune: func(c *config.Config, _ *bulktest.Server) {
				c.Elasticsearch.URLs = []string{deadURL(t)}
				c.Elasticsearch.SetupTimeout = libcfg.Duration(200 * time.Millisecond)
			},
			wantErr: "gave up after elasticsearch.setup_timeout",
			waits:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := bulktest.New(t, tt.server...)
			cfg := sinkConfig(srv.URL())
			if tt.tune != nil {
				tt.tune(&cfg, srv)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			s, err := NewSink(context.Background(), cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if !tt.waits && strings.Contains(err.Error(), "gave up after") {
					t.Fatalf("error %v: retried until setup_timeout; a refusal that names a setting fails at once", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			res := s.Index(context.Background(), []bulk.Doc{{Index: "logs-x", ID: "1", Source: []byte(`{"a":1}`)}})
			if res[0].Outcome != bulk.Created {
				t.Fatalf("result %+v", res[0])
			}
			if tt.check != nil {
				tt.check(t, srv)
			}
		})
	}
}
