package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"

	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sluice-io/sluice/loadtest/gen"
	"github.com/sluice-io/sluice/loadtest/stack"
)

// The monitoring files operators install, and the chart's copies of them.
const (
	monitoringDir = "../../deploy/monitoring"
	chartFilesDir = "../../deploy/helm/sluice/files/monitoring"
	rulesFile     = "sluice-rules.yaml"
	dashboardFile = "sluice-dashboard.json"
)

// TestMonitoringFilesMatchChart keeps the chart's copies identical to the
// files in deploy/monitoring (Helm reads only files inside the chart).
func TestMonitoringFilesMatchChart(t *testing.T) {
	for _, f := range []string{rulesFile, dashboardFile} {
		a, err := os.ReadFile(filepath.Join(monitoringDir, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(chartFilesDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between %s and %s: copy it", f, monitoringDir, chartFilesDir)
		}
	}
}

// ruleExprs parses the alert rules with Prometheus's own rule parser
// (rulefmt, which also parses every expression and template) and returns
// the expressions.
func ruleExprs(t *testing.T) []string {
	t.Helper()
	groups, errs := rulefmt.ParseFile(filepath.Join(monitoringDir, rulesFile), false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("rulefmt: %v", err)
	}
	if groups == nil {
		t.Fatal("no rule groups")
	}
	var exprs []string
	alerts := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
			alerts[r.Alert] = true
			if r.Alert != "" && (r.Annotations["summary"] == "" || r.Labels["severity"] == "") {
				t.Errorf("alert %s needs a summary annotation and a severity label", r.Alert)
			}
		}
	}
	for _, want := range []string{"SluiceParserLagGrowing", "SluiceIndexerLagGrowing", "SluiceParserDeadLetters",
		"SluiceIndexerDeadLetters", "SluiceShipperBlocked", "SluiceSearchEngineRejecting", "SluiceRestarting"} {
		if !alerts[want] {
			t.Errorf("alert %s missing", want)
		}
	}
	return exprs
}

// grafanaVars stand in for the dashboard's variables so that its queries
// parse as PromQL.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$namespace", ".*", "$job", ".*")

// dashboardExprs returns every query of the dashboard, checking the panels
// the dashboard promises are there.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(monitoringDir, dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	var exprs []string
	titles := map[string]bool{}
	for _, p := range d.Panels {
		titles[p.Title] = true
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, grafanaVars.Replace(tg.Expr))
		}
	}
	for _, want := range []string{"Lines per second by stage", "Consumer lag by topic", "End-to-end delay",
		"Errors per second", "Dead letters per second", "Memory (resident) by pod", "Bulk request latency"} {
		if !titles[want] {
			t.Errorf("dashboard panel %q missing", want)
		}
	}
	return exprs
}

var histogramSuffix = regexp.MustCompile(`_(bucket|count|sum)$`)

// metricNames parses each expression and returns the metric names its
// selectors use.
func metricNames(t *testing.T, exprs []string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	p := parser.NewParser(parser.Options{})
	for _, e := range exprs {
		expr, err := p.ParseExpr(e)
		if err != nil {
			t.Errorf("PromQL %q: %v", e, err)
			continue
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				name := vs.Name
				for _, m := range vs.LabelMatchers {
					if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
						name = m.Value
					}
				}
				if name == "" {
					t.Errorf("%q: a selector without a metric name", e)
				}
				names[name] = true
			}
			return nil
		})
	}
	return names
}

func scrape(t *testing.T, addr string) map[string]bool {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	tp := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := tp.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	out := map[string]bool{}
	for name, mf := range mfs {
		if len(mf.GetMetric()) > 0 {
			out[name] = true
		}
	}
	return out
}

// TestMonitoringMetricsExist runs the three services on embedded Kafka,
// sends lines through, and checks that every metric the dashboard and the
// alert rules query is in their scrapes: a renamed metric fails here
// instead of leaving an empty panel or an alert that never fires.
func TestMonitoringMetricsExist(t *testing.T) {
	want := metricNames(t, append(ruleExprs(t), dashboardExprs(t)...))
	if len(want) < 20 {
		t.Fatalf("only %d metric names found in the rules and dashboard: %v", len(want), want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	st, err := stack.Start(ctx, stack.Options{Dir: dir, Parsers: 1, Partitions: 2, Metrics: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	pod, err := gen.NewPod(st.LogDir(), "shop", "web-0", "nginx")
	if err != nil {
		t.Fatal(err)
	}
	defer pod.Close()
	if _, err := pod.Write(200); err != nil {
		t.Fatal(err)
	}

	// Scrape until every name shows up: lag is read from the brokers and
	// histograms appear with their first document.
	var missing []string
	for {
		have := map[string]bool{}
		addrs := st.MetricsAddrs()
		for _, name := range []string{"shipper", "parser-0", "indexer"} {
			if a, ok := addrs[name]; ok {
				for n := range scrape(t, a) {
					have[n] = true
				}
			}
		}
		missing = missing[:0]
		for n := range want {
			if !have[n] && !have[histogramSuffix.ReplaceAllString(n, "")] {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 && len(addrs) == 3 {
			t.Logf("all %d metric names of the rules and dashboard scraped", len(want))
			return
		}
		select {
		case <-ctx.Done():
			sort.Strings(missing)
			t.Fatalf("metrics used by deploy/monitoring but absent from the services' scrapes (%d addresses):\n%s",
				len(addrs), strings.Join(missing, "\n"))
		case <-time.After(500 * time.Millisecond):
		}
		if _, err := pod.Write(10); err != nil {
			t.Fatal(err)
		}
	}
}
