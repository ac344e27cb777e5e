// Command multilinecheck runs multiline conformance cases (the shared
// corpus's cases.jsonl format) through the shipper's joiner, each case's
// peer settings translated into a Sluice rule, and prints every failure
// with its details, then "N passed, M failed". It exits 1 when a case
// fails and 2 when the cases cannot be read.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/sluice-io/sluice/services/shipper/internal/multiline"
)

func main() {
	file := flag.String("cases", "", "cases file (JSON lines, the format of multiline/cases.jsonl)")
	verbose := flag.Bool("v", false, "also list the cases that pass")
	flag.Parse()
	if *file == "" {
		fmt.Fprintln(os.Stderr, "multilinecheck: -cases FILE is required")
		os.Exit(2)
	}
	f, err := os.Open(*file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "multilinecheck:", err)
		os.Exit(2)
	}
	cases, err := multiline.ReadCases(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "multilinecheck: %s: %v\n", *file, err)
		os.Exit(2)
	}
	res := multiline.Check(cases)
	for _, r := range res.Results {
		if r.Failure != "" {
			fmt.Println(r.Failure)
		} else if *verbose {
			fmt.Printf("PASS %s\n", r.ID)
		}
	}
	fmt.Printf("%d passed, %d failed\n", res.Passed, res.Failed)
	if res.Failed > 0 {
		os.Exit(1)
	}
}
