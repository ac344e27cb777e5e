package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/loadtest/verify"
)

func sample() *Report {
	pts := []verify.Point{{T: 0, V: 0}, {T: 1, V: 100}, {T: 2, V: 250}}
	return &Report{
		Title: "test", Started: time.Unix(0, 0), Host: ThisHost(),
		Runs: []Run{
			{Name: "steady", OK: true, Params: Params{Pods: 2, Rate: 100},
				Events: []Event{{T: 1, What: "kill <indexer>"}},
				Series: Series{WriteRate: pts, IndexRate: pts, Lag: pts},
				Result: verify.Result{Written: 10, Indexed: 10, LatencyP50: pts}},
			{Name: "broken", Result: verify.Result{Written: 10, Indexed: 9, Lost: 1, LostSamples: []string{"a/b#3"}}},
		},
	}
}

func TestWriteHTML(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"<svg", "<polyline", "1 of 2 runs failed", "kill &lt;indexer&gt;", "a/b#3", `id="steady"`} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, banned := range []string{"<script", "src=\"http", "href=\"http"} {
		if strings.Contains(out, banned) {
			t.Errorf("HTML is not self-contained: has %q", banned)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := sample().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Summary Summary `json:"summary"`
		Runs    []Run   `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Summary.Runs != 2 || got.Summary.Failed != 1 || got.Summary.Lost != 1 || len(got.Runs[0].Series.Lag) != 3 {
		t.Fatalf("summary %+v", got.Summary)
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{{0.7, 1}, {1, 1}, {1.5, 2}, {3, 5}, {7, 10}, {120, 200}, {4999, 5000}} {
		if got := niceCeil(tt.in); got != tt.want {
			t.Errorf("niceCeil(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
