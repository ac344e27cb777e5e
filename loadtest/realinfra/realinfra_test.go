package realinfra_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/loadtest/realinfra"
)

func requireRealInfra(t *testing.T) {
	t.Helper()
	if os.Getenv("SLUICE_REAL_INFRA") != "1" {
		t.Skip("set SLUICE_REAL_INFRA=1 to run against real Kafka and search engine")
	}
}

// TestKafkaSmoke creates a topic with kadm, produces one record and consumes
// it back, and checks that producing to an unknown topic auto-creates it.
func TestKafkaSmoke(t *testing.T) {
	requireRealInfra(t)
	t.Parallel()
	start := time.Now()
	brokers := realinfra.Kafka(t)
	t.Logf("kafka at %v (ready after %v)", brokers, time.Since(start).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	topic := fmt.Sprintf("realinfra-smoke-%d", time.Now().UnixNano())
	created, err := adm.CreateTopic(ctx, 1, 1, nil, topic)
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	if created.Err != nil {
		t.Fatalf("create topic %s: %v", topic, created.Err)
	}

	want := &kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte("hello from realinfra")}
	if err := cl.ProduceSync(ctx, want).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}

	consumer, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var got *kgo.Record
	for got == nil {
		fetches := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume: no record within the deadline: %v", ctx.Err())
		}
		fetches.EachError(func(topic string, p int32, err error) {
			t.Fatalf("consume %s/%d: %v", topic, p, err)
		})
		fetches.EachRecord(func(r *kgo.Record) {
			if got == nil {
				got = r
			}
		})
	}
	if string(got.Key) != "k" || string(got.Value) != string(want.Value) {
		t.Fatalf("consumed key=%q value=%q, want k=%q value=%q", got.Key, got.Value, "k", want.Value)
	}

	auto := topic + "-auto"
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: auto, Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("produce to %s (auto.create.topics.enable): %v", auto, err)
	}
	topics, err := adm.ListTopics(ctx, auto)
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	if !topics.Has(auto) {
		t.Fatalf("topic %s was not auto-created", auto)
	}
}

// TestSearchSmoke indexes one document over HTTP and gets it back.
func TestSearchSmoke(t *testing.T) {
	requireRealInfra(t)
	t.Parallel()
	start := time.Now()
	url, flavor := realinfra.Search(t)
	t.Logf("%s at %s (ready after %v)", flavor, url, time.Since(start).Round(time.Millisecond))
	if flavor != "opensearch" && flavor != "elasticsearch" {
		t.Fatalf("flavor %q, want opensearch or elasticsearch", flavor)
	}

	c := &http.Client{Timeout: 30 * time.Second}
	do := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequest(method, url+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: %s: %v: %s", method, path, resp.Status, err, raw)
		}
		return resp.StatusCode, m
	}

	index := fmt.Sprintf("realinfra-smoke-%d", time.Now().UnixNano())
	doc := map[string]any{"message": "hello from realinfra", "@timestamp": time.Now().UTC().Format(time.RFC3339Nano)}
	status, res := do(http.MethodPut, "/"+index+"/_doc/1?refresh=true", doc)
	if status != http.StatusCreated && status != http.StatusOK {
		t.Fatalf("index: HTTP %d: %v", status, res)
	}
	status, res = do(http.MethodGet, "/"+index+"/_doc/1", nil)
	if status != http.StatusOK || res["found"] != true {
		t.Fatalf("get: HTTP %d: %v", status, res)
	}
	src, _ := res["_source"].(map[string]any)
	if src["message"] != doc["message"] {
		t.Fatalf("get: _source %v, want message %q", src, doc["message"])
	}
}
