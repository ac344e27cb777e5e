package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var cellSep = regexp.MustCompile(`\s{2,}`)

// cells splits an aligned table into rows of cells (cells are separated by
// two or more spaces); blank lines are dropped.
func cells(out string) [][]string {
	var rows [][]string
	for l := range strings.SplitSeq(out, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		rows = append(rows, cellSep.Split(strings.TrimRight(l, " "), -1))
	}
	return rows
}

func wantCells(t *testing.T, out string, want [][]string) {
	t.Helper()
	if got := cells(out); !reflect.DeepEqual(got, want) {
		t.Errorf("table:\n%s\ngot cells  %q\nwant cells %q", out, got, want)
	}
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
}

func TestStatus(t *testing.T) {
	tok := svcOpts{token: testToken}
	shipper, _ := startShipper(t, tok)
	parser, psvc := startParser(t, tok)
	psvc.Pause()
	digest := strings.Repeat("ab", 32)

	t.Run("table", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", shipper, "--token", testToken, "status")
		wantCells(t, o.stdout, [][]string{
			{"ADDR", "SERVICE", "STATE", "VERSION", "NODE", "UPTIME", "CONFIG"},
			{shipper, "shipper", "running", "1.2.3", "node-a", "0s", digest[:12]},
		})
	})
	t.Run("several addresses, flags after the command", func(t *testing.T) {
		o := mustRun(t, 0, "", "status", "--addr", shipper+","+parser, "--token", testToken)
		wantCells(t, o.stdout, [][]string{
			{"ADDR", "SERVICE", "STATE", "VERSION", "NODE", "UPTIME", "CONFIG"},
			{shipper, "shipper", "running", "1.2.3", "node-a", "0s", digest[:12]},
			{parser, "parser", "paused", "1.2.3", "node-a", "0s", digest[:12]},
		})
	})
	t.Run("json one address", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", parser, "--token", testToken, "-o", "json", "status")
		var got map[string]any
		decodeJSON(t, o.stdout, &got)
		want := map[string]any{"service": "parser", "version": "1.2.3", "config_digest": digest,
			"uptime_seconds": "0", "state": "paused", "node": "node-a", "reason": ""}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("json several addresses with one down", func(t *testing.T) {
		dead := deadAddr(t)
		o := mustRun(t, 1, "", "--addr", shipper, "--addr", dead, "--token", testToken, "-o", "json", "status")
		var got []struct {
			Addr     string            `json:"addr"`
			Response map[string]string `json:"response"`
			Error    string            `json:"error"`
		}
		decodeJSON(t, o.stdout, &got)
		if len(got) != 2 || got[0].Addr != shipper || got[0].Response["service"] != "shipper" ||
			got[1].Addr != dead || got[1].Error != dead+" unreachable: connection refused" {
			t.Errorf("got %+v", got)
		}
		if o.stderr != "sluicectl: "+dead+" unreachable: connection refused\n" {
			t.Errorf("stderr %q", o.stderr)
		}
	})
	t.Run("address from the environment", func(t *testing.T) {
		t.Setenv("SLUICE_ADDR", parser)
		t.Setenv("SLUICE_TOKEN", testToken)
		o := mustRun(t, 0, "", "status")
		if rows := cells(o.stdout); len(rows) != 2 || rows[1][0] != parser {
			t.Errorf("stdout:\n%s", o.stdout)
		}
	})
}

func TestStats(t *testing.T) {
	shipper, _ := startShipper(t, svcOpts{})
	parser, _ := startParser(t, svcOpts{})

	t.Run("shipper table", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", shipper, "stats")
		wantCells(t, o.stdout, [][]string{
			{"COUNTER", "VALUE"},
			{"bytes_read", "100000"},
			{"in_flight_bytes", "4096"},
			{"lines_produced", "990"},
			{"lines_read", "1000"},
			{"produce_errors", "2"},
		})
	})
	t.Run("parser table with rates and lag", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", parser, "stats")
		wantCells(t, o.stdout, [][]string{
			{"COUNTER", "VALUE", "RATE/s"},
			{"bytes_consumed", "90000", "-"},
			{"dead_letters", "1", "-"},
			{"documents_produced", "890", "-"},
			{"in_flight_bytes", "0", "-"},
			{"parse_failures", "10", "-"},
			{"records_consumed", "900", "250.5"},
			{"TOPIC", "PARTITION", "COMMITTED", "END", "LAG"},
			{"logs.raw", "0", "400", "450", "50"},
			{"logs.raw", "1", "500", "520", "20"},
			{"total", "70"},
		})
	})
	t.Run("several: a section each", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", shipper, "--addr", parser, "stats")
		if !strings.HasPrefix(o.stdout, "== "+shipper+" ==\n") || !strings.Contains(o.stdout, "\n== "+parser+" ==\n") {
			t.Errorf("stdout:\n%s", o.stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", parser, "-o", "json", "stats")
		var got struct {
			Counters map[string]string  `json:"counters"`
			Rates    map[string]float64 `json:"rates"`
			Lag      []map[string]any   `json:"lag"`
		}
		decodeJSON(t, o.stdout, &got)
		if got.Counters["records_consumed"] == "" || got.Rates["records_consumed"] != 250.5 || len(got.Lag) != 2 {
			t.Errorf("got %+v", got)
		}
	})
}

func TestFiles(t *testing.T) {
	shipper, _ := startShipper(t, svcOpts{})
	parser, _ := startParser(t, svcOpts{})

	o := mustRun(t, 0, "", "--addr", shipper, "files")
	wantCells(t, o.stdout, [][]string{
		{"PATH", "NAMESPACE", "POD", "CONTAINER", "SIZE", "READ", "ACKED", "BEHIND", "SKIPPED", "STATE"},
		{"/var/log/containers/web-1_shop_nginx-abc.log", "shop", "web-1", "nginx", "3.0 MiB", "3145728", "2097152", "1.0 MiB", "0 B", "active"},
		{"/var/log/containers/db-0_shop_pg-def.log", "shop", "db-0", "pg", "512 B", "512", "512", "0 B", "2.0 KiB", "rotated"},
	})

	o = mustRun(t, 0, "", "--addr", shipper, "files", "-o", "json")
	var got struct {
		Files []map[string]any `json:"files"`
	}
	decodeJSON(t, o.stdout, &got)
	if len(got.Files) != 2 || got.Files[0]["fingerprint"] != "f1" || got.Files[1]["bytes_behind"] != "0" {
		t.Errorf("json: %+v", got)
	}

	o = mustRun(t, 1, "", "--addr", parser, "files")
	if want := "sluicectl: files is served by the shipper; " + parser + " is the parser\n"; o.stderr != want || o.stdout != "" {
		t.Errorf("stderr %q, want %q; stdout %q", o.stderr, want, o.stdout)
	}
}

func TestAccounts(t *testing.T) {
	shipper, _ := startShipper(t, svcOpts{})
	parser, _ := startParser(t, svcOpts{})
	indexer, _, _ := startIndexer(t, svcOpts{})
	t.Run("shipper alone", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", shipper, "accounts")
		wantCells(t, o.stdout, [][]string{
			{"NAMESPACE", "POD", "CONTAINER", "TAILED", "WRITTEN", "CUT", "SKIPPED_BYTES"},
			{"shop", "web-1", "nginx", "10", "9", "1", "300"},
		})
	})
	t.Run("three services merged", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", shipper+","+parser+","+indexer, "accounts")
		wantCells(t, o.stdout, [][]string{
			{"NAMESPACE", "POD", "CONTAINER", "TAILED", "WRITTEN", "CUT", "SKIPPED_BYTES", "PARSED", "FAILED", "PARSER_DLQ", "INDEXED", "INDEXER_DLQ", "DIFFERENCE", "WHERE"},
			{"ops", "cron-1", "job", "0", "0", "0", "0", "2", "0", "0", "2", "0", "-2", "counts disagree (restart, replay or a replica not asked)"},
			{"shop", "web-1", "nginx", "10", "9", "1", "300", "8", "1", "1", "6", "1", "1", "raw topic 0, parsed topic 1"},
		})
		t.Logf("accounts:\n%s", o.stdout)
	})
	t.Run("filter and json", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", shipper+","+parser+","+indexer, "-o", "json", "accounts", "--namespace", "shop", "--pod", "web-1")
		var got struct {
			Accounts []map[string]any `json:"accounts"`
		}
		decodeJSON(t, o.stdout, &got)
		if len(got.Accounts) != 1 || got.Accounts[0]["pod"] != "web-1" || got.Accounts[0]["difference"] != float64(1) || got.Accounts[0]["parsed_pending"] != float64(1) {
			t.Errorf("got %v", got)
		}
		o = mustRun(t, 0, "", "--addr", parser, "accounts", "--namespace", "none")
		if o.stdout != "no containers counted yet\n" {
			t.Errorf("stdout %q", o.stdout)
		}
	})
	t.Run("one service down", func(t *testing.T) {
		dead := deadAddr(t)
		o := mustRun(t, 1, "", "--addr", parser+","+dead, "accounts")
		if !strings.Contains(o.stdout, "PARSED") || !strings.Contains(o.stderr, dead) {
			t.Errorf("stdout %q stderr %q", o.stdout, o.stderr)
		}
	})
}

func TestConfig(t *testing.T) {
	indexer, _, _ := startIndexer(t, svcOpts{token: testToken})
	parser, _ := startParser(t, svcOpts{token: testToken})
	o := mustRun(t, 0, "", "--addr", indexer, "--token", testToken, "config")
	want := `kafka:
    brokers:
        - kafka-0:9092
    group: sluice-indexer
    sasl:
        mechanism: scram-sha-512
        username: '[redacted]'
        password: '[redacted]'
elasticsearch:
    urls:
        - https://elastic:xxxxx@es:9200
    api_key: '[redacted]'
`
	if o.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", o.stdout, want)
	}
	o = mustRun(t, 0, "", "--addr", indexer+","+parser, "--token", testToken, "config")
	if !strings.Contains(o.stdout, "# "+indexer+"\n") || !strings.Contains(o.stdout, "\n# "+parser+"\n") {
		t.Errorf("several services: %s", o.stdout)
	}
	o = mustRun(t, 0, "", "--addr", indexer, "--token", testToken, "-o", "json", "config")
	for _, out := range []string{o.stdout, o.stderr} {
		if strings.Contains(out, fakeSecret) {
			t.Fatalf("sluicectl config shows the secret: %s", out)
		}
	}
	if !strings.Contains(o.stdout, `"config_yaml"`) {
		t.Errorf("json: %s", o.stdout)
	}
}

func TestPauseResume(t *testing.T) {
	shipper, svc := startShipper(t, svcOpts{token: testToken})
	indexer, isvc, _ := startIndexer(t, svcOpts{token: testToken})
	tokenFile := writeFile(t, "token", testToken+"\n")

	o := mustRun(t, 0, "", "--addr", shipper+","+indexer, "--token-file", tokenFile, "pause")
	wantCells(t, o.stdout, [][]string{{"ADDR", "STATE"}, {shipper, "paused"}, {indexer, "paused"}})
	if svc.State() != "paused" || isvc.State() != "paused" {
		t.Fatal("not paused")
	}
	o = mustRun(t, 0, "", "--addr", shipper, "--token-file", tokenFile, "resume", "-o", "json")
	var got map[string]string
	decodeJSON(t, o.stdout, &got)
	if got["state"] != "running" || svc.State() != "running" || isvc.State() != "paused" {
		t.Errorf("json %v; shipper %s, indexer %s", got, svc.State(), isvc.State())
	}
}

func TestReload(t *testing.T) {
	parser, svc := startParser(t, svcOpts{})
	good := writeFile(t, "parser.yaml", "kafka:\n  brokers: [k:9092]\n")
	bad := writeFile(t, "bad.yaml", "kafka:\n  bogus: 1\n")
	digest := func(doc string) string { return strings.Repeat("0", 64-2) + strconv.FormatInt(int64(len(doc)), 16) }

	t.Run("applied", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", parser, "reload", "--file", good)
		wantCells(t, o.stdout, [][]string{{"ADDR", "RESULT", "CONFIG DIGEST"}, {parser, "applied", digest("kafka:\n  brokers: [k:9092]\n")}})
		if n := len(svc.reloaded); n != 1 || svc.reloaded[0] != "kafka:\n  brokers: [k:9092]\n" {
			t.Errorf("service got %q", svc.reloaded)
		}
	})
	t.Run("from stdin, json", func(t *testing.T) {
		doc := "log:\n  level: debug\n"
		o := mustRun(t, 0, doc, "--addr", parser, "-o", "json", "reload", "--file", "-")
		var got map[string]string
		decodeJSON(t, o.stdout, &got)
		if got["config_digest"] != digest(doc) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("re-read own file", func(t *testing.T) {
		mustRun(t, 0, "", "--addr", parser, "reload")
		if last := svc.reloaded[len(svc.reloaded)-1]; last != "" {
			t.Errorf("sent %q, want an empty document", last)
		}
	})
	t.Run("refused", func(t *testing.T) {
		before := svc.ConfigDigest()
		o := mustRun(t, 1, "", "--addr", parser, "reload", "--file", bad)
		want := "sluicectl: " + parser + ": config refused, previous config still running: kafka.bogus: unknown key\n"
		if o.stderr != want || o.stdout != "" {
			t.Errorf("stderr %q\nwant   %q", o.stderr, want)
		}
		if svc.ConfigDigest() != before {
			t.Error("digest changed")
		}
	})
	t.Run("missing file", func(t *testing.T) {
		o := mustRun(t, 1, "", "--addr", parser, "reload", "--file", "/nonexistent/x.yaml")
		if !strings.HasPrefix(o.stderr, "sluicectl: --file: open /nonexistent/x.yaml: no such file") {
			t.Errorf("stderr %q", o.stderr)
		}
	})
}

func TestTestParse(t *testing.T) {
	parser, _ := startParser(t, svcOpts{})
	shipper, _ := startShipper(t, svcOpts{})
	input := "GET /index.html\r\n\nnot a request\n"
	wantTable := `#1  matched  1.5µs
    line: GET /index.html
    {
      "method": "GET",
      "path": "/index.html"
    }

#2  not matched  800ns  error: no pattern matched
    line: not a request
    {
      "message": "not a request",
      "tags": [
        "_parsefailure"
      ]
    }

2 lines: 1 matched, 1 not matched
`

	t.Run("named rule, stdin", func(t *testing.T) {
		o := mustRun(t, 0, input, "--addr", parser, "test-parse", "--rule", "nginx")
		if o.stdout != wantTable {
			t.Errorf("stdout:\n%s\nwant:\n%s", o.stdout, wantTable)
		}
	})
	t.Run("rule file, FILE before flags", func(t *testing.T) {
		rule := writeFile(t, "rule.yaml", "name: inline\nprocessors:\n  - grok: {pattern: '%{WORD:method} %{URIPATH:path}'}\n")
		lines := writeFile(t, "lines.log", input)
		o := mustRun(t, 0, "", "--addr", parser, "test-parse", lines, "--rule-file", rule)
		if o.stdout != wantTable {
			t.Errorf("stdout:\n%s", o.stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		o := mustRun(t, 0, input, "--addr", parser, "-o", "json", "test-parse", "--rule", "nginx")
		var got struct {
			Results []struct {
				Line         string `json:"line"`
				Matched      bool   `json:"matched"`
				CostNanos    string `json:"cost_nanos"`
				DocumentJSON string `json:"document_json"`
				Error        string `json:"error"`
			} `json:"results"`
		}
		decodeJSON(t, o.stdout, &got)
		if len(got.Results) != 2 || !got.Results[0].Matched || got.Results[0].CostNanos != "1500" ||
			got.Results[0].DocumentJSON != `{"method":"GET","path":"/index.html"}` || got.Results[1].Error != "no pattern matched" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("many lines are sent in chunks", func(t *testing.T) {
		var b strings.Builder
		for i := range 2500 {
			b.WriteString("GET /" + strconv.Itoa(i) + "\n")
		}
		o := mustRun(t, 0, b.String(), "--addr", parser, "test-parse", "--rule", "nginx")
		if !strings.HasSuffix(o.stdout, "\n2500 lines: 2500 matched, 0 not matched\n") || !strings.Contains(o.stdout, "#2500  matched") {
			t.Errorf("tail: %q", o.stdout[max(0, len(o.stdout)-200):])
		}
	})
	t.Run("unknown rule", func(t *testing.T) {
		o := mustRun(t, 1, input, "--addr", parser, "test-parse", "--rule", "nope")
		if want := "sluicectl: " + parser + ": not found: unknown rule \"nope\"\n"; o.stderr != want {
			t.Errorf("stderr %q, want %q", o.stderr, want)
		}
	})
	t.Run("against the shipper", func(t *testing.T) {
		o := mustRun(t, 1, input, "--addr", shipper, "test-parse", "--rule", "nginx")
		if want := "sluicectl: test-parse is served by the parser; " + shipper + " is the shipper\n"; o.stderr != want {
			t.Errorf("stderr %q", o.stderr)
		}
	})
	t.Run("no lines", func(t *testing.T) {
		o := mustRun(t, 1, "\n\n", "--addr", parser, "test-parse", "--rule", "nginx")
		if o.stderr != "sluicectl: no lines to parse in stdin (give a FILE or pipe lines on stdin)\n" {
			t.Errorf("stderr %q", o.stderr)
		}
	})
}

func TestRules(t *testing.T) {
	parser, _ := startParser(t, svcOpts{})
	indexer, _, _ := startIndexer(t, svcOpts{})
	o := mustRun(t, 0, "", "--addr", parser, "rules")
	wantCells(t, o.stdout, [][]string{
		{"#", "NAME", "MATCH", "PROCESSORS", "RECORDS", "FAILURES"},
		{"1", "nginx", "hint=nginx", "accesslog,timestamp", "1200", "3"},
		{"2", "default", "*", "json", "40", "0"},
	})
	o = mustRun(t, 0, "", "--addr", parser, "rules", "-o", "json")
	var got struct {
		Rules []struct {
			Name       string   `json:"name"`
			Processors []string `json:"processors"`
		} `json:"rules"`
	}
	decodeJSON(t, o.stdout, &got)
	if len(got.Rules) != 2 || got.Rules[1].Name != "default" || got.Rules[0].Processors[1] != "timestamp" {
		t.Errorf("got %+v", got)
	}
	o = mustRun(t, 1, "", "--addr", indexer, "rules")
	if want := "sluicectl: rules is served by the parser; " + indexer + " is the indexer\n"; o.stderr != want {
		t.Errorf("stderr %q", o.stderr)
	}
}

func TestTap(t *testing.T) {
	parser, _ := startParser(t, svcOpts{token: testToken})
	t.Run("table", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", parser, "--token", testToken, "tap", "--limit", "2", "--rate", "100")
		want := "[nginx] GET /item/0\n  {\"path\":\"/item/0\"}\n[nginx] GET /item/1\n  {\"path\":\"/item/1\"}\n"
		if o.stdout != want {
			t.Errorf("stdout %q\nwant   %q", o.stdout, want)
		}
	})
	t.Run("json lines", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", parser, "--token", testToken, "-o", "json", "tap", "--limit", "3")
		lines := strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("stdout %q", o.stdout)
		}
		var ev map[string]any
		decodeJSON(t, lines[2], &ev)
		if ev["raw_line"] != "GET /item/2" || ev["rule"] != "nginx" {
			t.Errorf("event %v", ev)
		}
	})
	t.Run("until interrupted", func(t *testing.T) {
		// Room for the dial, the status call and two events on a loaded
		// machine; the stream then runs until the interruption.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		o := runCtx(t, ctx, "", "--addr", parser, "--token", testToken, "tap")
		if o.code != 0 || !strings.Contains(o.stdout, "[nginx] GET /item/1\n") {
			t.Errorf("exit %d, stderr %q, stdout %d bytes", o.code, o.stderr, len(o.stdout))
		}
	})
	t.Run("no token", func(t *testing.T) {
		o := mustRun(t, 1, "", "--addr", parser, "tap")
		if want := "sluicectl: " + parser + ": unauthenticated: pass --token or --token-file\n"; o.stderr != want {
			t.Errorf("stderr %q", o.stderr)
		}
	})
	t.Run("bad rate", func(t *testing.T) {
		mustRun(t, 2, "", "--addr", parser, "tap", "--rate", "5000")
	})
	t.Run("filtered, dead letters included", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", parser, "--token", testToken, "tap", "--limit", "2", "--pod", "web-1", "--failed-only")
		want := "[nginx, dead-lettered] shop/web-1/nginx: GET /item/5\n  reason: rule nginx: processor panic\n" +
			"[nginx, dead-lettered] shop/web-1/nginx: GET /item/11\n  reason: rule nginx: processor panic\n"
		if o.stdout != want {
			t.Errorf("stdout %q\nwant   %q", o.stdout, want)
		}
	})
	t.Run("every parser", func(t *testing.T) {
		other, _ := startParser(t, svcOpts{token: testToken})
		o := mustRun(t, 0, "", "--addr", parser+","+other, "--token", testToken, "tap", "--limit", "20")
		if n := strings.Count(o.stdout, "\n  {"); n != 20 {
			t.Errorf("%d events, want 20:\n%s", n, o.stdout)
		}
		for _, addr := range []string{parser, other} {
			if !strings.Contains(o.stdout, addr+" [nginx] GET /item/") {
				t.Errorf("no event from %s:\n%s", addr, o.stdout)
			}
		}
		o = mustRun(t, 0, "", "--addr", parser+","+other, "--token", testToken, "-o", "json", "tap", "--limit", "4")
		for _, l := range strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n") {
			var ev struct {
				Addr  string         `json:"addr"`
				Event map[string]any `json:"event"`
			}
			decodeJSON(t, l, &ev)
			if (ev.Addr != parser && ev.Addr != other) || !strings.HasPrefix(fmt.Sprint(ev.Event["raw_line"]), "GET /item/") {
				t.Errorf("json line %s", l)
			}
		}
	})
	t.Run("one parser down", func(t *testing.T) {
		o := mustRun(t, 1, "", "--addr", parser+","+deadAddr(t), "--token", testToken, "tap", "--limit", "1")
		if o.stdout != "" || o.stderr == "" {
			t.Errorf("stdout %q stderr %q", o.stdout, o.stderr)
		}
	})
}

func TestDLQ(t *testing.T) {
	indexer, _, ix := startIndexer(t, svcOpts{token: testToken})
	parser, _ := startParser(t, svcOpts{token: testToken})
	auth := []string{"--addr", indexer, "--token", testToken}

	t.Run("list", func(t *testing.T) {
		o := mustRun(t, 0, "", append(auth, "dlq", "list")...)
		wantCells(t, o.stdout, [][]string{
			{"LETTER", "TIME", "STAGE", "CLASS", "STATUS", "POD", "LINE", "REASON"},
			{"0:7", "2026-01-02T03:04:05Z", "indexer", "permanent", "400", "shop/web-1/nginx", "GET /x 200", "failed to parse field [status] of type [long]"},
			{"1:12", "2026-01-02T03:04:06Z", "parser", "permanent", "-", "shop/db-0/pg", "\x01binary junk that no rule matches", "rule nginx: no pattern matched; " + longReason},
		})
		t.Logf("dlq list:\n%s", o.stdout)
	})
	t.Run("show", func(t *testing.T) {
		o := mustRun(t, 0, "", append(auth, "dlq", "show", "1:12")...)
		for _, want := range []string{
			"letter:     1:12\n", "stage:      parser\n", "class:      permanent\n", "pod:        shop/db-0/pg\n",
			"reason:     rule nginx: no pattern matched; " + longReason + "\n",
			"line:       \x01binary junk that no rule matches\n",
			"  sluice-dlq-stage   parser\n", "  sluice-dlq-reason  rule nginx: no pattern matched\n",
			"value:\n  {\n    \"line\": \"AWJpbmFyeQ==\",\n    \"stream\": \"STREAM_STDERR\"\n  }\n",
		} {
			if !strings.Contains(o.stdout, want) {
				t.Errorf("dlq show stdout lacks %q:\n%s", want, o.stdout)
			}
		}
		o = mustRun(t, 0, "", append(auth, "-o", "json", "dlq", "show", "0:7")...)
		var got map[string]any
		decodeJSON(t, o.stdout, &got)
		if got["offset"] != "7" || got["line"] != "GET /x 200" || got["pod"] != "web-1" {
			t.Errorf("json %v", got)
		}
		o = mustRun(t, 1, "", append(auth, "dlq", "show", "0:8")...)
		if !strings.Contains(o.stderr, "no dead letter at 0:8") {
			t.Errorf("stderr %q", o.stderr)
		}
	})
	t.Run("list limit and from, json", func(t *testing.T) {
		o := mustRun(t, 0, "", append(auth, "-o", "json", "dlq", "list", "--limit", "1", "--from", "0:8")...)
		var got struct {
			Letters []map[string]any `json:"letters"`
		}
		decodeJSON(t, o.stdout, &got)
		if len(got.Letters) != 1 || got.Letters[0]["offset"] != "12" || got.Letters[0]["reason"] != "rule nginx: no pattern matched; "+longReason {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("list empty", func(t *testing.T) {
		o := mustRun(t, 0, "", append(auth, "dlq", "list", "--from", "0:100,1:100")...)
		if o.stdout != "no dead letters\n" {
			t.Errorf("stdout %q", o.stdout)
		}
	})
	t.Run("replay", func(t *testing.T) {
		o := mustRun(t, 0, "", append(auth, "dlq", "replay", "--partition", "1", "--from", "100", "--to", "112")...)
		if o.stdout != "replayed 12 dead letters from partition 1, offsets 100 to 112 (exclusive)\n" {
			t.Errorf("stdout %q", o.stdout)
		}
		o = mustRun(t, 0, "", append(auth, "-o", "json", "dlq", "replay", "--partition", "0", "--from", "0")...)
		var got map[string]any
		decodeJSON(t, o.stdout, &got)
		if got["replayed"] != "5" {
			t.Errorf("got %v", got)
		}
		o = mustRun(t, 0, "", append(auth, "dlq", "replay", "--dry-run", "--partition", "0", "--from", "7", "--to", "8")...)
		for _, want := range []string{"would replay 1 dead letter from partition 0", "7       parser  logs.raw  grok: no match", "left 1 dead letter of a stage with no known topic"} {
			if !strings.Contains(o.stdout, want) {
				t.Errorf("dry run stdout %q lacks %q", o.stdout, want)
			}
		}
		ix.mu.Lock()
		defer ix.mu.Unlock()
		if len(ix.replayed) != 3 || !ix.replayed[2].GetDryRun() || ix.replayed[0].GetPartition() != 1 || ix.replayed[0].GetFromOffset() != 100 || ix.replayed[0].GetToOffset() != 112 {
			t.Errorf("requests %v", ix.replayed)
		}
	})
	t.Run("against the parser", func(t *testing.T) {
		o := mustRun(t, 1, "", "--addr", parser, "--token", testToken, "dlq", "list")
		if want := "sluicectl: dlq list is served by the indexer; " + parser + " is the parser\n"; o.stderr != want {
			t.Errorf("stderr %q", o.stderr)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no partition", []string{"dlq", "replay", "--from", "1"}, "--partition P is required"},
		{"no from", []string{"dlq", "replay", "--partition", "1"}, "--from N is required"},
		{"to before from", []string{"dlq", "replay", "--partition", "1", "--from", "9", "--to", "3"}, "--to 3 must be after --from 9"},
		{"two indexers", []string{"--addr", parser, "dlq", "replay", "--partition", "1", "--from", "9"}, "dlq replay talks to one service; got 2 addresses"},
		{"bad from pair", []string{"dlq", "list", "--from", "x"}, `"x" is not PARTITION:OFFSET`},
		{"no subcommand", []string{"dlq"}, "dlq needs a subcommand: list, show or replay"},
		{"show without letter", []string{"dlq", "show"}, "dlq show needs one PARTITION:OFFSET"},
		{"show two letters", []string{"dlq", "show", "0:1,1:2"}, `"0:1,1:2" is not one PARTITION:OFFSET`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := mustRun(t, 2, "", append(auth, tc.args...)...)
			if !strings.Contains(o.stderr, tc.want) || !strings.Contains(o.stderr, "Run 'sluicectl help") {
				t.Errorf("stderr %q, want it to contain %q", o.stderr, tc.want)
			}
		})
	}
}

func TestAuthFailures(t *testing.T) {
	addr, _ := startShipper(t, svcOpts{token: testToken})
	for _, tc := range []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"no token", nil, "", addr + ": unauthenticated: pass --token or --token-file"},
		{"wrong token", []string{"--token", "nope"}, "", addr + ": permission denied: the token was refused; check --token or --token-file"},
		{"wrong token from env", nil, "nope", addr + ": permission denied: the token was refused; check --token or --token-file"},
		{"flag beats env", []string{"--token", testToken}, "nope", ""},
		{"env", nil, testToken, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SLUICE_TOKEN", tc.env)
			for _, cmd := range [][]string{{"status"}, {"stats"}, {"files"}, {"pause"}, {"resume"}, {"reload"}} {
				args := append(append([]string{"--addr", addr}, tc.args...), cmd...)
				if tc.want == "" {
					mustRun(t, 0, "", args...)
					continue
				}
				o := mustRun(t, 1, "", args...)
				if o.stderr != "sluicectl: "+tc.want+"\n" || o.stdout != "" {
					t.Errorf("%s: stderr %q, want %q", cmd, o.stderr, tc.want)
				}
			}
		})
	}
	t.Run("both token flags", func(t *testing.T) {
		o := mustRun(t, 2, "", "--addr", addr, "--token", "a", "--token-file", "b", "status")
		if !strings.HasPrefix(o.stderr, "sluicectl: give --token or --token-file, not both\n") {
			t.Errorf("stderr %q", o.stderr)
		}
	})
	t.Run("empty token file", func(t *testing.T) {
		o := mustRun(t, 1, "", "--addr", addr, "--token-file", writeFile(t, "tok", " \n"), "status")
		if !strings.Contains(o.stderr, "the token is empty") {
			t.Errorf("stderr %q", o.stderr)
		}
	})
}

func TestUnreachable(t *testing.T) {
	dead := deadAddr(t)
	for _, args := range [][]string{
		{"status"}, {"stats"}, {"files"}, {"pause"}, {"resume"}, {"reload"}, {"rules"},
		{"test-parse", "--rule", "nginx"}, {"tap"}, {"dlq", "list"}, {"dlq", "replay", "--partition", "0", "--from", "0"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			o := mustRun(t, 1, "GET /\n", append([]string{"--addr", dead}, args...)...)
			if want := "sluicectl: " + dead + " unreachable: connection refused\n"; o.stderr != want || o.stdout != "" {
				t.Errorf("stderr %q, want %q", o.stderr, want)
			}
		})
	}
	t.Run("not an admin endpoint", func(t *testing.T) {
		addr, _ := startAdmin(t, "other", svcOpts{}, nil)
		o := mustRun(t, 1, "", "--addr", addr, "files")
		if want := "sluicectl: files is served by the shipper; " + addr + " is the other\n"; o.stderr != want {
			t.Errorf("stderr %q", o.stderr)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		// A listener that accepts but never speaks HTTP/2.
		o := mustRun(t, 1, "", "--addr", silentAddr(t), "--timeout", "200ms", "status")
		if !strings.Contains(o.stderr, "unreachable: ") {
			t.Errorf("stderr %q", o.stderr)
		}
	})
}

func TestTop(t *testing.T) {
	tok := svcOpts{token: testToken}
	shipper, _ := startShipper(t, tok)
	parser, psvc := startParser(t, tok)
	indexer, _, _ := startIndexer(t, tok)
	dead := deadAddr(t)
	psvc.Pause()
	addrs := strings.Join([]string{dead, indexer, parser, shipper}, ",")

	t.Run("once", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", addrs, "--token", testToken, "top", "--once", "--interval", "100ms")
		if strings.Contains(o.stdout, "\x1b[") {
			t.Error("--once must not clear the screen")
		}
		head, table, _ := strings.Cut(o.stdout, "\n\n")
		if !regexp.MustCompile(`^sluicectl top   3/4 services up   every 100ms   \d\d:\d\d:\d\d$`).MatchString(head) {
			t.Errorf("header %q", head)
		}
		rows := cells(table)
		if len(rows) != 5 {
			t.Fatalf("table:\n%s", table)
		}
		if want := []string{"ADDR", "SERVICE", "STATE", "IN/s", "OUT/s", "BYTES/s", "IN-FLIGHT", "LAG", "ERR/s", "ERRORS"}; !reflect.DeepEqual(rows[0], want) {
			t.Errorf("head %q", rows[0])
		}
		// Pipeline order, unreachable last; rates from counter deltas over
		// ~100ms: the shipper's lines_read advances 500 per poll.
		check := func(r []string, addr, svc, state, inflight, lag, errs string) {
			t.Helper()
			if len(r) != 10 || r[0] != addr || r[1] != svc || r[2] != state || r[6] != inflight || r[7] != lag || r[9] != errs {
				t.Errorf("row %q", r)
				return
			}
			for _, c := range []string{r[3], r[4]} {
				if v := parseRate(t, c); v <= 0 {
					t.Errorf("row %q: rate %q", r, c)
				}
			}
		}
		check(rows[1], shipper, "shipper", "running", "4.0 KiB", "-", "2")
		check(rows[2], parser, "parser", "paused", "0 B", "70", "14")
		check(rows[3], indexer, "indexer", "running", "2.0 MiB", "-", "3")
		if v := parseRate(t, rows[1][5]); v <= 0 || !strings.HasSuffix(rows[1][5], "iB") {
			t.Errorf("shipper bytes/s %q", rows[1][5])
		}
		if rows[3][8] != "0" {
			t.Errorf("indexer err/s %q", rows[3][8])
		}
		if want := []string{dead, "-", "unreachable: connection refused"}; !reflect.DeepEqual(rows[4], want) {
			t.Errorf("dead row %q", rows[4])
		}
	})
	t.Run("once json", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", addrs, "--token", testToken, "-o", "json", "top", "--once", "--interval", "50ms")
		var f struct {
			Time     time.Time `json:"time"`
			Services []struct {
				Addr      string   `json:"addr"`
				Service   string   `json:"service"`
				State     string   `json:"state"`
				InPerSec  *float64 `json:"in_per_sec"`
				Lag       *float64 `json:"lag"`
				Problem   string   `json:"problem"`
				ErrorsTot *float64 `json:"errors_total"`
			} `json:"services"`
		}
		decodeJSON(t, o.stdout, &f)
		if len(f.Services) != 4 || f.Time.IsZero() {
			t.Fatalf("frame %+v", f)
		}
		s := f.Services
		if s[0].Service != "shipper" || s[0].InPerSec == nil || *s[0].InPerSec <= 0 || s[0].Lag != nil ||
			s[1].Service != "parser" || *s[1].Lag != 70 || s[1].State != "paused" ||
			s[3].Addr != dead || s[3].Problem != "unreachable: connection refused" || s[3].InPerSec != nil {
			t.Errorf("frame %+v", s)
		}
	})
	// The live runs end by interruption; their deadlines leave room for
	// several polls on a loaded machine.
	t.Run("live refreshes in place", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		o := runCtx(t, ctx, "", "--addr", shipper+","+dead, "--token", testToken, "top", "--interval", "100ms")
		if o.code != 0 {
			t.Fatalf("exit %d: %s", o.code, o.stderr)
		}
		frames := strings.Split(o.stdout, "\x1b[H\x1b[2J")
		if frames[0] != "" || len(frames) < 3 {
			t.Fatalf("%d frames in %q", len(frames)-1, o.stdout)
		}
		// The first frame has no earlier poll: no rates yet; later ones do.
		first, second := cells(frames[1]), cells(frames[2])
		if first[2][3] != "-" || parseRate(t, second[2][3]) <= 0 {
			t.Errorf("first:\n%s\nsecond:\n%s", frames[1], frames[2])
		}
	})
	t.Run("live json: a frame per line", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		o := runCtx(t, ctx, "", "--addr", indexer, "--token", testToken, "-o", "json", "top", "--interval", "100ms")
		lines := strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n")
		if o.code != 0 || len(lines) < 2 || strings.Contains(o.stdout, "\x1b") {
			t.Fatalf("exit %d, stdout %q", o.code, o.stdout)
		}
		for _, l := range lines {
			var f struct {
				Services []map[string]any `json:"services"`
			}
			decodeJSON(t, l, &f)
			if len(f.Services) != 1 || f.Services[0]["service"] != "indexer" {
				t.Errorf("frame %s", l)
			}
		}
	})
	t.Run("without a token every row says so", func(t *testing.T) {
		o := mustRun(t, 0, "", "--addr", shipper, "top", "--once", "--interval", "20ms")
		if rows := cells(o.stdout); len(rows) != 3 || rows[2][2] != "unauthenticated: pass --token or --token-file" {
			t.Errorf("stdout:\n%s", o.stdout)
		}
	})
}

func parseRate(t *testing.T, s string) float64 {
	t.Helper()
	s = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s, "iB"), " K"), " M")
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"):
		s, mult = strings.TrimSuffix(s, "k"), 1e3
	case strings.HasSuffix(s, "M"):
		s, mult = strings.TrimSuffix(s, "M"), 1e6
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return -1
	}
	return v * mult
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"no command", nil, 2, "", "sluicectl: no command given"},
		{"help", []string{"help"}, 0, "  top                    Live view", ""},
		{"--help", []string{"--help"}, 0, "Global flags", ""},
		{"help command", []string{"help", "test-parse"}, 0, "Usage: sluicectl test-parse [flags] [FILE]", ""},
		{"command -h", []string{"dlq", "replay", "-h"}, 0, "--partition P", ""},
		{"help dlq", []string{"help", "dlq"}, 0, "Usage: sluicectl dlq list", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", `sluicectl: unknown command "frobnicate"`},
		{"unknown flag", []string{"status", "--frob"}, 2, "", "sluicectl: status: flag provided but not defined: -frob\nRun 'sluicectl help status' for usage."},
		{"bad output", []string{"-o", "yaml", "status"}, 2, "", `-o "yaml": want table or json`},
		{"bad timeout", []string{"--timeout", "0s", "status"}, 2, "", "--timeout must be positive"},
		{"bad addr", []string{"--addr", "a b", "status"}, 2, "", `--addr: "a b" is not host:port`},
		{"extra args", []string{"status", "now"}, 2, "", `status takes no arguments, got "now"`},
		{"test-parse needs a rule", []string{"test-parse"}, 2, "", "give --rule NAME or --rule-file F"},
		{"test-parse both rules", []string{"test-parse", "--rule", "a", "--rule-file", "b"}, 2, "", "give --rule NAME or --rule-file F"},
		{"top interval", []string{"top", "--interval", "1ms"}, 2, "", "--interval 1ms is too short"},
		{"reload empty file", []string{"reload", "--file", "/dev/null"}, 2, "", "--file /dev/null is empty"},
		{"missing ca", []string{"--ca", "/nonexistent.pem", "status"}, 1, "", "sluicectl: --ca: open /nonexistent.pem"},
		{"cert without key", []string{"--cert", "/nonexistent.pem", "status"}, 1, "", "sluicectl: --cert needs --key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := run(t, "", tc.args...)
			if o.code != tc.code || !strings.Contains(o.stdout, tc.stdout) || !strings.Contains(o.stderr, tc.stderr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", o.code, tc.code, o.stdout, o.stderr)
			}
		})
	}
}

func FuzzRun(f *testing.F) {
	for _, s := range []string{
		"status", "--addr\x00a:1,b:2\x00stats", "-o\x00json\x00files", "pause\x00--timeout\x001ms",
		"reload\x00--file\x00-", "test-parse\x00--rule\x00x\x00-", "test-parse\x00--rule-file\x00/dev/null",
		"tap\x00--rate\x00-1\x00--limit\x009", "dlq\x00list\x00--from\x000:1,2:3", "dlq\x00replay\x00--partition\x0099999999999\x00--from\x000",
		"top\x00--once\x00--interval\x0010ms", "top", "help\x00dlq", "--\x00status", "status\x00--\x00x", "--addr\x00[::1\x00status",
		"--token\x00a\x00--token-file\x00b", "-o", "--tls\x00--cert\x00x\x00status", "dlq\x00--frob",
	} {
		f.Add(s, "GET /\n")
	}
	// Every call fails at once: the context is already cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Fuzz(func(t *testing.T, argv, stdin string) {
		args := strings.Split(argv, "\x00")
		var out, errb strings.Builder
		code := runFuzz(ctx, args, stdin, &out, &errb)
		if code < 0 || code > 2 {
			t.Fatalf("exit %d", code)
		}
	})
}
