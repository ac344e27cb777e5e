package parser

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-io/sluice/libs/kafkatest"
	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/libs/service"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
	"github.com/sluice-io/sluice/services/parser/internal/rules"
)

const (
	rawTopic    = "logs.raw"
	parsedTopic = "logs.parsed"
	dlqTopic    = "logs.dlq"
)

var testLine = `67.43.156.13 - - [25/Oct/2016:14:49:34 +0200] "GET /favicon.ico HTTP/1.1" 404 571 "http://localhost:8080/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36"`

// rawRecord is line number i of one container's log as the shipper
// publishes it; its sluice-id is unique per i.
func rawRecord(i int, hint, line string) *kgo.Record {
	pod := fmt.Sprintf("web-%d", i%12)
	rec := &logsv1.RawRecord{
		Line:         []byte(line),
		TimeUnixNano: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC).UnixNano(),
		Stream:       logsv1.Stream_STREAM_STDOUT,
		ParserHint:   hint,
		Source:       &logsv1.Source{Node: "n1", Path: "/var/log/containers/" + pod + ".log", Fingerprint: "fp-" + pod, Offset: int64(i) * 1000},
		Kubernetes:   &logsv1.Kubernetes{Namespace: "shop", Pod: pod, Container: "nginx", Node: "n1"},
	}
	b, err := proto.Marshal(rec)
	if err != nil {
		panic(err)
	}
	return &kgo.Record{Topic: rawTopic, Key: []byte("shop/" + pod + "/nginx"), Value: b}
}

func expectedID(i int) string {
	pod := fmt.Sprintf("web-%d", i%12)
	return record.DocID("n1", "shop/"+pod+"/nginx", "fp-"+pod, int64(i)*1000)
}

func testConfig(c interface{ Brokers() []string }) config.Config {
	cfg := config.NewDefault()
	cfg.Kafka.Brokers = c.Brokers()
	cfg.Kafka.MaxPollRecords = 200
	cfg.Kafka.Compression = "none"
	cfg.Rules = []config.Rule{
		{Name: "poison", Match: config.Match{Hint: "panic"}, Builtin: "panic"},
		{Name: "slow", Match: config.Match{Hint: "slow"}, Builtin: "slow"},
		{Name: "nginx", Builtin: "nginx"},
	}
	cfg.Admin.Listen, cfg.Admin.MetricsListen = "127.0.0.1:0", ""
	return cfg
}

// testBuiltins are rules only tests have: one whose processor panics and
// one that takes longer than any sensible budget.
var testBuiltins = map[string]func() []rules.Processor{
	"panic": func() []rules.Processor { return []rules.Processor{panicProc{}} },
	"slow":  func() []rules.Processor { return []rules.Processor{slowProc{}} },
}

type panicProc struct{}

func (panicProc) Name() string                { return "panic" }
func (panicProc) Process(*document.Doc) error { panic("processor bug") }

type slowProc struct{}

func (slowProc) Name() string { return "slow" }
func (slowProc) Process(*document.Doc) error {
	time.Sleep(600 * time.Millisecond)
	return nil
}

func quietLog() *slog.Logger {
	if os.Getenv("PARSER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type replica struct {
	p      *Parser
	cancel context.CancelCauseFunc
	done   chan error
}

func startReplica(t *testing.T, cfg config.Config, opts ...Option) *replica {
	t.Helper()
	p, err := New(cfg, "test", quietLog(), append([]Option{WithBuiltins(testBuiltins)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	r := &replica{p: p, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx) }()
	t.Cleanup(func() { r.stop(t, context.Canceled) })
	return r
}

func (r *replica) stop(t *testing.T, cause error) {
	if r.cancel == nil {
		return
	}
	r.cancel(cause)
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("Run did not return within 30s of %v", cause)
	}
}

// collect reads topic until stop says it has enough or timeout passes.
func collect(t *testing.T, c *kafkatest.Cluster, topic string, timeout time.Duration, isolation kgo.IsolationLevel, stop func([]*kgo.Record) bool) []*kgo.Record {
	t.Helper()
	cl := c.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(isolation))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for !stop(out) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func ids(recs []*kgo.Record) map[string]int {
	m := map[string]int{}
	for _, r := range recs {
		m[header(r, record.HeaderID)]++
	}
	return m
}

func produceAll(t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// TestKillOneOfThree runs three replicas, aborts one mid-stream the way
// kill -9 would, and checks that every input record reached the parsed
// topic at least once (duplicates are allowed in Kafka: the indexer's
// create by _id removes them).
func TestKillOneOfThree(t *testing.T) {
	c := kafkatest.New(t, 6, rawTopic, parsedTopic, dlqTopic)
	cfg := testConfig(c)
	cfg.Kafka.MaxPollRecords = 50
	var rs []*replica
	for i := 0; i < 3; i++ {
		rs = append(rs, startReplica(t, cfg))
	}
	const n = 6000
	prod := c.Client(kgo.DefaultProduceTopic(rawTopic))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i += 100 {
			var batch []*kgo.Record
			for j := i; j < i+100; j++ {
				batch = append(batch, rawRecord(j, "", testLine))
			}
			produceAll(t, prod, batch...)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	// Abort replica 1 once the stream is flowing.
	collect(t, c, parsedTopic, 30*time.Second, kgo.ReadUncommitted(), func(out []*kgo.Record) bool { return len(out) >= n/5 })
	rs[1].stop(t, service.ErrAbort)
	wg.Wait()
	got := collect(t, c, parsedTopic, 90*time.Second, kgo.ReadUncommitted(), func(out []*kgo.Record) bool { return len(ids(out)) >= n })
	seen := ids(got)
	missing := 0
	for i := 0; i < n; i++ {
		if seen[expectedID(i)] == 0 {
			missing++
		}
	}
	if missing > 0 || len(seen) != n {
		t.Fatalf("%d of %d records missing from %s (%d distinct ids, %d records)", missing, n, parsedTopic, len(seen), len(got))
	}
	t.Logf("%d records, %d in %s (%d duplicates from the abort)", n, len(got), parsedTopic, len(got)-n)
}

// TestDeadLetters: a value that is not a RawRecord, a record whose
// processor panics and one over its budget go to the dead-letter topic with
// the reason, and the partition moves on to the records after them.
func TestDeadLetters(t *testing.T) {
	c := kafkatest.New(t, 1, rawTopic, parsedTopic, dlqTopic)
	cfg := testConfig(c)
	// Far apart, so that a loaded machine cannot push an ordinary record
	// over the budget: the slow rule takes 600ms, twice.
	cfg.Budget = 200 * 1e6
	startReplica(t, cfg)
	prod := c.Client()
	produceAll(t, prod,
		&kgo.Record{Topic: rawTopic, Key: []byte("k"), Value: []byte("not protobuf \xff\xff\xff")},
		rawRecord(1, "panic", testLine),
		rawRecord(2, "slow", testLine),
		rawRecord(3, "", testLine),
	)
	dlq := collect(t, c, dlqTopic, 30*time.Second, kgo.ReadUncommitted(), func(out []*kgo.Record) bool { return len(out) >= 3 })
	if len(dlq) != 3 {
		for _, r := range dlq {
			t.Log(header(r, record.HeaderReason)[:60])
		}
		t.Fatalf("%d dead letters, want 3", len(dlq))
	}
	for i, want := range []string{"not a sluice.logs.v1.RawRecord", "processor panic: processor bug", ErrBudget.Error()} {
		if r := header(dlq[i], record.HeaderReason); !strings.Contains(r, want) {
			t.Errorf("dead letter %d reason %q, want it to contain %q", i, r, want)
		}
		if header(dlq[i], record.HeaderStage) != "parser" || header(dlq[i], record.HeaderOffset) != fmt.Sprint(i) {
			t.Errorf("dead letter %d headers %v", i, dlq[i].Headers)
		}
	}
	parsed := collect(t, c, parsedTopic, 30*time.Second, kgo.ReadUncommitted(), func(out []*kgo.Record) bool { return len(out) >= 1 })
	if len(parsed) != 1 || header(parsed[0], record.HeaderID) != expectedID(3) {
		t.Fatalf("parsed %d records, want the one after the dead letters", len(parsed))
	}
}

// TestReload: rules reloaded while records flow apply from the next batch;
// an invalid rule set is refused and the old one keeps running; no record
// is lost or parsed twice.
func TestReload(t *testing.T) {
	c := kafkatest.New(t, 3, rawTopic, parsedTopic, dlqTopic)
	dir := t.TempDir()
	file := filepath.Join(dir, "parser.yaml")
	write := func(extra string) {
		doc := fmt.Sprintf("kafka: {brokers: [%s], max_poll_records: 200, compression: none}\nadmin: {listen: '127.0.0.1:0', metrics_listen: ''}\nrules:\n  - {name: nginx, builtin: nginx%s}\n", c.Brokers()[0]+","+c.Brokers()[1]+","+c.Brokers()[2], extra)
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	fileCfg, _, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	r := startReplica(t, fileCfg, WithConfigFile(file, 50*time.Millisecond))
	digest := r.p.ConfigDigest()
	prod := c.Client()
	var first []*kgo.Record
	for i := 0; i < 500; i++ {
		first = append(first, rawRecord(i, "", testLine))
	}
	produceAll(t, prod, first...)
	collect(t, c, parsedTopic, 30*time.Second, kgo.ReadUncommitted(), func(out []*kgo.Record) bool { return len(out) >= 500 })

	// Refused: a processor that does not compile, and a Kafka change.
	if _, err := r.p.Reload(context.Background(), []byte("rules: [{name: x, processors: [{regex: {pattern: '('}}]}]")); err == nil {
		t.Fatal("invalid rules accepted")
	}
	if _, err := r.p.Reload(context.Background(), []byte("kafka: {group: other}\nrules: [{name: nginx, builtin: nginx}]")); err == nil {
		t.Fatal("kafka change accepted")
	}
	write(`, processors: [{add: {rules_version: "2"}}]`)
	deadline := time.Now().Add(10 * time.Second)
	for r.p.ConfigDigest() == digest && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if r.p.ConfigDigest() == digest {
		t.Fatal("config file change not picked up")
	}
	if _, procs := r.p.Engine().Rules()[0].Describe(); len(procs) != 2 {
		t.Fatalf("reloaded rule has processors %v, want nginx and add", procs)
	}
	// An invalid file is refused too; the version 2 rules keep running.
	d2 := r.p.ConfigDigest()
	if err := os.WriteFile(file, []byte("rules: [{name: a, builtin: nope}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if r.p.ConfigDigest() != d2 {
		t.Fatal("invalid config file replaced the running rules")
	}
	var second []*kgo.Record
	for i := 500; i < 1000; i++ {
		second = append(second, rawRecord(i, "", testLine))
	}
	produceAll(t, prod, second...)
	got := collect(t, c, parsedTopic, 30*time.Second, kgo.ReadUncommitted(), func(out []*kgo.Record) bool { return len(out) >= 1000 })
	time.Sleep(200 * time.Millisecond)
	seen := ids(got)
	if len(got) != 1000 || len(seen) != 1000 {
		t.Fatalf("%d records, %d distinct, want 1000 exactly once", len(got), len(seen))
	}
	for _, rec := range got {
		var doc map[string]any
		if err := json.Unmarshal(rec.Value, &doc); err != nil {
			t.Fatal(err)
		}
		id := header(rec, record.HeaderID)
		_, v2 := doc["rules_version"]
		isSecond := false
		for i := 500; i < 1000 && !isSecond; i++ {
			isSecond = id == expectedID(i)
		}
		if v2 != isSecond {
			t.Fatalf("record %s: rules_version present %v, want %v: %s", id, v2, isSecond, rec.Value)
		}
	}
}

// TestTransactional: with kafka.transactional the documents are committed
// together with the input offsets, exactly once.
func TestTransactional(t *testing.T) {
	c := kafkatest.New(t, 3, rawTopic, parsedTopic, dlqTopic)
	cfg := testConfig(c)
	cfg.Kafka.Transactional = true
	r := startReplica(t, cfg)
	const n = 1000
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, rawRecord(i, "", testLine))
	}
	recs = append(recs, &kgo.Record{Topic: rawTopic, Key: []byte("shop/web-0/nginx"), Value: []byte("poison")})
	produceAll(t, c.Client(), recs...)
	got := collect(t, c, parsedTopic, 60*time.Second, kgo.ReadCommitted(), func(out []*kgo.Record) bool { return len(out) >= n })
	dlq := collect(t, c, dlqTopic, 30*time.Second, kgo.ReadCommitted(), func(out []*kgo.Record) bool { return len(out) >= 1 })
	r.stop(t, context.Canceled)
	if seen := ids(got); len(got) != n || len(seen) != n {
		t.Fatalf("read_committed: %d records, %d distinct, want %d exactly once", len(got), len(seen), n)
	}
	if len(dlq) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dlq))
	}
	adm := kadm.NewClient(c.Client())
	offs, err := adm.FetchOffsets(context.Background(), cfg.Kafka.Group)
	if err != nil {
		t.Fatal(err)
	}
	var committed int64
	offs.Each(func(o kadm.OffsetResponse) { committed += o.At })
	if committed != n+1 {
		t.Fatalf("committed offsets sum to %d, want %d", committed, n+1)
	}
}

type tapStream struct {
	grpc.ServerStream
	ctx  context.Context
	mu   sync.Mutex
	sent []*adminv1.TapResponse
}

func (s *tapStream) Context() context.Context     { return s.ctx }
func (s *tapStream) SetHeader(metadata.MD) error  { return nil }
func (s *tapStream) SendHeader(metadata.MD) error { return nil }
func (s *tapStream) SetTrailer(metadata.MD)       {}
func (s *tapStream) Send(r *adminv1.TapResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, r)
	return nil
}

// TestTap: the stream gets a rate-limited sample of live records with the
// raw line and the document, and ends at its limit.
func TestTap(t *testing.T) {
	c := kafkatest.New(t, 1, rawTopic, parsedTopic, dlqTopic)
	r := startReplica(t, testConfig(c))
	svc := r.p.AdminService()
	if err := svc.Tap(&adminv1.TapRequest{Rate: 5000}, &tapStream{ctx: context.Background()}); err == nil {
		t.Fatal("rate 5000 accepted")
	}
	stream := &tapStream{ctx: context.Background()}
	done := make(chan error, 1)
	go func() { done <- svc.Tap(&adminv1.TapRequest{Rate: 1000, Limit: 3}, stream) }()
	deadline := time.Now().Add(30 * time.Second)
	prod := c.Client()
	for i := 0; ; i++ {
		produceAll(t, prod, rawRecord(i, "", testLine))
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if len(stream.sent) != 3 {
				t.Fatalf("%d samples, want 3", len(stream.sent))
			}
			s := stream.sent[0]
			if s.RawLine != testLine || s.Rule != "nginx" || !strings.Contains(s.DocumentJson, `"status_code":404`) {
				t.Fatalf("sample %+v", s)
			}
			if r.p.tap.active.Load() != 0 {
				t.Fatal("tap still subscribed after the stream ended")
			}
			return
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no tap samples")
		}
	}
}

func TestTapNeverBlocks(t *testing.T) {
	var h tapHub
	s := h.subscribe(MaxTapRate, tapFilter{})
	defer h.unsubscribe(s)
	dropped := 0
	for i := 0; i < 5*tapBuffer; i++ {
		s.next = time.Time{} // every offer is due
		dropped += h.offer(&tapSample{line: []byte("x"), rule: "r", doc: []byte("{}")})
	}
	if len(s.ch) != tapBuffer || dropped != 4*tapBuffer || s.dropped.Load() != int64(dropped) {
		t.Fatalf("queued %d, dropped %d", len(s.ch), dropped)
	}
}
