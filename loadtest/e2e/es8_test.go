package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/loadtest/realinfra"
	"github.com/sluice-io/sluice/loadtest/stack"
	indexercfg "github.com/sluice-io/sluice/services/indexer/config"
)

// TestRealInfraElasticsearch8 runs the pipeline on the real Kafka broker
// into Elasticsearch 8 with security on: the indexer authenticates with
// basic auth (the node refuses anonymous requests), the built-in ECS index
// template shapes the index, and every line is indexed exactly once with
// bulk create.
//
// The node is Elasticsearch's minimal integ-test distribution, which lacks
// modules the full one has: no GET / (rest-root; the indexer's ping falls
// back to /_cluster/health), no wildcard field type (x-pack wildcard), no
// data streams, no ILM. So the indexer writes plain indices with no
// lifecycle policy, and the test installs the built-in template itself with
// wildcard fields mapped as keyword (as for OpenSearch) and the indexer's
// own install turned off; with the full distribution the indexer installs
// it unchanged.
func TestRealInfraElasticsearch8(t *testing.T) {
	if os.Getenv("SLUICE_REAL_INFRA") != "1" {
		t.Skip("set SLUICE_REAL_INFRA=1 to run against real Kafka and Elasticsearch 8")
	}
	brokers := realinfra.Kafka(t)
	es := realinfra.Elasticsearch8(t)
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	index := "logs-es8-" + run
	templateName := "sluice-logs-es8-" + run

	tmpl, err := os.ReadFile(filepath.Join("..", "..", "services", "indexer", "internal", "ecs", "template.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(tmpl, []byte(`"wildcard"`)) {
		t.Log("the built-in template no longer uses the wildcard type; installing it as is")
	}
	tmpl = bytes.ReplaceAll(tmpl, []byte(`"type": "wildcard"`), []byte(`"type": "keyword"`))
	tmpl = bytes.ReplaceAll(tmpl, []byte(`"type":"wildcard"`), []byte(`"type":"keyword"`))
	tmpl = bytes.Replace(tmpl, []byte(`"index_patterns": ["logs-*"]`), []byte(`"index_patterns": ["logs-es8-*"]`), 1)
	if code, body := es8Do(t, es, http.MethodPut, "/_index_template/"+templateName, string(tmpl)); code != http.StatusOK {
		t.Fatalf("PUT _index_template/%s: %d %s", templateName, code, body)
	}

	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service logs:\n%s", logs.String())
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := stack.Start(ctx, stack.Options{
		Dir: t.TempDir(), Brokers: brokers, SearchURL: es.URL, SearchFlavor: "elasticsearch",
		Prefix: "es8-" + run + ".", Index: index, Partitions: 3,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		TuneIndexer: func(c *indexercfg.Config) {
			c.Elasticsearch.Username, c.Elasticsearch.Password = es.User, es.Password
			c.Elasticsearch.Template = false
			c.Elasticsearch.ILM.Policy = "" // no ILM in this distribution
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	pods := newPods(t, st.LogDir(), 3)
	writeAll(t, pods, 200, 50)

	want := total(pods)
	var docs map[string]json.RawMessage
	waitUntil(3*time.Minute, func() bool {
		docs = es8SearchAll(t, es, index)
		return len(docs) >= want
	})
	time.Sleep(time.Second)
	docs = es8SearchAll(t, es, index)
	if len(docs) != want {
		t.Fatalf("%d documents in %s, want %d", len(docs), index, want)
	}
	tally(t, docs, pods)

	// The template shaped the index: mapped types, not dynamic ones.
	code, body := es8Do(t, es, http.MethodGet, "/"+index+"/_mapping", "")
	if code != http.StatusOK || !strings.Contains(body, `"status_code":{"type":"`) || !strings.Contains(body, `"original":{"type":"keyword"`) {
		t.Errorf("the index's mapping does not come from the template: %d %s", code, body)
	}
	// Without credentials the node refuses: the indexer really authenticated.
	resp, err := http.Get(es.URL + "/" + index + "/_count")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous _count: %s, want 401 (security off?)", resp.Status)
	}
	t.Logf("%s: %d lines indexed exactly once", es, len(docs))
}

func es8Do(t *testing.T, es *realinfra.ES8, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, es.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(es.User, es.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// es8SearchAll returns every document of index by _id (small indices only).
func es8SearchAll(t *testing.T, es *realinfra.ES8, index string) map[string]json.RawMessage {
	t.Helper()
	return realinfra.Documents(t, es.URL, index, es.User, es.Password)
}
