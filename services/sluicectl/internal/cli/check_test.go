package cli_test

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sluice-io/sluice/libs/bulktest"
	"github.com/sluice-io/sluice/libs/kafkatest"
)

// TestCheck runs check against an embedded Kafka and an in-process search
// engine: every line ok for a good configuration, and a FAIL line naming
// the cause for a missing topic, a wrong password, a missing template and
// an unreachable broker.
func TestCheck(t *testing.T) {
	c := kafkatest.New(t, 3, "logs.raw", "logs.parsed", "logs.dlq")
	es := bulktest.New(t, bulktest.WithBasicAuth("elastic", "right-pw"))
	brokers := strings.Join(c.Brokers(), ",")
	indexer := func(extra string) string {
		return writeFile(t, "indexer.yaml", fmt.Sprintf(`kafka: {brokers: %q}
elasticsearch:
  urls: [%q]
  username: elastic
%s`, brokers, es.URL(), extra))
	}

	t.Run("indexer, all ok", func(t *testing.T) {
		o := mustRun(t, 0, "", "check", "-config", indexer("  password: right-pw\n"))
		want := [][]string{
			{"checking " + strings.Fields(o.stdout)[1] + " as the indexer's configuration"},
			{"kafka brokers", "ok (3 brokers: " + strings.Join(sorted(c.Brokers()), ", ") + "; no authentication)"},
			{"topic logs.parsed", "ok (3 partitions, max.message.bytes 1048588)"},
			{"topic logs.dlq", "ok (3 partitions, max.message.bytes 1048588)"},
			{"topic logs.raw", "ok (3 partitions, max.message.bytes 1048588)"},
			{"consumer group sluice-indexer", "ok (not created yet: the first consumer creates it)"},
			{"search engine " + es.URL(), "ok (elasticsearch 8.15.0; authenticated as elastic)"},
			{"index template sluice-logs", "ok (not installed yet; the indexer installs it at start)"},
		}
		wantCells(t, o.stdout, want)
		t.Logf("check:\n%s", o.stdout)
	})
	t.Run("indexer, failures", func(t *testing.T) {
		o := mustRun(t, 1, "", "check", "-config", indexer("  password: wrong-pw\n  template: false\n"))
		if !strings.Contains(o.stdout, "FAIL: authentication refused (HTTP 401)") {
			t.Errorf("stdout:\n%s", o.stdout)
		}
		if strings.Contains(o.stdout, "wrong-pw") {
			t.Errorf("check printed the password:\n%s", o.stdout)
		}
		req, _ := http.NewRequest(http.MethodPut, es.URL()+"/_index_template/other", strings.NewReader(`{"index_patterns":["x-*"]}`))
		req.SetBasicAuth("elastic", "right-pw")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		o = mustRun(t, 1, "", "check", "-config", indexer("  password: right-pw\n  template: false\n"))
		if !hasCells(o.stdout, "index template sluice-logs", "FAIL: not found, and elasticsearch.template is false: install it or turn the setting on") {
			t.Errorf("stdout:\n%s", o.stdout)
		}
		o = mustRun(t, 0, "", "check", "-config", indexer("  password: right-pw\n  template: false\n  template_name: other\n"))
		if !hasCells(o.stdout, "index template other", "ok (present)") {
			t.Errorf("stdout:\n%s", o.stdout)
		}
	})
	t.Run("parser, missing topic", func(t *testing.T) {
		file := writeFile(t, "parser.yaml", fmt.Sprintf("kafka: {brokers: %q, output_topic: nowhere}\nrules: [{name: all, builtin: nginx}]\n", brokers))
		o := mustRun(t, 1, "", "check", "-config", file)
		if !strings.Contains(o.stdout, "as the parser's configuration") || !hasCells(o.stdout, "topic nowhere", "FAIL: does not exist") ||
			!hasCells(o.stdout, "topic logs.raw", "ok (3 partitions, max.message.bytes 1048588)") ||
			!hasCells(o.stdout, "consumer group sluice-parser", "ok (not created yet: the first consumer creates it)") {
			t.Errorf("stdout:\n%s", o.stdout)
		}
		if strings.Contains(o.stdout, "search engine") {
			t.Errorf("a parser has no search engine:\n%s", o.stdout)
		}
	})
	t.Run("shipper, unreachable brokers", func(t *testing.T) {
		file := writeFile(t, "shipper.yaml", fmt.Sprintf("kafka: {brokers: %q}\n", deadAddr(t)))
		o := mustRun(t, 1, "", "--timeout", "1s", "check", "-config", file)
		rows := cells(o.stdout)
		if len(rows) != 2 || rows[1][0] != "kafka brokers" || !strings.HasPrefix(rows[1][1], "FAIL: ") {
			t.Errorf("stdout:\n%s", o.stdout)
		}
	})
	t.Run("usage", func(t *testing.T) {
		o := mustRun(t, 2, "", "check")
		if !strings.Contains(o.stderr, "-config FILE is required") {
			t.Errorf("stderr %q", o.stderr)
		}
		mustRun(t, 2, "", "check", "-config", indexer(""), "-service", "nope")
	})
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// hasCells reports whether a row of the aligned output is exactly cs.
func hasCells(out string, cs ...string) bool {
	for _, r := range cells(out) {
		if reflect.DeepEqual(r, cs) {
			return true
		}
	}
	return false
}
