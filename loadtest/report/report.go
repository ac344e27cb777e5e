package report

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/sluice-io/sluice/loadtest/verify"
)

// Report is the outcome of one loadtest invocation.
type Report struct {
	Title   string    `json:"title"`
	Started time.Time `json:"started"`
	// Seconds is the wall time of the whole invocation.
	Seconds float64 `json:"seconds"`
	Host    Host    `json:"host"`
	Runs    []Run   `json:"runs"`
	// Throughput is set by a throughput measurement.
	Throughput *Throughput `json:"throughput,omitempty"`
}

// Host describes the machine, since numbers mean little without it.
type Host struct {
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
}

// ThisHost describes the running machine.
func ThisHost() Host {
	return Host{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
}

// Run is one scenario run: its parameters, what happened when, the
// sampled time series and the verifier's verdict.
type Run struct {
	Name     string `json:"name"`
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed,omitempty"`
	OK       bool   `json:"ok"`
	// Error is why the run could not complete (distinct from a failed
	// verification, which Result shows).
	Error   string  `json:"error,omitempty"`
	Params  Params  `json:"params"`
	Events  []Event `json:"events,omitempty"`
	Series  Series  `json:"series"`
	Seconds float64 `json:"seconds"`
	// DrainSeconds is how long the pipeline took to index everything
	// after the generator stopped.
	DrainSeconds float64       `json:"drain_seconds"`
	Result       verify.Result `json:"result"`
}

// Params are a run's load parameters.
type Params struct {
	Pods        int     `json:"pods"`
	Rate        int     `json:"rate"`
	Seconds     float64 `json:"seconds"`
	Parsers     int     `json:"parsers"`
	LineBytes   int     `json:"line_bytes"`
	RotateBytes int64   `json:"rotate_bytes"`
}

// Event is something the harness did at T seconds into the run.
type Event struct {
	T    float64 `json:"t"`
	What string  `json:"what"`
}

// Series are the harness's samples over the run.
type Series struct {
	// Written and Indexed are cumulative lines; Lag is their difference.
	Written []verify.Point `json:"written,omitempty"`
	Indexed []verify.Point `json:"indexed,omitempty"`
	Lag     []verify.Point `json:"lag,omitempty"`
	// WriteRate and IndexRate are lines per second between samples.
	WriteRate []verify.Point `json:"write_rate,omitempty"`
	IndexRate []verify.Point `json:"index_rate,omitempty"`
	// HeapMB is the process's live heap in MiB.
	HeapMB []verify.Point `json:"heap_mb,omitempty"`
}

// Throughput is an end-to-end throughput measurement.
type Throughput struct {
	Mode        string  `json:"mode"`
	Lines       int64   `json:"lines"`
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	LinesPerSec float64 `json:"lines_per_sec"`
	MBPerSec    float64 `json:"mb_per_sec"`
	// PeakRSSMB is VmHWM from /proc/self/status: the whole process,
	// embedded Kafka (which keeps every record in memory) included.
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// PeakHeapMB is the largest live heap sampled (runtime/metrics
	// /memory/classes/heap/objects:bytes).
	PeakHeapMB float64 `json:"peak_heap_mb"`
	Pods       int     `json:"pods"`
	Parsers    int     `json:"parsers"`
}

// Summary totals the runs.
type Summary struct {
	Runs       int     `json:"runs"`
	Failed     int     `json:"failed"`
	Written    int64   `json:"written"`
	Indexed    int64   `json:"indexed"`
	Lost       int64   `json:"lost"`
	Duplicates int64   `json:"duplicates"`
	Seconds    float64 `json:"seconds"`
}

// Summary totals the runs.
func (r *Report) Summary() Summary {
	s := Summary{Runs: len(r.Runs), Seconds: r.Seconds}
	for _, run := range r.Runs {
		if !run.OK {
			s.Failed++
		}
		s.Written += run.Result.Written
		s.Indexed += run.Result.Indexed
		s.Lost += run.Result.Lost
		s.Duplicates += run.Result.Duplicates
	}
	return s
}

// OK reports whether every run passed.
func (r *Report) OK() bool { return r.Summary().Failed == 0 }

// WriteJSON writes the report, indented, with its summary.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*Report
		Summary Summary `json:"summary"`
	}{r, r.Summary()})
}

// Save writes the report as JSON to jsonPath and as HTML to htmlPath;
// an empty path is skipped.
func (r *Report) Save(jsonPath, htmlPath string) error {
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{{jsonPath, r.WriteJSON}, {htmlPath, r.WriteHTML}} {
		if out.path == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(out.path), 0o755); err != nil {
			return err
		}
		f, err := os.Create(out.path)
		if err != nil {
			return err
		}
		if err := out.write(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}
