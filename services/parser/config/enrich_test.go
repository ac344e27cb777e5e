package config

import (
	"strings"
	"testing"
)

// TestApplogAndEnrichKeys covers the keys of the application-log mapping
// and of the user agent and geoip enrichment.
func TestApplogAndEnrichKeys(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{"auto with target", "rules: [{name: a, builtin: auto, target: root, timezone: Europe/Berlin}]", ""},
		{"target on nginx", "rules: [{name: a, builtin: nginx, target: root}]", "rules[0].target"},
		{"nginx with geoip", "rules: [{name: a, builtin: nginx, geoip_databases: [/geo/City.mmdb]}]", ""},
		{"geoip on json", "rules: [{name: a, builtin: json, geoip_databases: [/geo/City.mmdb]}]", "rules[0].geoip_databases"},
		{"processors", "rules: [{name: a, processors: [{json: {ecs: true, target: fields}}, {user_agent: {field: ua}}, {geoip: {field: client.ip, target: client, databases: [/g.mmdb]}}]}]", ""},
		{"two in one step", "rules: [{name: a, processors: [{user_agent: {}, geoip: {databases: [/g.mmdb]}}]}]", "rules[0].processors[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Parse([]byte("kafka: {brokers: [k:9092]}\n" + tt.yaml))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if len(c.Rules) != 1 {
					t.Fatalf("%d rules", len(c.Rules))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
	c, _, err := Parse([]byte("kafka: {brokers: [k:9092]}\nrules: [{name: a, processors: [{json: {ecs: true, target: root}}, {geoip: {databases: [/a, /b]}}]}]"))
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Rules[0].Processors; !p[0].JSON.ECS || p[0].JSON.Target != "root" || len(p[1].GeoIP.Databases) != 2 {
		t.Errorf("decoded %+v %+v", p[0].JSON, p[1].GeoIP)
	}
}
