package parser

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	libconfig "github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/kafkatest"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/rules"
)

// TestTestParseLeavesCountersAlone: trying lines with a loaded rule must not
// move the rule's live record and failure counts (rules, metrics), while
// the parsing path proper does move them.
func TestTestParseLeavesCountersAlone(t *testing.T) {
	cfg := config.NewDefault()
	cfg.Kafka.Brokers = []string{"127.0.0.1:1"} // never dialled: the parser is not run
	cfg.Rules = []config.Rule{{Name: "nginx", Builtin: "nginx"}}
	cfg.Admin.Listen, cfg.Admin.MetricsListen = "127.0.0.1:0", ""
	p, err := New(cfg, "test", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	svc := p.AdminService()
	counts := func() (int64, int64) {
		resp, err := svc.ListRules(context.Background(), &adminv1.ListRulesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetRules()[0].GetRecords(), resp.GetRules()[0].GetFailures()
	}
	resp, err := svc.TestParse(context.Background(), &adminv1.TestParseRequest{Rule: "nginx", Lines: []string{testLine, "not an access log line"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetResults()) != 2 || !resp.GetResults()[0].GetMatched() || resp.GetResults()[1].GetMatched() {
		t.Fatalf("results %v", resp.GetResults())
	}
	if rec, fail := counts(); rec != 0 || fail != 0 {
		t.Fatalf("after test-parse: records %d, failures %d; want 0 and 0", rec, fail)
	}

	// The live path counts, so the zeros above are not for want of counting.
	resp2, err := svc.TestParse(context.Background(), &adminv1.TestParseRequest{
		RuleYaml: "{name: inline, builtin: nginx}", Lines: []string{"still not an access log line"},
	})
	if err != nil || len(resp2.GetResults()) != 1 {
		t.Fatalf("inline rule: %v %v", resp2, err)
	}
	e := p.Engine()
	var w worker
	if _, err := e.Apply(e.Rule("nginx"), &w.raw, &w.doc); err != nil {
		t.Fatal(err)
	}
	if rec, fail := counts(); rec != 1 || fail != 1 {
		t.Fatalf("after one live failure: records %d, failures %d; want 1 and 1", rec, fail)
	}
}

func newIdleParser(t *testing.T) *Parser {
	t.Helper()
	cfg := config.NewDefault()
	cfg.Kafka.Brokers = []string{"127.0.0.1:1"} // never dialled: the parser is not run
	cfg.Kafka.SASL = libconfig.SASL{Mechanism: "plain", Username: "u", Password: "old-secret"}
	cfg.Rules = []config.Rule{{Name: "nginx", Builtin: "nginx"}}
	p, err := New(cfg, "d0", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReloadRulesOnly: a document of rules alone is applied over the running
// settings, and a refused reload names each setting that differs.
func TestReloadRulesOnly(t *testing.T) {
	p := newIdleParser(t)
	ctx := context.Background()
	digest, err := p.Reload(ctx, []byte("rules:\n  - {name: nginx, builtin: nginx, processors: [{add: {rules_version: '2'}}]}\n"))
	if err != nil {
		t.Fatalf("rules-only reload refused: %v", err)
	}
	if digest == "d0" || p.ConfigDigest() != digest {
		t.Fatalf("digest %q, running %q", digest, p.ConfigDigest())
	}
	if _, procs := p.Engine().Rules()[0].Describe(); len(procs) != 2 {
		t.Fatalf("reloaded rule has processors %v, want nginx and add", procs)
	}
	if got := p.cfg.Kafka.Brokers; len(got) != 1 || got[0] != "127.0.0.1:1" {
		t.Fatalf("running brokers became %v", got)
	}

	for _, tc := range []struct {
		name, doc string
		want      []string
		not       []string
	}{
		{
			name: "group",
			doc:  "kafka: {brokers: ['127.0.0.1:1'], group: other, sasl: {mechanism: plain, username: u, password: old-secret}}\nrules: [{name: nginx, builtin: nginx}]",
			want: []string{`kafka.group: cannot change without a restart (was "sluice-parser", now "other")`},
		},
		{
			name: "secret and two keys",
			doc:  "kafka: {brokers: ['127.0.0.1:2'], sasl: {mechanism: plain, username: u, password: new-secret}}\nrules: [{name: nginx, builtin: nginx}]",
			want: []string{`kafka.brokers: cannot change without a restart (was [127.0.0.1:1], now [127.0.0.1:2])`,
				`kafka.sasl.password: cannot change without a restart (was [redacted], now [redacted])`},
			not: []string{"old-secret", "new-secret"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Reload(ctx, []byte(tc.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error %q shows %q", err, n)
				}
			}
			if p.ConfigDigest() != digest {
				t.Error("a refused reload changed the digest")
			}
		})
	}
}

// TestListAccounts: lines parsed, failed and dead-lettered are counted per
// container.
func TestListAccounts(t *testing.T) {
	c := kafkatest.New(t, 1, rawTopic, parsedTopic, dlqTopic)
	r := startReplica(t, testConfig(c))
	produceAll(t, c.Client(),
		rawRecord(0, "panic", testLine),            // shop/web-0: dead-lettered
		rawRecord(1, "", testLine),                 // shop/web-1: parsed
		rawRecord(13, "", testLine),                // shop/web-1: parsed
		rawRecord(2, "", "not an access log line"), // shop/web-2: parsed with a failure tag
	)
	want := map[string]map[string]int64{
		"shop/web-0/nginx": {"lines_dead_lettered": 1},
		"shop/web-1/nginx": {"lines_parsed": 2},
		"shop/web-2/nginx": {"lines_parsed": 1, "lines_failed": 1},
	}
	var got map[string]map[string]int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := r.p.AdminService().ListAccounts(context.Background(), &adminv1.ParserAdminServiceListAccountsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		got = map[string]map[string]int64{}
		for _, a := range resp.GetAccounts() {
			got[a.GetNamespace()+"/"+a.GetPod()+"/"+a.GetContainer()] = a.GetCounts()
		}
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("accounts %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTapFilters: a failed-only tap of one pod sees that pod's records no
// rule parsed, the dead-lettered ones included, and nothing else.
func TestTapFilters(t *testing.T) {
	c := kafkatest.New(t, 1, rawTopic, parsedTopic, dlqTopic)
	r := startReplica(t, testConfig(c))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream := &tapStream{ctx: ctx}
	done := make(chan error, 1)
	go func() {
		done <- r.p.AdminService().Tap(&adminv1.TapRequest{Rate: 1000, Namespace: "shop", Pod: "web-1", FailedOnly: true}, stream)
	}()
	for r.p.tap.active.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	prod := c.Client()
	var sawDead, sawTagged bool
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; !(sawDead && sawTagged); i++ {
		if time.Now().After(deadline) {
			t.Fatalf("dead-lettered seen %v, tagged seen %v", sawDead, sawTagged)
		}
		produceAll(t, prod,
			rawRecord(1+24*i, "", testLine),                 // web-1, parsed: filtered out
			rawRecord(13+24*i, "panic", testLine),           // web-1, dead-lettered
			rawRecord(2+24*i, "", "not an access log line"), // web-2: filtered out
		)
		time.Sleep(5 * time.Millisecond)
		produceAll(t, prod, rawRecord(25+24*i, "", "not an access log line")) // web-1, tagged
		time.Sleep(5 * time.Millisecond)
		stream.mu.Lock()
		for _, s := range stream.sent {
			if s.GetNamespace() != "shop" || s.GetPod() != "web-1" || s.GetContainer() != "nginx" || !s.GetFailed() {
				stream.mu.Unlock()
				t.Fatalf("sample outside the filter: %v", s)
			}
			switch {
			case strings.Contains(s.GetDeadLetterReason(), "processor panic"):
				sawDead = sawDead || (s.GetRule() == "poison" && s.GetRawLine() == testLine && s.GetDocumentJson() == "")
			case s.GetDeadLetterReason() == "":
				sawTagged = sawTagged || (s.GetRule() == "nginx" && strings.Contains(s.GetDocumentJson(), rules.FailureTag))
			}
		}
		stream.mu.Unlock()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
