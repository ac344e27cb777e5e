package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/bulktest"
	libcfg "github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/loadtest/gen"
	"github.com/sluice-io/sluice/loadtest/stack"
	indexercfg "github.com/sluice-io/sluice/services/indexer/config"
	parsercfg "github.com/sluice-io/sluice/services/parser/config"
	shippercfg "github.com/sluice-io/sluice/services/shipper/config"
)

// accountsRow is sluicectl accounts -o json's row.
type accountsRow struct {
	Namespace     string `json:"namespace"`
	Pod           string `json:"pod"`
	Container     string `json:"container"`
	Tailed        int64  `json:"lines_tailed"`
	Written       int64  `json:"lines_written"`
	Cut           int64  `json:"lines_oversized"`
	Parsed        int64  `json:"lines_parsed"`
	Failed        int64  `json:"lines_failed"`
	ParserLetter  int64  `json:"lines_dead_lettered_parser"`
	Indexed       int64  `json:"lines_indexed"`
	IndexerLetter int64  `json:"lines_dead_lettered_indexer"`
	Difference    int64  `json:"difference"`
	Where         string `json:"where"`
}

// TestAccountsAcrossRun runs the three services on embedded Kafka into the
// bulk-API test server and checks what the sluicectl binary's accounts
// command merges from their admin APIs, per container: the shipper's lines
// written and cut by max_event_bytes, the parser's parsed, failed and
// dead-lettered, the indexer's indexed and dead-lettered, and a difference
// of zero once everything is through.
//
// PARSED counts the lines the parser published (FAILED those of them it
// published with a failure tag); its dead letters are apart in PARSER_DLQ.
// Two containers keep the figures apart: web-0/nginx is parsed by a rule
// that dead-letters what it cannot parse (3 lines of garbage), and two of
// its access lines are refused by the engine as a mapping conflict (the
// indexer's dead letters); worker-0/app is parsed by a rule that tags
// failures and keeps them, and gets one line of 5000 bytes that the
// shipper cuts at 2 KiB (which then fails its rule and is indexed tagged).
func TestAccountsAcrossRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds sluicectl and runs the pipeline")
	}
	ctl := filepath.Join(t.TempDir(), "sluicectl")
	build := exec.Command("go", "build", "-o", ctl, "github.com/sluice-io/sluice/services/sluicectl/cmd/sluicectl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build sluicectl: %v\n%s", err, out)
	}

	es := bulktest.New(t)
	es.SetItemHook(func(it bulktest.Item) (int, string, string) {
		if bytes.Contains(it.Source, []byte("/poison/")) {
			return http.StatusBadRequest, "document_parsing_exception", "[url.path] failed to parse: test poison"
		}
		return 0, "", ""
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
		Dir: t.TempDir(), Parsers: 1, Partitions: 2, SearchURL: es.URL(), SearchFlavor: "elasticsearch",
		Rules: []parsercfg.Rule{
			{Name: "nginx-strict", Builtin: "nginx", OnFailure: "dlq", Match: parsercfg.Match{Containers: []string{"nginx"}}},
			{Name: "nginx-tagged", Builtin: "nginx"},
		},
		TuneShipper: func(c *shippercfg.Config) { c.Tail.MaxEventBytes = 2048 },
		TuneIndexer: func(c *indexercfg.Config) { c.Elasticsearch.BackoffMax = libcfg.Duration(100 * time.Millisecond) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()

	web, err := gen.NewPod(st.LogDir(), "shop", "web-0", "nginx")
	if err != nil {
		t.Fatal(err)
	}
	defer web.Close()
	worker, err := gen.NewPod(st.LogDir(), "batch", "worker-0", "app")
	if err != nil {
		t.Fatal(err)
	}
	defer worker.Close()
	now := time.Now().UTC()
	cri := func(msg string) string { return now.Format(time.RFC3339Nano) + " stdout F " + msg + "\n" }
	appendLines := func(path string, lines ...string) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(strings.Join(lines, "")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := web.Write(100); err != nil {
		t.Fatal(err)
	}
	appendLines(web.Path(),
		cri("this is not an access log"), cri("neither is this"), cri("{\"nor\": \"this\"}"),
		cri(`10.0.0.1 - - [`+now.Format("02/Jan/2006:15:04:05 -0700")+`] "GET /poison/1 HTTP/1.1" 200 5 "-" "curl/8.5.0"`),
		cri(`10.0.0.2 - - [`+now.Format("02/Jan/2006:15:04:05 -0700")+`] "GET /poison/2 HTTP/1.1" 200 5 "-" "curl/8.5.0"`))
	if _, err := web.Write(20); err != nil {
		t.Fatal(err)
	}
	if _, err := worker.Write(50); err != nil {
		t.Fatal(err)
	}
	appendLines(worker.Path(), cri("long "+strings.Repeat("x", 5000)))
	if _, err := worker.Write(10); err != nil {
		t.Fatal(err)
	}

	// The services publish their admin addresses as they start.
	addrs := st.AdminAddrs()
	for wait := time.Now().Add(30 * time.Second); len(addrs) < 3 && time.Now().Before(wait); addrs = st.AdminAddrs() {
		time.Sleep(100 * time.Millisecond)
	}
	var all []string
	for _, name := range []string{"shipper", "parser-0", "indexer"} {
		a, ok := addrs[name]
		if !ok {
			t.Fatalf("no admin address for %s: %v", name, addrs)
		}
		all = append(all, a)
	}
	sluicectlAt := func(addr string, args ...string) string {
		t.Helper()
		cmd := exec.Command(ctl, append([]string{"--addr", addr}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sluicectl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		return string(out)
	}
	sluicectl := func(args ...string) string { return sluicectlAt(strings.Join(all, ","), args...) }

	want := map[string]accountsRow{
		"shop/web-0/nginx":   {Tailed: 125, Written: 125, Parsed: 122, ParserLetter: 3, Indexed: 120, IndexerLetter: 2, Where: "none"},
		"batch/worker-0/app": {Tailed: 61, Written: 61, Cut: 1, Parsed: 61, Failed: 1, Indexed: 61, Where: "none"},
	}
	got := map[string]accountsRow{}
	deadline := time.Now().Add(90 * time.Second)
	for {
		var res struct {
			Accounts []accountsRow `json:"accounts"`
		}
		if err := json.Unmarshal([]byte(sluicectl("-o", "json", "accounts")), &res); err != nil {
			t.Fatal(err)
		}
		got = map[string]accountsRow{}
		for _, r := range res.Accounts {
			k := r.Namespace + "/" + r.Pod + "/" + r.Container
			r.Namespace, r.Pod, r.Container = "", "", ""
			got[k] = r
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("accounts did not settle:\n got %+v\nwant %+v\n%s", got, want, sluicectl("accounts"))
		}
		time.Sleep(500 * time.Millisecond)
	}
	for k, r := range got {
		if r.Difference != 0 {
			t.Errorf("%s: difference %d", k, r.Difference)
		}
	}
	// What the engine holds agrees: every line but the dead letters, once.
	if n := len(es.Docs()); n != 120+61 {
		t.Errorf("%d documents in the engine, want %d", n, 120+61)
	}
	t.Logf("sluicectl accounts:\n%s", sluicectl("accounts"))

	// The five dead letters, by stage, each with its pod.
	list := sluicectlAt(addrs["indexer"], "dlq", "list")
	stages := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(list), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Fatalf("dlq list row %q has too few columns", line)
		}
		stages[f[2]]++
		if f[5] != "shop/web-0/nginx" {
			t.Errorf("dlq list row names pod %q, want shop/web-0/nginx: %q", f[5], line)
		}
	}
	if stages["parser"] != 3 || stages["indexer"] != 2 {
		t.Errorf("dlq list stages %v, want 3 parser and 2 indexer letters:\n%s", stages, list)
	}
	t.Logf("sluicectl dlq list:\n%s", list)
}
