package main

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/loadtest/harness"
)

func TestPlan(t *testing.T) {
	base := harness.Config{Duration: 10 * time.Second, Rate: 100, Seed: 1}
	tests := []struct {
		in      string
		names   []string
		wantErr string
	}{
		{in: "smoke", names: []string{"smoke-steady", "smoke-kill-429"}},
		{in: "steady, kill-indexer", names: []string{"steady", "kill-indexer"}},
		{in: "all", names: strings.Split(strings.ReplaceAll(harness.Names(), " ", ""), ",")},
		{in: "nope", wantErr: `unknown scenario "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			cfgs, err := plan(tt.in, base)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range cfgs {
				name := c.Name
				if name == "" {
					name = c.Scenario
				}
				names = append(names, name)
			}
			if strings.Join(names, ",") != strings.Join(tt.names, ",") {
				t.Fatalf("planned %v, want %v", names, tt.names)
			}
		})
	}
}
