package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"time"

	libconfig "github.com/sluice-io/sluice/libs/config"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
	"github.com/sluice-io/sluice/services/parser/internal/rules"
)

// parseCommand parses lines from in with one rule and writes one JSON
// document per line to out. Lines that fail the rule are still written,
// tagged _parsefailure, as the service would index them.
func parseCommand(args []string, in io.Reader, out, errOut io.Writer) int {
	fs := flag.NewFlagSet("parse", flag.ContinueOnError)
	fs.SetOutput(errOut)
	rule := fs.String("rule", "auto", "builtin rule name or a rule name from -config")
	configFile := fs.String("config", "", "parser configuration whose rules -rule may name")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var rcs []config.Rule
	patterns := map[string]string{}
	if *configFile != "" {
		// Only the rules matter here: a file holding nothing else (no
		// brokers) is fine, and compiling the rules below checks them.
		cfg := config.NewDefault()
		if _, err := libconfig.Load(*configFile, &cfg); err != nil {
			fmt.Fprintf(errOut, "parse: %v\n", err)
			return 2
		}
		rcs, patterns = cfg.Rules, cfg.Patterns
	}
	found := false
	for _, r := range rcs {
		found = found || r.Name == *rule
	}
	if !found {
		rcs = append(rcs, config.Rule{Name: *rule, Builtin: *rule})
	}
	engine, err := rules.Compile(rules.Options{Rules: rcs, Patterns: patterns, Index: "logs"})
	if err != nil {
		fmt.Fprintf(errOut, "parse: %v\n", err)
		return 2
	}
	r := engine.Rule(*rule)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	w := bufio.NewWriter(out)
	defer w.Flush()
	var doc document.Doc
	var buf []byte
	offset := int64(0)
	for sc.Scan() {
		line := sc.Bytes()
		raw := &logsv1.RawRecord{Line: line, TimeUnixNano: time.Now().UnixNano(), Stream: logsv1.Stream_STREAM_STDOUT,
			Source: &logsv1.Source{Path: "stdin", Offset: offset}}
		offset += int64(len(line)) + 1
		if _, err := engine.Apply(r, raw, &doc); err != nil {
			fmt.Fprintf(errOut, "parse: line at byte %d: %v\n", raw.Source.Offset, err)
			continue
		}
		buf = doc.AppendJSON(buf[:0])
		buf = append(buf, '\n')
		w.Write(buf)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(errOut, "parse: reading input: %v\n", err)
		return 1
	}
	return 0
}
