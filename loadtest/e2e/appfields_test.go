package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/loadtest/gen"
	"github.com/sluice-io/sluice/loadtest/realinfra"
	"github.com/sluice-io/sluice/loadtest/stack"
	indexercfg "github.com/sluice-io/sluice/services/indexer/config"
	parsercfg "github.com/sluice-io/sluice/services/parser/config"
)

// appLog is one application's JSON log layout: the line for sequence
// number seq, and the app.* object the parser must make of it.
type appLog struct {
	container string
	line      func(seq int, now time.Time) string
	app       func(seq int) map[string]any
}

// clashingApps log the same field names with different JSON types: for
// orders user is a string, status a number and request an object; for
// billing user is an object, status a string and request a string. With
// app mapped dynamically, whichever is indexed second fails with a
// mapper_parsing_exception.
var clashingApps = []appLog{
	{
		container: "orders", // zap
		line: func(seq int, now time.Time) string {
			return fmt.Sprintf(`{"level":"info","ts":%.3f,"msg":"order %d","user":"bob","status":200,"request":{"path":"/orders/%d","bytes":512}}`,
				float64(now.UnixMilli())/1e3, seq, seq)
		},
		app: func(seq int) map[string]any {
			return map[string]any{"user": "bob", "status": 200.0, "request": map[string]any{"path": fmt.Sprintf("/orders/%d", seq), "bytes": 512.0}}
		},
	},
	{
		container: "billing", // pino
		line: func(seq int, now time.Time) string {
			return fmt.Sprintf(`{"level":30,"time":%d,"msg":"invoice %d","user":{"id":7,"name":"ann"},"status":"ok","request":"GET /invoices/%d"}`,
				now.UnixMilli(), seq, seq)
		},
		app: func(seq int) map[string]any {
			return map[string]any{"user": map[string]any{"id": 7.0, "name": "ann"}, "status": "ok", "request": fmt.Sprintf("GET /invoices/%d", seq)}
		},
	},
}

// TestRealInfraAppFieldsNoConflict runs the pipeline on the real Kafka
// broker and search engine with two applications whose JSON logs give the
// same field names different types. The parser's auto builtin puts those
// fields under app.*, and the indexer's template maps app with the type
// the engine reports it supports (flattened, flat_object, or an unindexed
// object), so every line of both is indexed, none is dead-lettered, and the
// fields come back from _source as written.
func TestRealInfraAppFieldsNoConflict(t *testing.T) {
	if os.Getenv("SLUICE_REAL_INFRA") != "1" {
		t.Skip("set SLUICE_REAL_INFRA=1 to run against real Kafka and search engine")
	}
	brokers := realinfra.Kafka(t)
	url, flavor := realinfra.Search(t)
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	index := "sluice-appfields-" + run
	templateName := "sluice-appfields-" + run
	t.Cleanup(func() {
		for _, p := range []string{"/" + index, "/_index_template/" + templateName} {
			req, _ := http.NewRequest(http.MethodDelete, url+p, nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	})

	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service logs:\n%s", logs.String())
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := stack.Start(ctx, stack.Options{
		Dir: t.TempDir(), Brokers: brokers, SearchURL: url, SearchFlavor: flavor,
		Prefix: "appfields-" + run + ".", Index: index, Partitions: 1, Parsers: 1,
		Rules: []parsercfg.Rule{{Name: "apps", Builtin: "auto"}},
		Log:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		TuneIndexer: func(c *indexercfg.Config) {
			// A template of this run's own, so the shared engine's others
			// are left alone and this index surely gets it.
			c.Elasticsearch.TemplateName = templateName
			c.Elasticsearch.TemplatePatterns = []string{index}
			c.Elasticsearch.ILM.Policy = ""
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()

	// One application after the other: the first fixes whatever mapping
	// dynamic mapping would give, and the second must still get in.
	const lines = 100
	want := 0
	for _, a := range clashingApps {
		p, err := gen.NewPod(st.LogDir(), "shop", a.container+"-0", a.container)
		if err != nil {
			t.Fatal(err)
		}
		p.Close() // gen.Pod writes nginx lines; only its kubelet-style name is used
		f, err := os.OpenFile(p.Path(), os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		now := time.Now().UTC()
		for seq := 1; seq <= lines; seq++ {
			fmt.Fprintf(&b, "%s stdout F %s\n", now.Format(time.RFC3339Nano), a.line(seq, now))
		}
		if _, err := f.WriteString(b.String()); err != nil {
			t.Fatal(err)
		}
		f.Close()
		want += lines
		waitFor(t, fmt.Sprintf("%s's lines in %s", a.container, index), 30*time.Second, func() (int, bool) {
			n := len(searchAll(t, url, index))
			return n, n >= want
		})
	}

	docs := searchAll(t, url, index)
	if len(docs) != want {
		t.Fatalf("%d documents in %s, want %d", len(docs), index, want)
	}
	seen := map[string]bool{}
	for id, raw := range docs {
		var d struct {
			Message    string `json:"message"`
			Kubernetes struct {
				Container struct {
					Name string `json:"name"`
				} `json:"container"`
			} `json:"kubernetes"`
			App map[string]any `json:"app"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("document %s: %v", id, err)
		}
		var a *appLog
		for i := range clashingApps {
			if clashingApps[i].container == d.Kubernetes.Container.Name {
				a = &clashingApps[i]
			}
		}
		var seq int
		_, err := fmt.Sscanf(d.Message[strings.IndexByte(d.Message, ' ')+1:], "%d", &seq)
		if a == nil || err != nil {
			t.Fatalf("document %s is from no application of the test: %s", id, raw)
		}
		if key := fmt.Sprintf("%s/%d", a.container, seq); seen[key] {
			t.Errorf("%s indexed twice", key)
		} else {
			seen[key] = true
		}
		if !reflect.DeepEqual(d.App, a.app(seq)) {
			t.Errorf("%s line %d: app %v in _source, want %v", a.container, seq, d.App, a.app(seq))
		}
	}

	// Nothing was refused: the dead-letter topic stays empty.
	if dlq := readTopic(t, brokers, st.Topic(stack.DLQTopic), 1, 3*time.Second); len(dlq) != 0 {
		t.Fatalf("%d dead letters, want none; first: %s", len(dlq), dlq[0].Value)
	}

	// The index took app from the template, not from dynamic mapping; where
	// the engine has a flat type, app.* is searchable too.
	mapping := appMapping(t, url, index)
	t.Logf("%s at %s mapped app as %v", flavor, url, mapping)
	switch mapping["type"] {
	case "flattened", "flat_object":
		if n := count(t, url, index, "app.user:bob"); n != lines {
			t.Errorf("app.user:bob matches %d documents, want %d", n, lines)
		}
	case "object", nil:
		if mapping["dynamic"] != "false" && mapping["dynamic"] != false {
			t.Errorf("app mapped %v: neither a flat type nor an unindexed object", mapping)
		}
	default:
		t.Errorf("app mapped %v", mapping)
	}
}

// appMapping returns the mapping of app in index.
func appMapping(t *testing.T, url, index string) map[string]any {
	t.Helper()
	var m map[string]struct {
		Mappings struct {
			Properties map[string]map[string]any `json:"properties"`
		} `json:"mappings"`
	}
	getJSON(t, url+"/"+index+"/_mapping", &m)
	app := m[index].Mappings.Properties["app"]
	if app == nil {
		t.Fatalf("no app in the mapping of %s: %v", index, m)
	}
	return app
}

// count returns how many documents of index match the query string q.
func count(t *testing.T, url, index, q string) int {
	t.Helper()
	var c struct {
		Count int `json:"count"`
	}
	getJSON(t, url+"/"+index+"/_count?q="+q, &c)
	return c.Count
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, body)
	}
}
