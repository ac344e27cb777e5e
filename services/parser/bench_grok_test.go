package parser

import (
	"testing"

	"github.com/sluice-io/sluice/services/parser/config"
)

// BenchmarkServicePathGrok is BenchmarkServicePath with the nginx line
// parsed by a configured grok rule, %{COMBINEDAPACHELOG} in ECS mode,
// instead of the builtin scanner.
//
//	go test -run XXX -bench ServicePathGrok -benchtime 200000x
func BenchmarkServicePathGrok(b *testing.B) {
	benchServicePath(b, func(int) string { return testLine }, func(cfg *config.Config) {
		cfg.Rules = []config.Rule{{Name: "combined", Processors: []config.Processor{
			{Grok: &config.Grok{Patterns: []string{"%{COMBINEDAPACHELOG}"}}},
		}}}
	})
}
