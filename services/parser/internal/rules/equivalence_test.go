package rules

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
)

var update = flag.Bool("update", false, "rewrite golden files")

// indexGolden is shared with the indexer's indexname tests, which check
// that the indexer computes the same name from each document as the
// parser wrote into its sluice-index header.
var indexGolden = filepath.Join("..", "..", "..", "..", "libs", "record", "testdata", "index_names.golden.jsonl")

// indexCase is one line of indexGolden.
type indexCase struct {
	Pattern string          `json:"pattern"`
	Source  json.RawMessage `json:"source"`
	Index   string          `json:"index"`
}

// equivalencePatterns returns the index patterns of the golden file: the
// common ones, and generated combinations of every supported field.
func equivalencePatterns() []string {
	ps := []string{
		"logs-%{+yyyy.MM.dd}", "logs-%{+YYYY.MM.dd}", "k8s-%{+yyyy.MM.dd.HH}", "logs-%{+yyyy.MM}",
		"logs-%{+xxxx.ww}", "logs-%{+yyyy.ww}", "logs-%{+YYYY.ww}", "logs-%{+xxxx.'w'ww}", "applogs",
	}
	r := rand.New(rand.NewPCG(2026, 12))
	calendar := []string{"yyyy", "YYYY", "uuuu", "yy", "MM", "dd", "HH"}
	weeks := []string{"xxxx", "yyyy", "xx", "ww", "HH"}
	seps := []string{".", "-", "_", "'w'"}
	for i := range 8 {
		fields := calendar
		if i%2 == 1 {
			fields = weeks
		}
		p := "g" + fmt.Sprint(i) + "-%{+"
		for k := range 2 + r.IntN(3) {
			if k > 0 {
				p += seps[r.IntN(len(seps))]
			}
			p += fields[r.IntN(len(fields))]
		}
		ps = append(ps, p+"}")
	}
	return ps
}

// equivalenceRecords returns raw records dated around the year boundaries
// where the ISO week-based year and the calendar year differ, one whose
// time a rule takes from the line (in another zone), and a malformed one
// dated by its ingest time.
func equivalenceRecords() []*logsv1.RawRecord {
	raw := func(line string) *logsv1.RawRecord {
		return &logsv1.RawRecord{Line: []byte(line), Stream: logsv1.Stream_STREAM_STDOUT}
	}
	var recs []*logsv1.RawRecord
	for _, at := range []time.Time{
		time.Date(2020, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2021, 1, 3, 12, 0, 0, 0, time.UTC),
		time.Date(2021, 1, 4, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 2, 14, 23, 30, 0, 0, time.UTC),
	} {
		rec := raw("plain line")
		rec.TimeUnixNano = at.UnixNano()
		recs = append(recs, rec)
	}
	own := raw(`{"@timestamp":"2027-01-01T01:30:00+02:00","message":"own time"}`)
	own.ParserHint = "json"
	own.TimeUnixNano = time.Date(2027, 1, 1, 0, 10, 0, 0, time.UTC).UnixNano()
	recs = append(recs, own)
	bad := raw("not a CRI line")
	bad.TimeUnixNano, bad.IngestTimeUnixNano, bad.Flags = 0, time.Date(2021, 1, 3, 23, 0, 0, 0, time.UTC).UnixNano(), []string{"malformed"}
	return append(recs, bad)
}

// TestIndexEquivalenceGolden renders every pattern for every record as the
// parser does and compares with the golden file the indexer's tests read.
// Run with -update after an intended change of the contract.
func TestIndexEquivalenceGolden(t *testing.T) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	rs := []config.Rule{
		{Name: "json", Match: config.Match{Hint: "json"}, Builtin: "json"},
		{Name: "none", Builtin: "none"},
	}
	for _, p := range equivalencePatterns() {
		e, err := Compile(Options{Rules: rs, Index: p})
		if err != nil {
			t.Fatalf("Compile(%q): %v", p, err)
		}
		for _, rec := range equivalenceRecords() {
			var d document.Doc
			idx, err := e.Apply(e.Select(rec), rec, &d)
			if err != nil {
				t.Fatal(err)
			}
			if err := enc.Encode(indexCase{Pattern: p, Source: d.AppendJSON(nil), Index: idx}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if *update {
		if err := os.WriteFile(indexGolden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(indexGolden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	lines := bytes.Count(out.Bytes(), []byte("\n"))
	got := bufio.NewScanner(&out)
	got.Buffer(nil, 1<<20)
	wantLines := bytes.Split(bytes.TrimSuffix(want, []byte("\n")), []byte("\n"))
	for i := 0; got.Scan(); i++ {
		if i >= len(wantLines) {
			t.Fatalf("line %d: %s not in the golden file", i+1, got.Text())
		}
		if g := got.Text(); g != string(wantLines[i]) {
			t.Fatalf("line %d:\n got  %s\n want %s\n(the index naming contract changed; run with -update only if that is intended)", i+1, g, wantLines[i])
		}
	}
	if lines != len(wantLines) {
		t.Fatalf("%d lines, golden file has %d", lines, len(wantLines))
	}
}
