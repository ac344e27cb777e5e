package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/loadtest/realinfra"
	"github.com/sluice-io/sluice/loadtest/stack"
)

// TestRealInfraPipeline runs the three services against a real Apache Kafka
// broker and a real search engine (OpenSearch, or Elasticsearch), restarts
// the broker mid-stream, and checks every line is indexed exactly once with
// its Kubernetes fields; a document the index mapping refuses lands in the
// dead-letter topic with the engine's reason.
func TestRealInfraPipeline(t *testing.T) {
	if os.Getenv("SLUICE_REAL_INFRA") != "1" {
		t.Skip("set SLUICE_REAL_INFRA=1 to run against real Kafka and search engine")
	}
	brokers := realinfra.Kafka(t)
	url, flavor := realinfra.Search(t)
	t.Logf("kafka %v, %s at %s", brokers, flavor, url)
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	index := "sluice-e2e-" + run

	// The services' warnings (a broker restart makes many) are shown only
	// when the test fails.
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
		Prefix: "e2e-" + run + ".", Index: index, Partitions: 3,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	pods := newPods(t, st.LogDir(), 3)
	writeAll(t, pods, 200, 50)

	if os.Getenv("SLUICE_KAFKA_BROKERS") == "" {
		// The broker is ours: take it away mid-stream and bring it back on
		// its own log. Lines written meanwhile wait in the files.
		restartBroker(t)
	}
	writeAll(t, pods, 200, 50)

	want := total(pods)
	var docs map[string]json.RawMessage
	waitUntil(3*time.Minute, func() bool {
		docs = searchAll(t, url, index)
		return len(docs) >= want
	})
	time.Sleep(time.Second)
	docs = searchAll(t, url, index)
	if len(docs) != want {
		t.Errorf("%d documents in %s, want %d", len(docs), index, want)
	}
	tally(t, docs, pods)

	// A document whose field contradicts the mapping (status_code is a
	// number in every indexed document) can never be indexed: it must reach
	// the dead-letter topic with the engine's reason.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	bad := &kgo.Record{
		Topic: st.Topic(stack.ParsedTopic),
		Value: []byte(`{"message":"bad","http":{"response":{"status_code":{"not":"a number"}}}}`),
		Headers: []kgo.RecordHeader{
			{Key: record.HeaderID, Value: []byte("mapping-conflict-" + run)},
			{Key: record.HeaderIndex, Value: []byte(index)},
		},
	}
	if err := cl.ProduceSync(ctx, bad).FirstErr(); err != nil {
		t.Fatal(err)
	}
	dlq := readTopic(t, brokers, st.Topic(stack.DLQTopic), 1, 2*time.Minute)
	if len(dlq) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dlq))
	}
	h := map[string]string{}
	for _, x := range dlq[0].Headers {
		h[x.Key] = string(x.Value)
	}
	if h[record.HeaderStage] != "indexer" || h[record.HeaderStatus] != "400" || !strings.Contains(h[record.HeaderErrorType], "pars") {
		t.Fatalf("dead letter headers %v, want stage indexer, status 400 and a parsing error type", h)
	}
	t.Logf("dead letter reason: %s: %s", h[record.HeaderErrorType], h[record.HeaderReason])
}

func restartBroker(t *testing.T) {
	t.Helper()
	dir, err := realinfra.ScriptsDir()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(dir, "kafka-restart.sh"))
	cmd.Env = append(os.Environ(), "SLUICE_KAFKA_DOWN=3")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("restarting the broker: %v\n%s", err, out)
	}
	t.Logf("broker restarted: %s", strings.TrimSpace(string(out)))
}

// searchAll returns every document of index by _id (small test indices only).
func searchAll(t *testing.T, url, index string) map[string]json.RawMessage {
	t.Helper()
	return realinfra.Documents(t, url, index, "", "")
}

func readTopic(t *testing.T, brokers []string, topic string, want int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for the services' concurrent logging.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 4<<20 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
