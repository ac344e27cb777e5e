package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The chart's default config and the compose stack mount this same file.
const sharedFile = "../../../deploy/helm/sluice/files/indexer.yaml"

func TestSharedConfigLoads(t *testing.T) {
	c, _, err := Load(sharedFile)
	if err != nil {
		t.Fatalf("Load(%s): %v", sharedFile, err)
	}
	if c.Output != "elasticsearch" || len(c.Elasticsearch.URLs) == 0 {
		t.Fatalf("unexpected config %+v", c)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"defaults", "", ""},
		{"file output", "output: file\nfile: {path: /tmp/x.ndjson}", ""},
		{"bad output", "output: s3", "output"},
		{"bad url", "elasticsearch: {urls: ['localhost:9200']}", "elasticsearch.urls[0]"},
		{"bad flavor", "elasticsearch: {flavor: solr}", "elasticsearch.flavor"},
		{"key and user", "elasticsearch: {api_key: k, username: u}", "elasticsearch.api_key"},
		{"zero docs", "batch: {max_docs: 0}", "batch.max_docs"},
		{"too concurrent", "batch: {concurrency: 1000}", "batch.concurrency"},
		{"byte size", "batch: {max_bytes: 10MiB}", ""},
		{"bad byte size", "batch: {max_bytes: lots}", "not a byte size"},
		{"index date", "index: {mode: date, name: 'k8s-%{+yyyy.MM}'}", ""},
		{"index field", "index: {mode: field, field: kubernetes.namespace, allow: [shop], name: 'logs-%{value}'}", ""},
		{"index datastream", "index: {mode: datastream, dataset: nginx}", ""},
		{"index bad mode", "index: {mode: hash}", "index.mode"},
		{"index field without allow", "index: {mode: field, field: k, name: 'x-%{value}'}", "index.allow"},
		{"index bad pattern", "index: {mode: date, name: 'logs-%{+yyyy.MMM}'}", "index.name"},
		{"backoff order", "elasticsearch: {backoff_min: 2s, backoff_max: 1s}", "elasticsearch.backoff_max"},
		{"ilm", "elasticsearch: {ilm: {policy: sluice, delete_after: 720h}}", ""},
		{"ism on opensearch", "elasticsearch: {flavor: opensearch, ilm: {policy: sluice, delete_after: 720h}}", ""},
		{"retention off", "elasticsearch: {ilm: {policy: '', delete_after: 0s}}", ""},
		{"ilm deletes nothing", "elasticsearch: {ilm: {policy: sluice, delete_after: 0s}}", "elasticsearch.ilm.delete_after"},
		{"ilm rollover on data streams", "index: {mode: datastream}\nelasticsearch: {ilm: {policy: sluice}}", ""},
		{"template without name", "elasticsearch: {template_name: ''}", "elasticsearch.template_name"},
		{"min over max concurrency", "batch: {concurrency: 2, min_concurrency: 3}", "batch.min_concurrency"},
		{"no brokers", "kafka: {brokers: []}", "kafka.brokers: at least one broker"},
		{"every error listed", "batch: {max_docs: 0, concurrency: 1000}\nelasticsearch: {flavor: solr}", "batch.concurrency: 1000 is outside 1..64\nbatch.max_docs: must be positive\nelasticsearch.flavor"},
		{"memory limit", "memory_limit: 96MiB", ""},
		{"pprof", "admin: {pprof: true}", ""},
		{"pprof without metrics", "admin: {pprof: true, metrics_listen: ''}", "admin.pprof"},
		{"auth config", "elasticsearch: {urls: ['https://a:9200', 'https://b:9200'], bearer_token: t, ca_file: /etc/ca.pem}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			doc := tt.yaml
			if !strings.Contains(doc, "kafka:") {
				doc = "kafka: {brokers: [k:9092]}\n" + doc
			}
			if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := Load(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}
