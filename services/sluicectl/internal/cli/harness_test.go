package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sluice-io/sluice/libs/admin"
	"github.com/sluice-io/sluice/libs/config"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	"github.com/sluice-io/sluice/services/sluicectl/internal/cli"
)

func TestMain(m *testing.M) {
	// The tests choose addresses and tokens themselves.
	os.Unsetenv(cli.EnvAddr)
	os.Unsetenv(cli.EnvToken)
	os.Exit(m.Run())
}

const testToken = "s3cret"

// fakeService is an admin.Service whose counters advance by step on every
// Stats call, so that two polls see a delta.
type fakeService struct {
	mu       sync.Mutex
	paused   bool
	digest   string
	counters map[string]int64
	step     map[string]int64
	rates    map[string]float64
	inFlight int64
	lag      []*adminv1.PartitionLag
	reloaded []string
}

func (f *fakeService) State() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.paused {
		return "paused"
	}
	return "running"
}

func (f *fakeService) Stats(context.Context) *adminv1.GetStatsResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &adminv1.GetStatsResponse{Counters: map[string]int64{}, InFlightBytes: f.inFlight, Lag: f.lag, Rates: f.rates}
	for k, v := range f.counters {
		out.Counters[k] = v
		f.counters[k] = v + f.step[k]
	}
	return out
}

func (f *fakeService) Pause() {
	f.mu.Lock()
	f.paused = true
	f.mu.Unlock()
}

func (f *fakeService) Resume() {
	f.mu.Lock()
	f.paused = false
	f.mu.Unlock()
}

func (f *fakeService) Reload(_ context.Context, doc []byte) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.Contains(string(doc), "bogus") {
		return "", errors.New(`kafka.bogus: unknown key`)
	}
	f.reloaded = append(f.reloaded, string(doc))
	f.digest = fmt.Sprintf("%064x", len(doc))
	return f.digest, nil
}

// fakeSecret is the secret every fake service's configuration holds;
// sluicectl config must never print it.
const fakeSecret = "pa55-w0rd-never-shown"

// fakeConfig is the configuration the fake services run: real sections,
// so the real admin server redacts them as it would a service's.
type fakeConfig struct {
	Kafka struct {
		Brokers config.StringList `yaml:"brokers"`
		Group   string            `yaml:"group"`
		SASL    config.SASL       `yaml:"sasl"`
	} `yaml:"kafka"`
	Elasticsearch struct {
		URLs   config.StringList `yaml:"urls"`
		APIKey string            `yaml:"api_key"`
	} `yaml:"elasticsearch"`
}

// RunningConfig implements admin.ConfigSource.
func (f *fakeService) RunningConfig() any {
	var c fakeConfig
	c.Kafka.Brokers, c.Kafka.Group = config.StringList{"kafka-0:9092"}, "sluice-indexer"
	c.Kafka.SASL = config.SASL{Mechanism: "scram-sha-512", Username: "sluice", Password: fakeSecret}
	c.Elasticsearch.URLs = config.StringList{"https://elastic:" + fakeSecret + "@es:9200"}
	c.Elasticsearch.APIKey = fakeSecret
	return c
}

func (f *fakeService) ConfigDigest() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.digest
}

type fakeShipper struct {
	adminv1.UnimplementedShipperAdminServiceServer
}

func (fakeShipper) ListFiles(context.Context, *adminv1.ListFilesRequest) (*adminv1.ListFilesResponse, error) {
	return &adminv1.ListFilesResponse{Files: []*adminv1.TrackedFile{{
		Path:      "/var/log/containers/web-1_shop_nginx-abc.log",
		Namespace: "shop", Pod: "web-1", Container: "nginx", Fingerprint: "f1",
		Size: 3 << 20, OffsetRead: 3 << 20, OffsetAcked: 2 << 20, BytesBehind: 1 << 20, State: "active",
	}, {
		Path:      "/var/log/containers/db-0_shop_pg-def.log",
		Namespace: "shop", Pod: "db-0", Container: "pg", Fingerprint: "f2",
		Size: 512, OffsetRead: 512, OffsetAcked: 512, State: "rotated", SkippedBytes: 2 << 10,
	}}}, nil
}

func (fakeShipper) ListAccounts(context.Context, *adminv1.ListAccountsRequest) (*adminv1.ListAccountsResponse, error) {
	return &adminv1.ListAccountsResponse{Accounts: []*adminv1.ContainerAccount{{
		Namespace: "shop", Pod: "web-1", Container: "nginx",
		Counts: map[string]int64{"lines_tailed": 10, "bytes_tailed": 1200, "lines_produced": 9, "lines_oversized": 1, "bytes_skipped_truncation": 300},
	}}}, nil
}

func (fakeParser) ListAccounts(context.Context, *adminv1.ParserAdminServiceListAccountsRequest) (*adminv1.ParserAdminServiceListAccountsResponse, error) {
	return &adminv1.ParserAdminServiceListAccountsResponse{Accounts: []*adminv1.ContainerAccount{
		{Namespace: "shop", Pod: "web-1", Container: "nginx", Counts: map[string]int64{"lines_parsed": 8, "lines_failed": 1, "lines_dead_lettered": 1}},
		{Namespace: "ops", Pod: "cron-1", Container: "job", Counts: map[string]int64{"lines_parsed": 2}},
	}}, nil
}

func (*fakeIndexer) ListAccounts(context.Context, *adminv1.IndexerAdminServiceListAccountsRequest) (*adminv1.IndexerAdminServiceListAccountsResponse, error) {
	return &adminv1.IndexerAdminServiceListAccountsResponse{Accounts: []*adminv1.ContainerAccount{
		{Namespace: "shop", Pod: "web-1", Container: "nginx", Counts: map[string]int64{"lines_indexed": 6, "lines_dead_lettered": 1}},
		{Namespace: "ops", Pod: "cron-1", Container: "job", Counts: map[string]int64{"lines_indexed": 2}},
	}}, nil
}

// fakeParser matches lines starting with an HTTP method.
type fakeParser struct {
	adminv1.UnimplementedParserAdminServiceServer
}

func (fakeParser) TestParse(_ context.Context, req *adminv1.TestParseRequest) (*adminv1.TestParseResponse, error) {
	rule := req.GetRule()
	if req.GetRuleYaml() != "" {
		rule = "inline"
	}
	if rule != "nginx" && rule != "inline" {
		return nil, errorf("unknown rule %q", rule)
	}
	out := &adminv1.TestParseResponse{}
	for _, l := range req.GetLines() {
		method, path, ok := strings.Cut(l, " ")
		if ok && (method == "GET" || method == "POST") {
			out.Results = append(out.Results, &adminv1.ParseResult{
				Line: l, Matched: true, CostNanos: 1500,
				DocumentJson: fmt.Sprintf(`{"method":%q,"path":%q}`, method, path),
			})
		} else {
			out.Results = append(out.Results, &adminv1.ParseResult{
				Line: l, CostNanos: 800, Error: "no pattern matched",
				DocumentJson: fmt.Sprintf(`{"message":%q,"tags":["_parsefailure"]}`, l),
			})
		}
	}
	return out, nil
}

func (fakeParser) ListRules(context.Context, *adminv1.ListRulesRequest) (*adminv1.ListRulesResponse, error) {
	return &adminv1.ListRulesResponse{Rules: []*adminv1.RuleInfo{
		{Name: "nginx", Match: "hint=nginx", Processors: []string{"accesslog", "timestamp"}, Records: 1200, Failures: 3},
		{Name: "default", Processors: []string{"json"}, Records: 40},
	}}, nil
}

// Tap streams /item/i: pod web-0 for even i, web-1 for odd; every third
// (i%3 == 2) dead-lettered. The request's filters apply.
func (fakeParser) Tap(req *adminv1.TapRequest, stream grpc.ServerStreamingServer[adminv1.TapResponse]) error {
	n := int(req.GetLimit())
	for i, sent := 0, 0; n == 0 || sent < n; i++ {
		ev := &adminv1.TapResponse{
			RawLine:      fmt.Sprintf("GET /item/%d", i),
			Rule:         "nginx",
			DocumentJson: fmt.Sprintf(`{ "path": "/item/%d" }`, i),
		}
		if req.GetNamespace() != "" || req.GetPod() != "" || req.GetFailedOnly() {
			ev.Namespace, ev.Pod, ev.Container = "shop", fmt.Sprintf("web-%d", i%2), "nginx"
			if i%3 == 2 {
				ev.Failed, ev.DeadLetterReason, ev.DocumentJson = true, "rule nginx: processor panic", ""
			}
			if (req.GetPod() != "" && ev.Pod != req.GetPod()) || (req.GetFailedOnly() && !ev.Failed) {
				continue
			}
		}
		if err := stream.Send(ev); err != nil {
			return err
		}
		sent++
		select {
		case <-stream.Context().Done():
			return nil
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// longReason makes a reason longer than any table column once was, to show
// that dlq list prints it whole.
var longReason = strings.Repeat("the search engine said more than fits on a line, ", 3) + "END"

type fakeIndexer struct {
	adminv1.UnimplementedIndexerAdminServiceServer
	mu       sync.Mutex
	replayed []*adminv1.ReplayDeadLettersRequest
}

func (*fakeIndexer) ListDeadLetters(_ context.Context, req *adminv1.ListDeadLettersRequest) (*adminv1.ListDeadLettersResponse, error) {
	all := []*adminv1.DeadLetter{
		{Partition: 0, Offset: 7, Id: "n1-f1-100", Index: "logs-2026.01.02", Status: 400, ErrorType: "mapper_parsing_exception",
			Reason: "failed to parse field [status] of type [long]", Stage: "indexer", TimestampUnixNano: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano(),
			DocumentJson: `{"status":"abc"}`, ValueJson: `{"status":"abc","message":"GET /x 200"}`, Class: "permanent",
			Namespace: "shop", Pod: "web-1", Container: "nginx", Line: "GET /x 200",
			Headers: []*adminv1.Header{{Key: "sluice-id", Value: "n1-f1-100"}, {Key: "sluice-dlq-stage", Value: "indexer"}}},
		{Partition: 1, Offset: 12, Id: "n1-f2-300", Index: "logs-2026.01.02", ErrorType: "parse_failure",
			Reason: "rule nginx: no pattern matched; " + longReason, Stage: "parser", Class: "permanent",
			TimestampUnixNano: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC).UnixNano(),
			Namespace:         "shop", Pod: "db-0", Container: "pg", Line: "\x01binary junk that no rule matches",
			ValueJson: `{"line":"AWJpbmFyeQ==","stream":"STREAM_STDERR"}`,
			Headers:   []*adminv1.Header{{Key: "sluice-dlq-stage", Value: "parser"}, {Key: "sluice-dlq-reason", Value: "rule nginx: no pattern matched"}}},
	}
	var out []*adminv1.DeadLetter
	for _, l := range all {
		if req.Partition != nil && l.GetPartition() != req.GetPartition() {
			continue
		}
		if from, ok := req.GetFromOffsets()[l.GetPartition()]; ok && l.GetOffset() < from {
			continue
		}
		if req.GetLimit() > 0 && len(out) == int(req.GetLimit()) {
			break
		}
		out = append(out, l)
	}
	return &adminv1.ListDeadLettersResponse{Letters: out}, nil
}

func (f *fakeIndexer) ReplayDeadLetters(_ context.Context, req *adminv1.ReplayDeadLettersRequest) (*adminv1.ReplayDeadLettersResponse, error) {
	f.mu.Lock()
	f.replayed = append(f.replayed, req)
	f.mu.Unlock()
	n := int64(5)
	if req.GetToOffset() != 0 {
		n = req.GetToOffset() - req.GetFromOffset()
	}
	resp := &adminv1.ReplayDeadLettersResponse{Replayed: n}
	if req.GetDryRun() {
		resp.Skipped = 1
		resp.Letters = []*adminv1.ReplayedLetter{{TargetTopic: "logs.raw", Letter: &adminv1.DeadLetter{Offset: req.GetFromOffset(), Stage: "parser", Reason: "grok: no match"}}}
	}
	return resp, nil
}

// svcOpts configure a test admin server.
type svcOpts struct {
	token string
	cfg   config.Admin
}

// startAdmin runs a real admin server for service name on 127.0.0.1:0 and
// returns its address and fake service.
func startAdmin(t testing.TB, name string, o svcOpts, register func(*grpc.Server)) (string, *fakeService) {
	t.Helper()
	svc := &fakeService{
		digest:   strings.Repeat("ab", 32),
		counters: map[string]int64{},
		step:     map[string]int64{},
	}
	switch name {
	case "shipper":
		svc.counters = map[string]int64{"lines_read": 1000, "bytes_read": 100_000, "lines_produced": 990, "produce_errors": 2, "in_flight_bytes": 4096}
		svc.step = map[string]int64{"lines_read": 500, "bytes_read": 50_000, "lines_produced": 500}
		svc.inFlight = 4096
	case "parser":
		svc.counters = map[string]int64{"records_consumed": 900, "bytes_consumed": 90_000, "documents_produced": 890, "parse_failures": 10, "dead_letters": 1}
		svc.step = map[string]int64{"records_consumed": 300, "documents_produced": 300, "parse_failures": 3}
		svc.lag = []*adminv1.PartitionLag{
			{Topic: "logs.raw", Partition: 0, CommittedOffset: 400, EndOffset: 450, Lag: 50},
			{Topic: "logs.raw", Partition: 1, CommittedOffset: 500, EndOffset: 520, Lag: 20},
		}
		svc.rates = map[string]float64{"records_consumed": 250.5}
	case "indexer":
		svc.counters = map[string]int64{"records_consumed": 800, "documents_indexed": 790, "dead_letters": 3}
		svc.step = map[string]int64{"records_consumed": 100, "documents_indexed": 100}
		svc.inFlight = 2 << 20
	}
	s, err := admin.New(o.cfg, name, "1.2.3", "node-a", svc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if o.token != "" {
		s.SetToken(o.token)
	}
	if register != nil {
		register(s.GRPC())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ServeListener(ln)
	s.SetServing(true)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return ln.Addr().String(), svc
}

func startShipper(t testing.TB, o svcOpts) (string, *fakeService) {
	return startAdmin(t, "shipper", o, func(g *grpc.Server) { adminv1.RegisterShipperAdminServiceServer(g, fakeShipper{}) })
}

func startParser(t testing.TB, o svcOpts) (string, *fakeService) {
	return startAdmin(t, "parser", o, func(g *grpc.Server) { adminv1.RegisterParserAdminServiceServer(g, fakeParser{}) })
}

func startIndexer(t testing.TB, o svcOpts) (string, *fakeService, *fakeIndexer) {
	ix := &fakeIndexer{}
	addr, svc := startAdmin(t, "indexer", o, func(g *grpc.Server) { adminv1.RegisterIndexerAdminServiceServer(g, ix) })
	return addr, svc, ix
}

// deadAddr is an address nothing listens on.
func deadAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

type outcome struct {
	code           int
	stdout, stderr string
}

func run(t testing.TB, stdin string, args ...string) outcome {
	t.Helper()
	return runCtx(t, context.Background(), stdin, args...)
}

func runCtx(t testing.TB, ctx context.Context, stdin string, args ...string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := cli.Run(ctx, args, strings.NewReader(stdin), &out, &errb)
	return outcome{code: code, stdout: out.String(), stderr: errb.String()}
}

// mustRun runs and requires exit status want.
func mustRun(t testing.TB, want int, stdin string, args ...string) outcome {
	t.Helper()
	o := run(t, stdin, args...)
	if o.code != want {
		t.Fatalf("sluicectl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), o.code, want, o.stdout, o.stderr)
	}
	return o
}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := t.TempDir() + "/" + name
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func errorf(format string, a ...any) error {
	return status.Errorf(codes.NotFound, format, a...)
}

func runFuzz(ctx context.Context, args []string, stdin string, stdout, stderr *strings.Builder) int {
	return cli.Run(ctx, args, strings.NewReader(stdin), stdout, stderr)
}

// silentAddr accepts connections and never answers.
func silentAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
