package shipper

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	libconfig "github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/kafkatest"
	"github.com/sluice-io/sluice/libs/logging/loggingtest"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/shipper/internal/kube"
)

// refuseProduce makes every produce fail with a retriable error while
// down is set: to the shipper, Kafka is down.
func refuseProduce(c *kafkatest.Cluster, down *atomic.Bool) {
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
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
}

// TestKafkaStallIsVisible covers "nothing silent" for FAULTS row 4: while
// Kafka does not acknowledge for longer than kafka.stall_threshold, the
// shipper logs at WARN what it waits for, repeating every
// stall_log_interval, reports degraded with the reason, and sets its
// metrics; once Kafka is back it is running again and nothing was lost.
func TestKafkaStallIsVisible(t *testing.T) {
	c := kafkatest.New(t, 3, "logs.raw")
	dir := t.TempDir()
	cfg := testConfig(t, c, dir)
	cfg.Kafka.StallThreshold = libconfig.Duration(300 * time.Millisecond)
	cfg.Kafka.StallLogInterval = libconfig.Duration(200 * time.Millisecond)
	var down atomic.Bool
	down.Store(true)
	refuseProduce(c, &down)
	writeCRI(t, filepath.Join(dir, "web-1_shop_nginx-"+containerID+".log"), 0, 50)
	var logs loggingtest.Buffer
	s, err := New(cfg, "test", slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, 10*time.Second, "the degraded state", func() bool { return s.State() == "degraded" })
	reason := s.StateReason()
	for _, want := range []string{"logs.raw", c.Brokers()[0], "in flight"} {
		if !strings.Contains(reason, want) {
			t.Errorf("degraded reason %q does not mention %q", reason, want)
		}
	}
	if s.stalled.Load() != 1 || s.oldestUnacked.Load() < 300*time.Millisecond {
		t.Errorf("metrics: kafka_stalled %d, oldest_unacked_age %v; want 1 and ≥ 300ms", s.stalled.Load(), s.oldestUnacked.Load())
	}
	waitFor(t, 10*time.Second, "a repeated WARN line", func() bool {
		return strings.Count(logs.String(), `"msg":"waiting for kafka to acknowledge`) >= 2
	})
	warn := logs.String()
	for _, want := range []string{`"level":"WARN"`, `"topic":"logs.raw"`, `"in_flight_bytes":`, `"oldest_unacked_age":`, `"brokers":"` + c.Brokers()[0]} {
		if !strings.Contains(warn, want) {
			t.Errorf("the WARN line lacks %s:\n%s", want, warn)
		}
	}

	down.Store(false)
	recs := c.ReadAll("logs.raw", 50, 30*time.Second)
	if len(recs) != 50 {
		t.Fatalf("%d of 50 lines delivered after the stall", len(recs))
	}
	waitFor(t, 10*time.Second, "the running state", func() bool { return s.State() == "running" })
	if s.StateReason() != "" || s.stalled.Load() != 0 {
		t.Errorf("after recovery: reason %q, kafka_stalled %d", s.StateReason(), s.stalled.Load())
	}
	if !strings.Contains(logs.String(), "kafka acknowledges again") {
		t.Error("no log line for the recovery")
	}
}

// flipMeta excludes pod "web-1" once exclude is set, as when
// sluice.io/exclude is added to a running pod.
type flipMeta struct{ exclude *atomic.Bool }

func (f flipMeta) Lookup(_ string, m kube.Meta) (*logsv1.Kubernetes, string, bool) {
	return &logsv1.Kubernetes{Namespace: m.Namespace, Pod: m.Pod, Container: m.Container}, "", f.exclude.Load()
}

// TestExcludeWhileInFlight: lines of a pod are produced while Kafka does
// not acknowledge; then the pod is annotated sluice.io/exclude and its next
// lines are skipped. The skipped lines must not move the checkpoint past
// the lines still in flight (a crash then would lose them); once Kafka is
// back they are all delivered and the checkpoint covers the file.
func TestExcludeWhileInFlight(t *testing.T) {
	old := metadataTTL
	metadataTTL = 20 * time.Millisecond
	// Registered before the shipper's own cleanup, so it runs after the
	// shipper stopped.
	t.Cleanup(func() { metadataTTL = old })
	c := kafkatest.New(t, 1, "logs.raw")
	dir := t.TempDir()
	cfg := testConfig(t, c, dir)
	var down, exclude atomic.Bool
	down.Store(true)
	refuseProduce(c, &down)
	path := filepath.Join(dir, "web-1_shop_nginx-"+containerID+".log")
	writeCRI(t, path, 0, 20)
	s, done, _ := runShipper(t, cfg, WithMetadata(flipMeta{&exclude}))
	waitFor(t, 10*time.Second, "20 lines in flight", func() bool { return s.linesRead.Load() == 20 })
	exclude.Store(true)
	time.Sleep(50 * time.Millisecond) // past the metadata cache
	writeCRI(t, path, 20, 5)
	waitFor(t, 10*time.Second, "the excluded lines skipped", func() bool { return s.excluded.Load() == 5 })
	time.Sleep(3 * cfg.State.Interval.D()) // a checkpoint save would happen now
	for _, f := range s.Tailer().Files() {
		if f.AckedOffset != 0 {
			t.Fatalf("checkpoint at %d while the first 20 lines are unacknowledged: a crash now would lose them", f.AckedOffset)
		}
	}
	down.Store(false)
	recs := decodeAll(t, c.ReadAll("logs.raw", 20, 30*time.Second))
	if len(recs) != 20 {
		t.Fatalf("%d of the 20 in-flight lines delivered", len(recs))
	}
	for i, r := range recs {
		if want := fmt.Sprintf("line %d", i); string(r.GetLine()) != want {
			t.Fatalf("record %d is %q, want %q", i, r.GetLine(), want)
		}
	}
	waitFor(t, 10*time.Second, "the checkpoint past every line", func() bool {
		fs := s.Tailer().Files()
		return len(fs) == 1 && fs[0].AckedOffset == fs[0].Size
	})
	select {
	case err := <-done:
		t.Fatalf("shipper exited: %v", err)
	default:
	}
}
