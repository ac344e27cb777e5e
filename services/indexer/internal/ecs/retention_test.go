package ecs

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestPatterns(t *testing.T) {
	tests := []struct {
		name     string
		names    []string
		ds       bool
		datasets []string
		want     []string
	}{
		{"default daily", []string{"logs-%{+yyyy.MM.dd}", "logs-%{+yyyy.MM.dd}"}, false, nil, []string{"logs-2*"}},
		{"iso weeks", []string{"logs-%{+xxxx.ww}"}, false, nil, []string{"logs-2*"}},
		{"value first", []string{"k8s-%{value}-%{+yyyy.MM}", "k8s-other-%{+yyyy.MM}"}, false, nil, []string{"k8s-*", "k8s-other-2*"}},
		{"fixed", []string{"all-logs"}, false, nil, []string{"all-logs"}},
		{"data stream datasets", nil, true, []string{"nginx", "generic", "nginx"}, []string{"logs-nginx-*", "logs-generic-*"}},
		{"data stream any dataset", nil, true, nil, []string{"logs-*-*"}},
	}
	for _, tt := range tests {
		if got := Patterns(tt.names, tt.ds, tt.datasets); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Patterns = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestPatternsAvoidBuiltins checks the default patterns against the names
// Elasticsearch's built-in and Fleet's templates are for: none of them may
// match Sluice's template.
func TestPatternsAvoidBuiltins(t *testing.T) {
	pats := Patterns([]string{"logs-%{+yyyy.MM.dd}"}, false, nil)
	for _, name := range []string{"logs-nginx.access-default", "logs-generic-default", "logs-system.syslog-prod",
		"logs-elastic_agent-default", "metrics-system.cpu-default"} {
		for _, p := range pats {
			if wildcardMatch(p, name) {
				t.Errorf("pattern %s claims %s", p, name)
			}
		}
	}
	if !wildcardMatch(pats[0], "logs-2026.12.04") {
		t.Errorf("pattern %s misses the default index logs-2026.12.04", pats[0])
	}
	if DefaultPriority == 100 || DefaultPriority == 200 {
		t.Errorf("DefaultPriority %d equals a built-in or Fleet priority", DefaultPriority)
	}
}

// wildcardMatch is Elasticsearch's simple pattern match (only *).
func wildcardMatch(p, s string) bool {
	if p == "" {
		return s == ""
	}
	if p[0] == '*' {
		for i := 0; i <= len(s); i++ {
			if wildcardMatch(p[1:], s[i:]) {
				return true
			}
		}
		return false
	}
	return s != "" && p[0] == s[0] && wildcardMatch(p[1:], s[1:])
}

func TestISMPolicy(t *testing.T) {
	b, err := ISMPolicy(ISMOptions{Patterns: []string{"logs-2*"}, Priority: 150, DeleteAfter: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"policy":{"default_state":"hot","description":"Sluice log retention (managed by sluice)",` +
		`"ism_template":[{"index_patterns":["logs-2*"],"priority":150}],` +
		`"states":[{"actions":[],"name":"hot","transitions":[{"conditions":{"min_index_age":"30d"},"state_name":"delete"}]},` +
		`{"actions":[{"delete":{}}],"name":"delete","transitions":[]}]}}`
	if string(b) != want {
		t.Fatalf("ISMPolicy =\n%s\nwant\n%s", b, want)
	}
	b, err = ISMPolicy(ISMOptions{Rollover: true})
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	states := v["policy"].(map[string]any)["states"].([]any)
	if len(states) != 1 || len(states[0].(map[string]any)["actions"].([]any)) != 1 {
		t.Fatalf("rollover-only policy: %s", b)
	}
	if _, err := ISMPolicy(ISMOptions{}); err == nil {
		t.Fatal("a policy that does nothing was accepted")
	}
}
