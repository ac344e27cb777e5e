package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-io/sluice/libs/bulktest"
	"github.com/sluice-io/sluice/loadtest/gen"
	"github.com/sluice-io/sluice/loadtest/pipelinetest"
	"github.com/sluice-io/sluice/loadtest/stack"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
)

func tally(t *testing.T, docs map[string]json.RawMessage, pods []*gen.Pod) {
	t.Helper()
	pipelinetest.Tally(t, docs, pods)
}

func newPods(t *testing.T, dir string, n int) []*gen.Pod {
	t.Helper()
	return pipelinetest.NewPods(t, dir, n)
}

func writeAll(t *testing.T, pods []*gen.Pod, lines, chunk int) {
	t.Helper()
	pipelinetest.WriteAll(t, pods, lines, chunk)
}

func total(pods []*gen.Pod) int { return pipelinetest.Total(pods) }

// waitUntil polls cond until it holds or the timeout passes; the caller's
// checks then say what is missing.
func waitUntil(timeout time.Duration, cond func() bool) {
	deadline := time.Now().Add(timeout)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (int, bool)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n, ok := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (at %d)", timeout, what, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPipelineExactlyOnce writes lines across several pods, runs shipper,
// parsers and indexer on embedded Kafka into the bulk test server, kills
// the indexer mid-stream (no drain, no commit) and restarts it, and checks
// every line is indexed exactly once with its Kubernetes and parsed fields.
func TestPipelineExactlyOnce(t *testing.T) {
	es := bulktest.New(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := stack.Start(ctx, stack.Options{Dir: dir, SearchURL: es.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	pods := newPods(t, st.LogDir(), 6)

	writeAll(t, pods, 500, 50)
	waitFor(t, "first documents", time.Minute, func() (int, bool) { return es.Count(), es.Count() > 0 })
	if err := st.Kill("indexer"); err != nil {
		t.Fatalf("killing the indexer: %v", err)
	}
	writeAll(t, pods, 500, 50)
	if err := st.StartIndexer(ctx); err != nil {
		t.Fatal(err)
	}
	want := total(pods)
	waitUntil(2*time.Minute, func() bool { return es.Count() >= want })
	time.Sleep(500 * time.Millisecond) // anything extra would show up now
	if got := es.Count(); got != want {
		t.Errorf("%d documents indexed, want %d", got, want)
		traceLoss(t, st, es.Docs())
	}
	tally(t, es.Docs(), pods)
}

// traceLoss says, for each line missing from the index, whether it reached
// the raw and parsed topics, so a failure points at the stage that lost it.
func traceLoss(t *testing.T, st *stack.Stack, docs map[string]json.RawMessage) {
	t.Helper()
	indexed := map[string]bool{}
	for _, raw := range docs {
		var d pipelinetest.Doc
		_ = json.Unmarshal(raw, &d)
		pod, seq, _ := gen.SeqFromURL(d.URL.Original)
		indexed[fmt.Sprintf("%s#%d", pod, seq)] = true
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(st.Brokers()...), kgo.ConsumeTopics(st.Topic(stack.RawTopic), st.Topic(stack.ParsedTopic), st.Topic(stack.DLQTopic)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	where := map[string][]string{}
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			var url string
			if r.Topic != st.Topic(stack.ParsedTopic) {
				var rec logsv1.RawRecord
				if proto.Unmarshal(r.Value, &rec) == nil {
					_, req, _ := strings.Cut(string(rec.Line), "\"")
					if f := strings.Fields(req); len(f) > 1 {
						url = f[1]
					}
				}
			} else {
				var d pipelinetest.Doc
				_ = json.Unmarshal(r.Value, &d)
				url = d.URL.Original
			}
			pod, seq, ok := gen.SeqFromURL(url)
			if !ok {
				return
			}
			key := fmt.Sprintf("%s#%d", pod, seq)
			if !indexed[key] {
				at := fmt.Sprintf("%s[%d]@%d", r.Topic, r.Partition, r.Offset)
				for _, h := range r.Headers {
					if h.Key == "sluice-dlq-reason" {
						at += " (" + string(h.Value) + ")"
					}
				}
				where[key] = append(where[key], at)
			}
		})
	}
	for k, v := range where {
		t.Logf("not indexed but in Kafka: %s at %v", k, v)
	}
}

// TestLocalFileSink is the make run path: no search engine, documents go to
// the NDJSON file, and a shipper restart neither loses nor repeats a line.
func TestLocalFileSink(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := stack.Start(ctx, stack.Options{Dir: dir, Parsers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	pods := newPods(t, st.LogDir(), 2)
	writeAll(t, pods, 200, 50)
	if err := st.StopService("shipper"); err != nil {
		t.Fatalf("stopping the shipper: %v", err)
	}
	writeAll(t, pods, 200, 50)
	if err := st.StartShipper(ctx); err != nil {
		t.Fatal(err)
	}
	want := total(pods)
	read := func() map[string]json.RawMessage {
		docs := map[string]json.RawMessage{}
		f, err := os.Open(st.SinkPath())
		if err != nil {
			return docs
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var line struct {
				ID     string          `json:"_id"`
				Index  string          `json:"_index"`
				Source json.RawMessage `json:"_source"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("sink line is not JSON: %v", err)
			}
			if !strings.HasPrefix(line.Index, "logs-") {
				t.Fatalf("index %q", line.Index)
			}
			if _, dup := docs[line.ID]; dup {
				t.Fatalf("_id %s written twice", line.ID)
			}
			docs[line.ID] = line.Source
		}
		return docs
	}
	waitFor(t, fmt.Sprintf("%d documents in the file", want), time.Minute, func() (int, bool) {
		n := len(read())
		return n, n >= want
	})
	tally(t, read(), pods)
}
