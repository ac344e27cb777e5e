package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The chart's default config and the compose stack mount this same file.
const sharedFile = "../../../deploy/helm/sluice/files/shipper.yaml"

func TestSharedConfigLoads(t *testing.T) {
	c, digest, err := Load(sharedFile)
	if err != nil {
		t.Fatalf("Load(%s): %v", sharedFile, err)
	}
	if len(digest) != 64 {
		t.Fatalf("digest %q", digest)
	}
	if c.Kafka.Topic != "logs.raw" || len(c.Tail.Include) == 0 {
		t.Fatalf("unexpected config %+v", c)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"minimal", "kafka: {brokers: [k:9092]}", ""},
		{"bad broker", "kafka: {brokers: [nope]}", "kafka.brokers[0]"},
		{"bad compression", "kafka: {compression: brotli}", "kafka.compression"},
		{"bad glob", "tail: {include: ['[']}", "tail.include[0]"},
		{"tiny buffer", "kafka: {max_buffered_bytes: 10}", "kafka.max_buffered_bytes"},
		{"unknown key", "tail: {inclde: [x]}", "field inclde not found"},
		{"bad duration", "tail: {poll_interval: soon}", "not a duration"},
		{"templated topic without allowlist", "kafka: {topic: 'logs.{{.Namespace}}'}", "kafka.topic_allowlist"},
		{"sasl without user", "kafka: {sasl: {mechanism: plain}}", "kafka.sasl.username"},
		{"bad log level", "log: {level: loud}", "log.level"},
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
