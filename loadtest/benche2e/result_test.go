package benche2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	indexercfg "github.com/sluice-io/sluice/services/indexer/config"
	parsercfg "github.com/sluice-io/sluice/services/parser/config"
	shippercfg "github.com/sluice-io/sluice/services/shipper/config"
)

func TestMonitorFinish(t *testing.T) {
	l := NewLedger(1)
	t0 := time.Unix(1000, 0)
	l.Wrote(0, 200_000, t0)
	arr := make([]Arrival, 0, 200_000)
	for i := int64(1); i <= 200_000; i++ {
		arr = append(arr, Arrival{Src: 0, Seq: i, OK: true})
	}
	l.Arrived(arr[:100_000], t0.Add(10*time.Second))
	l.Arrived(arr[100_000:], t0.Add(20*time.Second))
	l.Arrived(arr[:10], t0.Add(20*time.Second)) // duplicates
	m := monitor{ledger: l}
	var res Result
	base := map[string]ProcStats{"shipper": {CPU: time.Second}, "parser": {CPU: 2 * time.Second}, "indexer": {}}
	final := map[string]ProcStats{
		"shipper": {CPU: 7 * time.Second, HWM: 70 << 20},
		"parser":  {CPU: 22 * time.Second, HWM: 90 << 20},
		"indexer": {CPU: 5 * time.Second, HWM: 100 << 20},
	}
	m.finish(&res, base, final)
	if res.Delivered != 200_000 || res.Duplicated != 10 || res.Lost != 0 || res.OK() {
		t.Errorf("delivered %d duplicated %d lost %d OK %v", res.Delivered, res.Duplicated, res.Lost, res.OK())
	}
	if res.Seconds != 20 || res.LinesPerSec != 10_000 {
		t.Errorf("seconds %v lines/s %v; want 20, 10000", res.Seconds, res.LinesPerSec)
	}
	if res.DelayP50 != 10.001 || res.DelayP99 != 20.001 || res.DelayMax != 20 {
		t.Errorf("delays p50 %v p99 %v max %v; want 10.001, 20.001, 20", res.DelayP50, res.DelayP99, res.DelayMax)
	}
	want := []ServiceResult{
		{Name: "shipper", CPUSeconds: 6, CPUPerMLines: 30, PeakRSSMiB: 70},
		{Name: "parser", CPUSeconds: 20, CPUPerMLines: 100, PeakRSSMiB: 90},
		{Name: "indexer", CPUSeconds: 5, CPUPerMLines: 25, PeakRSSMiB: 100},
	}
	if len(res.Services) != len(want) {
		t.Fatalf("services %+v", res.Services)
	}
	for i := range want {
		if res.Services[i] != want[i] {
			t.Errorf("service %d = %+v, want %+v", i, res.Services[i], want[i])
		}
	}
	line := res.Summary()
	for _, s := range []string{"200000 lines in 20.0s = 10000 lines/s", "parser 100.00", "peak RSS MiB shipper 70 parser 90 indexer 100", "p50 10.00s p99 20.00s", "lost 0 duplicated 10"} {
		if !strings.Contains(line, s) {
			t.Errorf("summary %q lacks %q", line, s)
		}
	}
}

func TestResultSave(t *testing.T) {
	r := &Result{
		Started: time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC), Engine: "discard", Duration: 20, Partitions: 6, Pods: 12,
		Counts: Counts{Written: 100, Delivered: 99, Duplicated: 0}, Lost: 1, DrainEnd: "deadline", Seconds: 2, LinesPerSec: 49.5,
		DelayP50: 0.2, DelayP99: 1.5,
		Services: []ServiceResult{{Name: "shipper", CPUSeconds: 1, CPUPerMLines: 3, PeakRSSMiB: 80}},
		Series: []Sample{
			{T: 1, Written: 50, Delivered: 40, Rate: 40, Backlog: 10, RawLag: -1, ParsedLag: -1, RSSMiB: map[string]float64{"shipper": 70, "parser": 60, "indexer": 90}},
			{T: 2, Written: 100, Delivered: 99, Rate: 59, Backlog: 1, RawLag: 7, ParsedLag: 3, RSSMiB: map[string]float64{"shipper": 80, "parser": 65, "indexer": 95}},
		},
	}
	dir := t.TempDir()
	jsonPath, htmlPath, err := r.Save(dir)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	b, _ := os.ReadFile(jsonPath)
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Lost != 1 || back.Delivered != 99 || len(back.Series) != 2 || back.Series[1].RSSMiB["indexer"] != 95 ||
		back.Series[1].RawLag != 7 || back.Series[0].ParsedLag != -1 {
		t.Errorf("JSON round trip lost data: %s", b)
	}
	if !bytes.Contains(b, []byte(`"delay_p99_s": 1.5`)) || !bytes.Contains(b, []byte(`"cpu_s_per_million_lines": 3`)) {
		t.Errorf("JSON lacks the named figures: %s", b)
	}
	h, _ := os.ReadFile(htmlPath)
	html := string(h)
	if strings.Count(html, "<svg") != 4 || strings.Contains(html, "<script") || strings.Contains(html, "src=") {
		t.Errorf("want 4 inline SVG charts and no scripts or external sources; got %d charts", strings.Count(html, "<svg"))
	}
	for _, s := range []string{"polyline", "raw topic lag", `class="bad">1 (drain: deadline)<`, "Resident memory per service", r.Summary()} {
		if !strings.Contains(html, s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
	if !strings.Contains(r.Summary(), "lost 1 duplicated 0 (still arriving when the drain time ran out)") {
		t.Errorf("summary %q does not say the lost lines were still arriving", r.Summary())
	}
	if filepath.Dir(htmlPath) != dir {
		t.Errorf("html written to %s", htmlPath)
	}
}

// TestConfigs loads the generated configurations with the services' own
// loaders, which validate them, and checks the keys the benchmark relies on.
func TestConfigs(t *testing.T) {
	dir := t.TempDir()
	s := Setup{
		Brokers: []string{"127.0.0.1:19092"}, Prefix: "bench-x.", Dir: dir,
		PodsDir: filepath.Join(dir, "pods"), ContainersDir: filepath.Join(dir, "containers"),
		SearchURL: "http://127.0.0.1:1234", Flavor: "elasticsearch",
	}
	path := func(svc string) string {
		p := filepath.Join(dir, svc+".yaml")
		if err := os.WriteFile(p, []byte(s.Configs()[svc]), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sc, _, err := shippercfg.Load(path("shipper"))
	if err != nil {
		t.Fatalf("shipper: %v\n%s", err, s.Configs()["shipper"])
	}
	if sc.Kafka.Topic != "bench-x.logs.raw" || sc.Tail.Include[0] != filepath.Join(dir, "containers", "*.log") ||
		sc.Kubernetes.Enabled || sc.Admin.MetricsListen != "" {
		t.Errorf("shipper config: %+v", sc)
	}
	pc, _, err := parsercfg.Load(path("parser"))
	if err != nil {
		t.Fatalf("parser: %v\n%s", err, s.Configs()["parser"])
	}
	if pc.Kafka.Group != "bench-x.sluice-parser" || pc.Kafka.OutputTopic != "bench-x.logs.parsed" ||
		len(pc.Rules) != 1 || pc.Rules[0].Builtin != "nginx" {
		t.Errorf("parser config: %+v", pc)
	}
	ic, _, err := indexercfg.Load(path("indexer"))
	if err != nil {
		t.Fatalf("indexer: %v\n%s", err, s.Configs()["indexer"])
	}
	if ic.Kafka.Topic != "bench-x.logs.parsed" || ic.Kafka.Group != "bench-x.sluice-indexer" ||
		ic.Output != "elasticsearch" || ic.Elasticsearch.URLs[0] != "http://127.0.0.1:1234" {
		t.Errorf("indexer config: %+v", ic)
	}
	if ic.Elasticsearch.TemplateName != "sluice-logs" {
		t.Errorf("without an index of its own the template stays the default, got %q", ic.Elasticsearch.TemplateName)
	}

	// A run on a real engine uses an index and template of its own.
	s.Index, s.Flavor = "bench-e2e-x", "opensearch"
	pc, _, err = parsercfg.Load(path("parser"))
	if err != nil || pc.Kafka.Index != "bench-e2e-x" {
		t.Fatalf("parser with an index: %v, index %q", err, pc.Kafka.Index)
	}
	ic, _, err = indexercfg.Load(path("indexer"))
	if err != nil || ic.Elasticsearch.TemplateName != "bench-e2e-x" || ic.Elasticsearch.TemplatePatterns[0] != "bench-e2e-x*" ||
		ic.Elasticsearch.Flavor != "opensearch" {
		t.Fatalf("indexer with an index: %v, %+v", err, ic.Elasticsearch)
	}
}
