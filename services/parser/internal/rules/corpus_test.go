package rules

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluice-io/sluice/libs/corpus"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
)

// elasticFields are the fields a pipeline without the geoip and user-agent
// databases produces, compared between Elastic's expected documents and
// ours. A field absent on one side must be absent on the other.
var elasticFields = []string{
	"@timestamp",
	"source.address", "source.ip", "source.domain", "source.port",
	"destination.domain", "destination.ip",
	"user.name",
	"http.request.method", "http.version", "http.request.referrer",
	"http.response.status_code", "http.response.body.bytes",
	"url.original", "url.path", "url.query", "url.extension", "url.domain",
	"user_agent.original",
	"event.kind", "event.category", "event.type", "event.outcome",
	"related.ip",
	"nginx.access.remote_ip_list", "nginx.error.connection_id",
	"apache.access.ssl.protocol", "apache.access.ssl.cipher",
	"tls.cipher", "tls.version", "tls.version_protocol",
	"apache.error.module",
	"log.level", "message", "process.pid", "process.thread.id", "file.path",
}

// caseInsensitive lists fields whose fixture values reflect an older
// pipeline quirk: the nginx pipelines of the ECS 1.x era lower-cased the
// HTTP method ("get"); current ones, and Sluice, keep it as written.
var caseInsensitive = map[string]bool{"http.request.method": true}

// compared reports whether field is compared in dataset: all of them.
// Access log pipelines drop message (the line goes to event.original only
// when preserved) and so does Sluice; error log pipelines rewrite it to the
// event's text, as Sluice does.
func compared(dataset, field string) bool { return true }

type fixtureConfig struct {
	Multiline struct {
		FirstLinePattern string `yaml:"first_line_pattern"`
	} `yaml:"multiline"`
	Fields map[string]any `yaml:"fields"`
}

// TestElasticFixtures runs the nginx and Apache builtins over Elastic's
// pipeline-test fixtures in the shared corpus (never copied into this
// repository: they are Elastic-licensed) and compares every field above.
func TestElasticFixtures(t *testing.T) {
	builtins := map[string]string{
		"nginx/access": "nginx", "nginx/error": "nginx_error",
		"apache/access": "apache", "apache/error": "apache_error",
	}
	var summary []string
	for _, product := range []string{"nginx", "apache"} {
		root := corpus.Dir(t, product)
		for _, dataset := range []string{"access", "error"} {
			dir := filepath.Join(root, dataset)
			logs, _ := filepath.Glob(filepath.Join(dir, "test-*.log"))
			for _, logFile := range logs {
				name := product + "/" + dataset + "/" + filepath.Base(logFile)
				t.Run(name, func(t *testing.T) {
					events, fields, matched := runFixture(t, dir, logFile, builtins[product+"/"+dataset], dataset)
					summary = append(summary, fmt.Sprintf("%-45s %3d events %4d/%4d fields match", name, events, matched, fields))
				})
			}
		}
	}
	sort.Strings(summary)
	t.Logf("Elastic fixture comparison:\n%s", strings.Join(summary, "\n"))
}

func runFixture(t *testing.T, dir, logFile, builtin, dataset string) (events, fields, matched int) {
	cfg := loadFixtureConfig(t, filepath.Join(dir, "test-common-config.yml"))
	if c := logFile + "-config.yml"; fileExists(c) {
		cfg = loadFixtureConfig(t, c)
	}
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	var expected struct {
		Expected []map[string]any `json:"expected"`
	}
	b, err := os.ReadFile(logFile + "-expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &expected); err != nil {
		t.Fatal(err)
	}
	lines := groupEvents(t, string(raw), cfg.Multiline.FirstLinePattern)
	if len(lines) != len(expected.Expected) {
		t.Fatalf("%d events from the log, %d expected documents", len(lines), len(expected.Expected))
	}
	tz, _ := cfg.Fields["event.timezone"].(string)
	e, err := Compile(Options{Index: "logs", Rules: []config.Rule{{Name: builtin, Builtin: builtin, Timezone: tz}}})
	if err != nil {
		t.Fatal(err)
	}
	var d document.Doc
	for i, line := range lines {
		rec := &logsv1.RawRecord{Line: []byte(line), TimeUnixNano: time.Date(2020, 4, 28, 11, 7, 58, 223e6, time.UTC).UnixNano()}
		if _, err := e.Apply(e.Rules()[0], rec, &d); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		var got map[string]any
		if err := json.Unmarshal(d.AppendJSON(nil), &got); err != nil {
			t.Fatal(err)
		}
		if v, ok := got["tags"]; ok {
			t.Errorf("event %d: tags %v (parse failure?): %v", i, v, got["error"])
		}
		want := expected.Expected[i]
		for _, f := range elasticFields {
			if !compared(dataset, f) {
				continue
			}
			fields++
			wv, wok := lookup(want, f)
			gv, gok := lookup(got, f)
			if wok == gok && (!wok || sameValue(f, wv, gv)) {
				matched++
				continue
			}
			t.Errorf("event %d %s: got %s, want %s", i, f, show(gv, gok), show(wv, wok))
		}
	}
	return len(lines), fields, matched
}

func loadFixtureConfig(t *testing.T, file string) fixtureConfig {
	var c fixtureConfig
	b, err := os.ReadFile(file)
	if err != nil {
		return c
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return c
}

// groupEvents joins lines into events the way elastic-package's multiline
// setting does: a line not matching the first-line pattern is appended to
// the event before it.
func groupEvents(t *testing.T, raw, pattern string) []string {
	lines := strings.Split(strings.TrimSuffix(raw, "\n"), "\n")
	if pattern == "" {
		return lines
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		t.Fatalf("first_line_pattern: %v", err)
	}
	var out []string
	for _, l := range lines {
		if len(out) == 0 || re.MatchString(l) {
			out = append(out, l)
			continue
		}
		out[len(out)-1] += "\n" + l
	}
	return out
}

func lookup(m map[string]any, path string) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	var cur any = m
	for _, seg := range strings.Split(path, ".") {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = o[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func sameValue(field string, want, got any) bool {
	if field == "@timestamp" {
		ws, _ := want.(string)
		gs, _ := got.(string)
		wt, err1 := time.Parse(time.RFC3339Nano, ws)
		gt, err2 := time.Parse(time.RFC3339Nano, gs)
		return err1 == nil && err2 == nil && wt.Equal(gt)
	}
	if caseInsensitive[field] {
		ws, _ := want.(string)
		gs, _ := got.(string)
		return strings.EqualFold(ws, gs)
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	return string(wb) == string(gb)
}

func show(v any, ok bool) string {
	if !ok {
		return "(absent)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
