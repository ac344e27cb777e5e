package rules

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/corpus"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
)

var goldenApply = func(e *Engine, r *Rule, rec *logsv1.RawRecord, d *document.Doc) (string, error) {
	return e.Apply(r, rec, d)
}

func goldenRecords(t *testing.T) []*logsv1.RawRecord {
	var lines []string
	for _, product := range []string{"nginx", "apache"} {
		root := corpus.Dir(t, product)
		for _, ds := range []string{"access", "error"} {
			logs, _ := filepath.Glob(filepath.Join(root, ds, "test-*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				lines = append(lines, strings.Split(string(b), "\n")...)
			}
		}
	}
	lines = append(lines, `{"a":1,"message":"x\u2028y","b":{"c":[1,2]},"kubernetes":{"x":"y"}}`, "bad \xff utf8 \x00 \"q\" \\ \t", "", "é€😀 \u2029")
	var recs []*logsv1.RawRecord
	for i, line := range lines {
		k := &logsv1.Kubernetes{Namespace: "shop", Pod: fmt.Sprintf("web-%d", i%5), Container: "nginx", Node: "n1", PodUid: "uid", ContainerId: "cid", Image: "nginx:1", OwnerKind: "ReplicaSet", OwnerName: "web-1",
			Labels:          map[string]string{"app.kubernetes.io/name": "web", "tier": "front\"end", "": "empty"},
			Annotations:     map[string]string{"sluice.io/parser": "nginx", "x..y": "z"},
			NamespaceLabels: map[string]string{"team": "a"}}
		if i%7 == 3 {
			k = nil
		}
		rec := &logsv1.RawRecord{Line: []byte(line), TimeUnixNano: time.Date(2026, 11, 24, 10, i%24, i%60, i*1e6, time.UTC).UnixNano(),
			Stream: logsv1.Stream(i % 3), Source: &logsv1.Source{Node: "n1", Path: "/var/log/x.log", Fingerprint: "fp", Offset: int64(i)}, Kubernetes: k}
		if i%4 == 1 {
			rec.IngestTimeUnixNano = rec.TimeUnixNano + 5e6
		}
		if i%5 == 2 {
			rec.Flags = []string{"truncated", "partial_unterminated"}
		}
		if i%9 == 4 {
			rec.Source = nil
		}
		recs = append(recs, rec)
	}
	return recs
}

func TestGoldenDump(t *testing.T) {
	out := os.Getenv("GOLDEN_OUT")
	if out == "" {
		t.Skip()
	}
	recs := goldenRecords(t)
	var buf bytes.Buffer
	for _, b := range []string{"nginx", "apache", "nginx_error", "apache_error", "json", "auto", "none"} {
		e, err := Compile(Options{Index: "logs-%{+yyyy.MM.dd.HH}", Rules: []config.Rule{{Name: b, Builtin: b, Timezone: "Europe/Paris"},
			{Name: "x", Processors: []config.Processor{{Add: map[string]string{"kubernetes.labels.tier": "over", "a.b": "c"}}, {Rename: map[string]string{"kubernetes.pod": "pod2"}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		var d document.Doc
		for _, r := range e.Rules() {
			for i, rec := range recs {
				idx, err := goldenApply(e, r, rec, &d)
				fmt.Fprintf(&buf, "%s %s %d %s %v\n", b, r.Name, i, idx, err)
				if err == nil {
					buf.Write(d.AppendJSON(nil))
					buf.WriteByte('\n')
				}
			}
		}
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
