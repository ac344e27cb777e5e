// Command grokcheck runs grok conformance cases (JSONL, the format of the
// shared corpus's grok/spec_cases.jsonl) through the grok engine, prints
// every failing case and ends with "N passed, M failed".
//
//	go run ./services/parser/cmd/grokcheck -cases spec_cases.jsonl
//
// It exits 0 whenever the file could be read, failures or not.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/sluice-io/sluice/services/parser/internal/grok/grokspec"
)

func main() {
	casesPath := flag.String("cases", "", "JSONL file of grok spec cases")
	verbose := flag.Bool("v", false, "also list passing cases")
	flag.Parse()
	if *casesPath == "" {
		fmt.Fprintln(os.Stderr, "grokcheck: -cases FILE is required")
		os.Exit(2)
	}
	cases, err := grokspec.Load(*casesPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grokcheck:", err)
		os.Exit(1)
	}
	results, passed, failed := grokspec.NewEvaluator().Run(cases)
	for _, r := range results {
		c := r.Case
		if len(r.Diffs) == 0 {
			if *verbose {
				fmt.Printf("PASS %s: %s\n", c.Source, c.Description)
			}
			continue
		}
		fmt.Printf("FAIL %s: %s\n  mode=%s pattern=%s\n  input=%q\n", c.Source, c.Description, c.Mode, c.Pattern, c.Input)
		for _, d := range r.Diffs {
			fmt.Printf("  - %s\n", strings.ReplaceAll(d, "\n", "\\n"))
		}
	}
	fmt.Printf("%d passed, %d failed\n", passed, failed)
}
