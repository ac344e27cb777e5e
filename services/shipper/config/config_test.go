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
		{"create topics", "kafka: {brokers: [k:9092], create_topics: {enabled: true, partitions: 3, max_message_bytes: 16MiB}}", ""},
		{"create topics without partitions", "kafka: {create_topics: {enabled: true, partitions: 0}}", "kafka.create_topics.partitions"},
		{"create topics tiny limit", "kafka: {create_topics: {enabled: true, max_message_bytes: 100}}", "kafka.create_topics.max_message_bytes"},
		{"zero stall threshold", "kafka: {stall_threshold: 0s}", "kafka.stall_threshold"},
		{"namespace weight", "kafka: {brokers: [k:9092]}\ntail: {namespace_weights: {web: 5}}", ""},
		{"bad namespace weight", "tail: {namespace_weights: {web: 0}}", "tail.namespace_weights.web"},
		{"bad glob", "tail: {include: ['[']}", "tail.include[0]"},
		{"tiny buffer", "kafka: {max_buffered_bytes: 10}", "kafka.max_buffered_bytes"},
		{"memory limit", "kafka: {brokers: [k:9092]}\nmemory_limit: 64MiB", ""},
		{"negative memory limit", "memory_limit: -1", "memory_limit"},
		{"unknown key", "tail: {inclde: [x]}", `tail.inclde: unknown field "inclde" (did you mean "include"?)`},
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
