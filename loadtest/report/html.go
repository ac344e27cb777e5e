package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/sluice-io/sluice/loadtest/verify"
)

// Line is one named series of a chart.
type Line struct {
	Name   string
	Color  string
	Points []verify.Point
}

// Chart sizes in SVG user units.
const (
	chartW, chartH                     = 720, 220
	padL, padR, padT, padB             = 64, 16, 24, 32
	plotW, plotH                       = chartW - padL - padR, chartH - padT - padB
	xTicks, yTicks                     = 8, 4
	colorA, colorB, colorC, colorEvent = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"
)

// SVG renders lines on shared axes as an inline SVG element, with the
// events as labelled vertical markers. xMax fixes the time axis (0: from
// the data).
func SVG(title, unit string, lines []Line, events []Event, xMax float64) template.HTML {
	var maxX, maxY float64 = xMax, 0
	n := 0
	for _, l := range lines {
		for _, p := range l.Points {
			if xMax == 0 {
				maxX = math.Max(maxX, p.T)
			}
			maxY = math.Max(maxY, p.V)
			n++
		}
	}
	for _, e := range events {
		maxX = math.Max(maxX, e.T)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		chartW, chartH, chartW, chartH, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="15" class="t">%s</text>`, padL, template.HTMLEscapeString(title))
	if n == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="m">no data</text></svg>`, padL+10, padT+plotH/2)
		return template.HTML(b.String())
	}
	maxX = niceCeil(math.Max(maxX, 1))
	maxY = niceCeil(math.Max(maxY, 1))
	x := func(t float64) float64 { return padL + t/maxX*plotW }
	y := func(v float64) float64 { return padT + plotH - v/maxY*plotH }
	// Grid and axes.
	for i := 0; i <= yTicks; i++ {
		v := maxY * float64(i) / yTicks
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="g"/>`, padL, y(v), padL+plotW, y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" class="a" text-anchor="end">%s</text>`, padL-6, y(v)+4, human(v))
	}
	for i := 0; i <= xTicks; i++ {
		t := maxX * float64(i) / xTicks
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="a" text-anchor="middle">%ss</text>`, x(t), padT+plotH+16, human(t))
	}
	fmt.Fprintf(&b, `<text x="12" y="%d" class="a" transform="rotate(-90 12 %d)" text-anchor="middle">%s</text>`,
		padT+plotH/2, padT+plotH/2, template.HTMLEscapeString(unit))
	// Events.
	for i, e := range events {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="e"><title>%s</title></line>`,
			x(e.T), padT, x(e.T), padT+plotH, template.HTMLEscapeString(fmt.Sprintf("%.1fs %s", e.T, e.What)))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="el">%d</text>`, x(e.T)+2, padT+10+(i%3)*10, i+1)
	}
	// Lines and legend.
	for i, l := range lines {
		var pts strings.Builder
		for _, p := range l.Points {
			fmt.Fprintf(&pts, "%.1f,%.1f ", x(p.T), y(p.V))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, l.Color, strings.TrimSpace(pts.String()))
		lx := padL + plotW - 150*(len(lines)-i)
		fmt.Fprintf(&b, `<rect x="%d" y="6" width="10" height="10" fill="%s"/><text x="%d" y="15" class="a">%s</text>`,
			lx, l.Color, lx+14, template.HTMLEscapeString(l.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.3gk", v/1e3)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// charts are one run's charts.
func (run Run) charts() []template.HTML {
	xMax := 0.0
	for _, s := range [][]verify.Point{run.Series.Written, run.Result.Throughput} {
		if len(s) > 0 {
			xMax = math.Max(xMax, s[len(s)-1].T)
		}
	}
	return []template.HTML{
		SVG("Throughput", "lines/s", []Line{
			{"written/s", colorA, run.Series.WriteRate},
			{"indexed/s", colorB, run.Series.IndexRate},
		}, run.Events, xMax),
		SVG("Lag (written, not yet indexed)", "lines", []Line{{"lag", colorC, run.Series.Lag}}, run.Events, xMax),
		SVG("Latency, written → indexed", "ms", []Line{
			{"p50", colorA, run.Result.LatencyP50},
			{"p99", colorB, run.Result.LatencyP99},
		}, run.Events, xMax),
		SVG("Live heap of the whole process", "MiB", []Line{{"heap", colorC, run.Series.HeapMB}}, run.Events, xMax),
	}
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms": func(v float64) string { return fmt.Sprintf("%.0f", v) },
	"f1": func(v float64) string { return fmt.Sprintf("%.1f", v) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.R.Title}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}.ok{color:#2a7d2a;font-weight:600}.bad{color:#c62828;font-weight:600}
svg{display:block;margin:8px 0;background:#fff;border:1px solid #eee}
svg .t{font-weight:600;font-size:13px}svg .a{font-size:11px;fill:#555}svg .m{fill:#999}
svg .g{stroke:#eee}svg .e{stroke:#d62728;stroke-dasharray:4 3}svg .el{font-size:10px;fill:#d62728}
section{border-top:2px solid #ddd;margin-top:24px}code{background:#f4f4f4;padding:0 3px}
</style></head><body>
<h1>{{.R.Title}}</h1>
<p>Started {{.R.Started.Format "2006-01-02 15:04:05 MST"}}, {{f1 .R.Seconds}} s; {{.R.Host.GOOS}}/{{.R.Host.GOARCH}}, {{.R.Host.CPUs}} CPUs, {{.R.Host.GoVersion}}.</p>
<p>{{if .S.Failed}}<span class="bad">{{.S.Failed}} of {{.S.Runs}} runs failed</span>{{else}}<span class="ok">all {{.S.Runs}} runs passed</span>{{end}}:
{{.S.Written}} lines written, {{.S.Indexed}} indexed, {{.S.Lost}} lost, {{.S.Duplicates}} duplicated.</p>
{{with .R.Throughput}}<h2>Throughput</h2>
<table><tr><th class="l">mode</th><th>pods</th><th>parsers</th><th>lines</th><th>seconds</th><th>lines/s</th><th>MB/s</th><th>peak RSS MB</th><th>peak heap MB</th></tr>
<tr><td class="l">{{.Mode}}</td><td>{{.Pods}}</td><td>{{.Parsers}}</td><td>{{.Lines}}</td><td>{{f1 .Seconds}}</td><td>{{ms .LinesPerSec}}</td><td>{{f1 .MBPerSec}}</td><td>{{f1 .PeakRSSMB}}</td><td>{{f1 .PeakHeapMB}}</td></tr></table>{{end}}
{{if .R.Runs}}<table><tr><th class="l">run</th><th class="l">result</th><th>written</th><th>indexed</th><th>lost</th><th>dup</th><th>rotated away</th><th>reordered</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>drain s</th><th>s</th></tr>
{{range .R.Runs}}<tr><td class="l"><a href="#{{.Name}}">{{.Name}}</a></td><td class="l">{{if .OK}}<span class="ok">ok</span>{{else}}<span class="bad">FAIL</span>{{end}}</td>
<td>{{.Result.Written}}</td><td>{{.Result.Indexed}}</td><td>{{.Result.Lost}}</td><td>{{.Result.Duplicates}}</td><td>{{.Result.RotatedAway}}</td><td>{{.Result.Reordered}}</td>
<td>{{ms .Result.Latency.P50}}</td><td>{{ms .Result.Latency.P99}}</td><td>{{ms .Result.Latency.Max}}</td><td>{{f1 .DrainSeconds}}</td><td>{{f1 .Seconds}}</td></tr>
{{end}}</table>{{end}}
{{range .Runs}}<section id="{{.Name}}"><h2>{{.Name}} {{if .OK}}<span class="ok">ok</span>{{else}}<span class="bad">FAIL</span>{{end}}</h2>
<p>{{.Params.Pods}} pods, {{.Params.Rate}} lines/s for {{f1 .Params.Seconds}} s, {{.Params.Parsers}} parsers{{if .Params.RotateBytes}}, rotation every {{.Params.RotateBytes}} bytes{{end}}{{if .Seed}}, seed {{.Seed}}{{end}}.
{{if .Error}}<br><span class="bad">error: {{.Error}}</span>{{end}}</p>
<p>{{.Result.String}}</p>
{{if .Result.LostSamples}}<p>lost: <code>{{range .Result.LostSamples}}{{.}} {{end}}</code></p>{{end}}
{{if .Result.DuplicateSamples}}<p>duplicated: <code>{{range .Result.DuplicateSamples}}{{.}} {{end}}</code></p>{{end}}
{{if .Events}}<ol>{{range .Events}}<li>{{f1 .T}} s: {{.What}}</li>{{end}}</ol>{{end}}
{{range .Charts}}{{.}}{{end}}
</section>{{end}}
</body></html>
`))

// WriteHTML writes the report as one self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	type runView struct {
		Run
		Charts []template.HTML
	}
	views := make([]runView, len(r.Runs))
	for i, run := range r.Runs {
		views[i] = runView{run, run.charts()}
	}
	return page.Execute(w, struct {
		R    *Report
		S    Summary
		Runs []runView
	}{r, r.Summary(), views})
}
