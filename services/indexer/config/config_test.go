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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
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
