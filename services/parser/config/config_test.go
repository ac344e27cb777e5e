package config

import (
	"strings"
	"testing"
)

// The chart's default config and the compose stack mount this same file.
const sharedFile = "../../../deploy/helm/sluice/files/parser.yaml"

func TestSharedConfigLoads(t *testing.T) {
	c, _, err := Load(sharedFile)
	if err != nil {
		t.Fatalf("Load(%s): %v", sharedFile, err)
	}
	if len(c.Rules) == 0 {
		t.Fatal("no rules in the shared parser config")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"minimal", "rules: [{name: a, builtin: nginx}]", ""},
		{"rule without name", "rules: [{builtin: nginx}]", "rules[0].name"},
		{"duplicate rule", "rules: [{name: a, builtin: nginx}, {name: a, builtin: json}]", "rules[1].name"},
		{"rule without processors", "rules: [{name: a}]", "rules[0]"},
		{"two processors in one step", "rules: [{name: a, processors: [{remove: [x], add: {y: z}}]}]", "rules[0].processors[0]"},
		{"bad on_failure", "rules: [{name: a, builtin: nginx, on_failure: drop}]", "rules[0].on_failure"},
		{"missing topic", "kafka: {brokers: [k:9092], output_topic: ''}", "kafka.output_topic"},
		{"no brokers", "kafka: {group: g}", "kafka.brokers: at least one broker"},
		{"bad budget", "budget: 0s", "budget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.yaml
			if !strings.Contains(doc, "kafka:") {
				doc = "kafka: {brokers: [k:9092]}\n" + doc
			}
			_, _, err := Parse([]byte(doc))
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
