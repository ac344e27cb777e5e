package shipper

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"google.golang.org/protobuf/proto"

	libconfig "github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/kafkatest"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/shipper/config"
	"github.com/sluice-io/sluice/services/shipper/internal/kube"
)

const containerID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// testConfig tails dir on cluster c.
func testConfig(t testing.TB, c *kafkatest.Cluster, dir string) config.Config {
	return tailConfig(t, c.Brokers(), dir, 1<<20)
}

// tailConfig tails dir with brokers, keeping at most maxBuffered bytes
// unacknowledged, polling five times as often as the default.
func tailConfig(t testing.TB, brokers []string, dir string, maxBuffered int64) config.Config {
	t.Helper()
	cfg := config.NewDefault()
	cfg.Node = "node-1"
	cfg.Kafka.Brokers = append(cfg.Kafka.Brokers[:0], brokers...)
	cfg.Kafka.MaxBufferedBytes = libconfig.ByteSize(maxBuffered)
	cfg.Tail.Include = []string{filepath.Join(dir, "*.log")}
	cfg.Tail.Roots = []string{dir}
	cfg.Tail.PollInterval = config.NewDefault().Tail.PollInterval / 5
	cfg.State.Path = filepath.Join(t.TempDir(), "state.json")
	cfg.State.Interval = cfg.Tail.PollInterval
	cfg.Admin.Listen, cfg.Admin.MetricsListen = "", ""
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func writeCRI(t testing.TB, path string, from, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "2026-11-24T10:00:00.%09dZ stdout F line %d\n", i, i)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
}

func startShipper(t testing.TB, cfg config.Config, opts ...Option) (stop func() error) {
	t.Helper()
	s, err := New(cfg, "test", slog.New(slog.NewTextHandler(testLogWriter(), &slog.HandlerOptions{Level: slog.LevelDebug})), opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once atomic.Bool
	stop = func() error {
		if !once.CompareAndSwap(false, true) {
			return nil
		}
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func decodeAll(t testing.TB, recs []*kgo.Record) []*logsv1.RawRecord {
	t.Helper()
	out := make([]*logsv1.RawRecord, len(recs))
	for i, r := range recs {
		out[i] = &logsv1.RawRecord{}
		if err := proto.Unmarshal(r.Value, out[i]); err != nil {
			t.Fatalf("record %d is not a RawRecord: %v", i, err)
		}
	}
	return out
}

func TestPublishesWithMetadataAndKey(t *testing.T) {
	c := kafkatest.New(t, 3, "logs.raw")
	dir := t.TempDir()
	path := filepath.Join(dir, "web-1_shop_nginx-"+containerID+".log")
	writeCRI(t, path, 0, 100)
	stop := startShipper(t, testConfig(t, c, dir))
	recs := c.ReadAll("logs.raw", 100, 30*time.Second)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(recs) != 100 {
		t.Fatalf("%d records, want 100", len(recs))
	}
	raws := decodeAll(t, recs)
	for i, r := range raws {
		if string(recs[i].Key) != "shop/web-1/nginx" {
			t.Fatalf("key %q, want shop/web-1/nginx", recs[i].Key)
		}
		k := r.GetKubernetes()
		if k.GetNamespace() != "shop" || k.GetPod() != "web-1" || k.GetContainer() != "nginx" || k.GetContainerId() != containerID || k.GetNode() != "node-1" {
			t.Fatalf("metadata %+v", k)
		}
		if want := fmt.Sprintf("line %d", i); string(r.GetLine()) != want {
			t.Fatalf("record %d line %q, want %q (order must hold per container)", i, r.GetLine(), want)
		}
		if r.GetStream() != logsv1.Stream_STREAM_STDOUT || r.GetTimeUnixNano() == 0 || r.GetSource().GetFingerprint() == "" {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
}

// TestResumesAfterRestart: lines written while the shipper is stopped are
// shipped after it starts again, and lines it had shipped are not sent
// again (the checkpoint holds acknowledged offsets).
func TestResumesAfterRestart(t *testing.T) {
	c := kafkatest.New(t, 1, "logs.raw")
	dir := t.TempDir()
	path := filepath.Join(dir, "web-1_shop_nginx-"+containerID+".log")
	cfg := testConfig(t, c, dir)
	writeCRI(t, path, 0, 50)
	stop := startShipper(t, cfg)
	if n := len(c.ReadAll("logs.raw", 50, 30*time.Second)); n != 50 {
		t.Fatalf("%d records before restart, want 50", n)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	writeCRI(t, path, 50, 50)
	startShipper(t, cfg)
	recs := decodeAll(t, c.ReadAll("logs.raw", 100, 30*time.Second))
	time.Sleep(300 * time.Millisecond) // room for a repeat to arrive
	recs = decodeAll(t, c.ReadToEnd("logs.raw", 30*time.Second))
	if len(recs) != 100 {
		t.Fatalf("%d records after restart, want exactly 100 (none lost, none repeated after a clean stop)", len(recs))
	}
	for i, r := range recs {
		if want := fmt.Sprintf("line %d", i); string(r.GetLine()) != want {
			t.Fatalf("record %d = %q, want %q", i, r.GetLine(), want)
		}
	}
}

// TestBrokerOutage (FAULTS row 4): Kafka refuses every produce for a while;
// the shipper keeps its memory within the producer's byte limit, loses
// nothing, and delivers everything once Kafka is back.
func TestBrokerOutage(t *testing.T) {
	c := kafkatest.New(t, 3, "logs.raw")
	dir := t.TempDir()
	cfg := testConfig(t, c, dir)
	cfg.Kafka.MaxBufferedBytes = 64 << 10
	var down atomic.Bool
	down.Store(true)
	c.KeepControl()
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if !down.Load() {
			return nil, nil, false
		}
		pr := req.(*kmsg.ProduceRequest)
		resp := pr.ResponseKind().(*kmsg.ProduceResponse)
		for _, tp := range pr.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = tp.Topic, tp.TopicID
			for _, p := range tp.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = p.Partition
				rp.ErrorCode = kerr.NotEnoughReplicas.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
	for i := 0; i < 4; i++ {
		writeCRI(t, filepath.Join(dir, fmt.Sprintf("web-%d_shop_nginx-%s.log", i, containerID)), 0, 2000)
	}
	s, err := New(cfg, "test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	var peak int64
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		peak = max(peak, s.inFlight.Load())
	}
	if peak > int64(cfg.Kafka.MaxBufferedBytes)+16<<10 {
		t.Fatalf("in-flight bytes reached %d during the outage, limit %d", peak, cfg.Kafka.MaxBufferedBytes)
	}
	if read := s.linesRead.Load(); read >= 8000 {
		t.Fatalf("read all %d lines while Kafka was down: reading did not pause", read)
	}
	down.Store(false)
	recs := c.ReadAll("logs.raw", 8000, time.Minute)
	select {
	case err := <-done:
		t.Fatalf("shipper stopped during the outage: %v", err)
	default:
	}
	if len(recs) < 8000 {
		t.Fatalf("%d of 8000 lines delivered after the outage", len(recs))
	}
	seen := map[string]bool{}
	for _, r := range decodeAll(t, recs) {
		seen[r.GetKubernetes().GetPod()+"/"+string(r.GetLine())] = true
	}
	if len(seen) != 8000 {
		t.Fatalf("%d distinct lines, want 8000", len(seen))
	}
}

// fakeMeta marks one pod excluded and gives another a parser hint.
type fakeMeta struct{}

func (fakeMeta) Lookup(_ string, m kube.Meta) (*logsv1.Kubernetes, string, bool) {
	k := &logsv1.Kubernetes{Namespace: m.Namespace, Pod: m.Pod, Container: m.Container, Labels: map[string]string{"app": m.Pod}}
	return k, map[string]string{"web-1": "nginx"}[m.Pod], m.Pod == "secret"
}

func TestExclusionAndHint(t *testing.T) {
	c := kafkatest.New(t, 1, "logs.raw")
	dir := t.TempDir()
	writeCRI(t, filepath.Join(dir, "secret_shop_vault-"+containerID+".log"), 0, 10)
	writeCRI(t, filepath.Join(dir, "web-1_shop_nginx-"+containerID+".log"), 0, 10)
	startShipper(t, testConfig(t, c, dir), WithMetadata(fakeMeta{}))
	c.ReadAll("logs.raw", 10, 30*time.Second)
	time.Sleep(500 * time.Millisecond) // room for an excluded line to arrive
	recs := decodeAll(t, c.ReadToEnd("logs.raw", 30*time.Second))
	if len(recs) != 10 {
		t.Fatalf("%d records, want 10 (the excluded pod's lines must not be shipped)", len(recs))
	}
	for _, r := range recs {
		if r.GetKubernetes().GetPod() != "web-1" || r.GetParserHint() != "nginx" || r.GetKubernetes().GetLabels()["app"] != "web-1" {
			t.Fatalf("record %+v", r)
		}
	}
}

func TestTopicTemplateAllowlist(t *testing.T) {
	f, err := topicFunc("logs.{{.Namespace}}", []string{"logs.default", "logs.shop"})
	if err != nil {
		t.Fatal(err)
	}
	for ns, want := range map[string]string{"shop": "logs.shop", "evil": "logs.default", "../x": "logs.default"} {
		if got := f(ns); got != want {
			t.Errorf("topic for %q = %q, want %q", ns, got, want)
		}
	}
}

func testLogWriter() io.Writer {
	if os.Getenv("SLUICE_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// TestIdenticalFirstLines: two containers whose logs are byte-identical are
// two files, both shipped in full.
func TestIdenticalFirstLines(t *testing.T) {
	c := kafkatest.New(t, 1, "logs.raw")
	dir := t.TempDir()
	writeCRI(t, filepath.Join(dir, "web-1_shop_nginx-"+containerID+".log"), 0, 10)
	writeCRI(t, filepath.Join(dir, "web-2_shop_nginx-"+containerID+".log"), 0, 10)
	startShipper(t, testConfig(t, c, dir))
	recs := decodeAll(t, c.ReadAll("logs.raw", 20, 30*time.Second))
	pods := map[string]int{}
	for _, r := range recs {
		pods[r.GetKubernetes().GetPod()]++
	}
	if pods["web-1"] != 10 || pods["web-2"] != 10 {
		t.Fatalf("lines per pod %v, want 10 each", pods)
	}
}
