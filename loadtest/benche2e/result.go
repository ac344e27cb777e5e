package benche2e

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluice-io/sluice/loadtest/report"
	"github.com/sluice-io/sluice/loadtest/verify"
)

// Result is one run's outcome, as written to bench-e2e.json.
type Result struct {
	Started    time.Time `json:"started"`
	Engine     string    `json:"engine"` // "discard" or "<flavor> <url>"
	Duration   float64   `json:"duration_s"`
	Rate       float64   `json:"target_rate"` // 0: as fast as possible
	Partitions int       `json:"partitions"`
	Pods       int       `json:"pods"`
	CPUs       int       `json:"cpus"`
	// LoadAvg is the 1-minute load average when the run started: the
	// figures of a run on a busy machine are noisy.
	LoadAvg float64 `json:"load_avg_1m"`

	Counts
	// Lost is lines written and not delivered when the run ended, which
	// DrainEnd says: "complete" (nothing outstanding), "stalled" (nothing
	// arrived for a while: lost, or a stuck pipeline) or "deadline" (still
	// arriving when the drain time ran out: slow rather than lost).
	Lost     int64  `json:"lost"`
	DrainEnd string `json:"drain_end"`
	// Seconds runs from the first line written to the last delivered.
	Seconds     float64 `json:"seconds"`
	LinesPerSec float64 `json:"lines_per_s"`
	// Delays from a line's write to its arrival at the bulk endpoint.
	DelayP50 float64 `json:"delay_p50_s"`
	DelayP99 float64 `json:"delay_p99_s"`
	DelayMax float64 `json:"delay_max_s"`

	Services []ServiceResult `json:"services"`
	// HarnessCPUSeconds is the harness's own CPU time over the same span
	// (writing the files, receiving the bulk requests): it shares the
	// machine with the services.
	HarnessCPUSeconds float64  `json:"harness_cpu_s"`
	Series            []Sample `json:"series"`
}

// ServiceResult is one service process's cost.
type ServiceResult struct {
	Name string `json:"name"`
	// CPUSeconds is user+system time from the workload's start to the end
	// of the drain (start-up and shutdown excluded).
	CPUSeconds   float64 `json:"cpu_s"`
	CPUPerMLines float64 `json:"cpu_s_per_million_lines"`
	PeakRSSMiB   float64 `json:"peak_rss_mib"` // VmHWM
}

// Sample is the state of the run at T seconds after the workload started.
type Sample struct {
	T         float64 `json:"t"`
	Written   int64   `json:"written"`
	Delivered int64   `json:"delivered"`
	Rate      float64 `json:"rate"`    // delivered lines/s over the last interval
	Backlog   int64   `json:"backlog"` // written, not yet delivered
	// RawLag and ParsedLag are the parser's and the indexer's consumer
	// group lag in records; -1 when it could not be read.
	RawLag    int64              `json:"raw_lag"`
	ParsedLag int64              `json:"parsed_lag"`
	RSSMiB    map[string]float64 `json:"rss_mib"`
}

// OK reports whether nothing was lost or duplicated.
func (r *Result) OK() bool { return r.Lost == 0 && r.Duplicated == 0 }

// Summary is the one line a run ends with.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bench-e2e: %d lines in %.1fs = %.0f lines/s | CPU-s per M lines", r.Delivered, r.Seconds, r.LinesPerSec)
	for _, s := range r.Services {
		fmt.Fprintf(&b, " %s %.2f", s.Name, s.CPUPerMLines)
	}
	b.WriteString(" | peak RSS MiB")
	for _, s := range r.Services {
		fmt.Fprintf(&b, " %s %.0f", s.Name, s.PeakRSSMiB)
	}
	fmt.Fprintf(&b, " | e2e delay p50 %s p99 %s | lost %d duplicated %d", secs(r.DelayP50), secs(r.DelayP99), r.Lost, r.Duplicated)
	if r.Lost > 0 && r.DrainEnd == "deadline" {
		b.WriteString(" (still arriving when the drain time ran out)")
	}
	return b.String()
}

func secs(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.0fms", s*1000)
	}
	return fmt.Sprintf("%.2fs", s)
}

// Save writes bench-e2e.json and bench-e2e.html into dir and returns
// their paths.
func (r *Result) Save(dir string) (jsonPath, htmlPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	jsonPath, htmlPath = filepath.Join(dir, "bench-e2e.json"), filepath.Join(dir, "bench-e2e.html")
	for path, write := range map[string]func(io.Writer) error{jsonPath: r.WriteJSON, htmlPath: r.WriteHTML} {
		f, err := os.Create(path)
		if err != nil {
			return "", "", err
		}
		if err := write(f); err != nil {
			f.Close()
			return "", "", fmt.Errorf("writing %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return "", "", err
		}
	}
	return jsonPath, htmlPath, nil
}

// WriteJSON writes the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// serviceColors keeps each service's colour the same in every chart.
var serviceColors = map[string]string{"shipper": "#1f77b4", "parser": "#ff7f0e", "indexer": "#2ca02c"}

// charts draws throughput, backlog and RSS over time as inline SVG.
func (r *Result) charts() []template.HTML {
	var rate, written, delivered, backlog, rawLag, parsedLag []verify.Point
	rss := map[string][]verify.Point{}
	for _, s := range r.Series {
		rate = append(rate, verify.Point{T: s.T, V: s.Rate})
		written = append(written, verify.Point{T: s.T, V: float64(s.Written)})
		delivered = append(delivered, verify.Point{T: s.T, V: float64(s.Delivered)})
		backlog = append(backlog, verify.Point{T: s.T, V: float64(s.Backlog)})
		if s.RawLag >= 0 {
			rawLag = append(rawLag, verify.Point{T: s.T, V: float64(s.RawLag)})
		}
		if s.ParsedLag >= 0 {
			parsedLag = append(parsedLag, verify.Point{T: s.T, V: float64(s.ParsedLag)})
		}
		for name, v := range s.RSSMiB {
			rss[name] = append(rss[name], verify.Point{T: s.T, V: v})
		}
	}
	var rssLines []report.Line
	for _, name := range Services {
		rssLines = append(rssLines, report.Line{Name: name, Color: serviceColors[name], Points: rss[name]})
	}
	return []template.HTML{
		report.SVG("Delivered lines per second", "lines/s", []report.Line{{Name: "delivered/s", Color: "#1f77b4", Points: rate}}, nil, 0),
		report.SVG("Lines written and delivered", "lines", []report.Line{
			{Name: "written", Color: "#ff7f0e", Points: written}, {Name: "delivered", Color: "#2ca02c", Points: delivered}}, nil, 0),
		report.SVG("Backlog and consumer lag", "lines", []report.Line{
			{Name: "not yet delivered", Color: "#d62728", Points: backlog},
			{Name: "raw topic lag", Color: serviceColors["parser"], Points: rawLag},
			{Name: "parsed topic lag", Color: serviceColors["indexer"], Points: parsedLag}}, nil, 0),
		report.SVG("Resident memory per service", "MiB", rssLines, nil, 0),
	}
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{"secs": secs}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sluice bench-e2e {{.R.Started.Format "2006-01-02 15:04:05"}}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;max-width:760px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.bad{color:#b00;font-weight:bold}.t{font-weight:bold;font-size:13px}.a{font-size:10px;fill:#555}
.g{stroke:#eee}.e{stroke:#d62728;stroke-dasharray:3 3}.el{font-size:9px;fill:#d62728}.m{fill:#999}
code{background:#f4f4f4;padding:1px 4px}
</style></head><body>
<h1>Sluice end-to-end benchmark</h1>
<p>Shipper, parser and indexer as separate processes on a real Kafka broker; bulk endpoint: <code>{{.R.Engine}}</code>.
Started {{.R.Started.Format "2006-01-02 15:04:05 UTC"}}; {{.R.Duration}}s of writing
{{if .R.Rate}}at {{printf "%.0f" .R.Rate}} lines/s{{else}}as fast as the pipeline drains{{end}};
{{.R.Partitions}} partitions, {{.R.Pods}} pods; {{.R.CPUs}} CPUs, load average {{printf "%.1f" .R.LoadAvg}} at the start.</p>
<p><code>{{.R.Summary}}</code></p>
<table>
<tr><th>lines/s</th><th>delivered</th><th>written</th><th>lost</th><th>duplicated</th><th>delay p50</th><th>delay p99</th><th>delay max</th></tr>
<tr><td>{{printf "%.0f" .R.LinesPerSec}}</td><td>{{.R.Delivered}}</td><td>{{.R.Written}}</td>
<td{{if .R.Lost}} class="bad"{{end}}>{{.R.Lost}}{{if .R.Lost}} (drain: {{.R.DrainEnd}}){{end}}</td><td{{if .R.Duplicated}} class="bad"{{end}}>{{.R.Duplicated}}</td>
<td>{{secs .R.DelayP50}}</td><td>{{secs .R.DelayP99}}</td><td>{{secs .R.DelayMax}}</td></tr>
</table>
<table>
<tr><th>service</th><th>CPU-s</th><th>CPU-s per M lines</th><th>peak RSS MiB</th></tr>
{{range .R.Services}}<tr><td>{{.Name}}</td><td>{{printf "%.2f" .CPUSeconds}}</td><td>{{printf "%.2f" .CPUPerMLines}}</td><td>{{printf "%.0f" .PeakRSSMiB}}</td></tr>
{{end}}<tr><td>harness (writer, bulk endpoint)</td><td>{{printf "%.2f" .R.HarnessCPUSeconds}}</td><td></td><td></td></tr>
</table>
{{range .Charts}}<div>{{.}}</div>
{{end}}
<p>Delay: from the moment a line was written to its file until its document reached the bulk endpoint.
Duplicated counts every second arrival of a line, including replays a real engine would refuse with 409.
CPU-s covers the workload and the drain, not start-up.</p>
</body></html>
`))

// WriteHTML writes a self-contained HTML report (inline SVG, no scripts).
func (r *Result) WriteHTML(w io.Writer) error {
	return page.Execute(w, struct {
		R      *Result
		Charts []template.HTML
	}{r, r.charts()})
}
