package indexname

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestParserEquivalence reads the documents the parser wrote with the
// index it put in their sluice-index header (the golden file is written by
// the parser's rules tests, over generated patterns and timestamps around
// the year boundaries) and checks the indexer names each the same way: in
// date mode from the document alone, and in header mode by keeping the
// header. A replayed or re-routed record therefore lands in the index the
// parser chose.
func TestParserEquivalence(t *testing.T) {
	path := filepath.Join("..", "..", "..", "..", "libs", "record", "testdata", "index_names.golden.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (written by services/parser/internal/rules TestIndexEquivalenceGolden)", err)
	}
	defer f.Close()
	// A record time far from every document's: a name computed from it
	// instead of the document's @timestamp would not match.
	recTime := time.Date(1999, 6, 15, 12, 0, 0, 0, time.UTC)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	routers := map[string]*Router{}
	for sc.Scan() {
		n++
		var c struct {
			Pattern string          `json:"pattern"`
			Source  json.RawMessage `json:"source"`
			Index   string          `json:"index"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		r := routers[c.Pattern]
		if r == nil {
			cfg := Config{Mode: ModeDate, Name: c.Pattern}
			if _, err := New(cfg); err != nil {
				// A literal pattern is fixed mode.
				cfg.Mode = ModeFixed
			}
			if r, err = New(cfg); err != nil {
				t.Fatalf("line %d: %v", n, err)
			}
			routers[c.Pattern] = r
		}
		if got := r.Name("", c.Source, recTime); got != c.Index {
			t.Errorf("line %d: pattern %q on %s: indexer %q, parser %q", n, c.Pattern, c.Source, got, c.Index)
		}
		hr, _ := New(Config{Mode: ModeHeader})
		if got := hr.Name(c.Index, c.Source, recTime); got != c.Index {
			t.Errorf("line %d: header mode renamed %q to %q", n, c.Index, got)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("only %d cases in %s", n, path)
	}
}
