package parser

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/kafkatest"
	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/libs/stage"
)

// setMaxMessageBytes sets topic's max.message.bytes on the cluster.
func setMaxMessageBytes(t *testing.T, c *kafkatest.Cluster, topic string, n string) {
	t.Helper()
	adm := kadm.NewClient(c.Client())
	resp, err := adm.AlterTopicConfigs(context.Background(), []kadm.AlterConfig{{Name: "max.message.bytes", Value: &n}}, topic)
	if err == nil {
		_, err = resp.On(topic, nil)
	}
	if err != nil {
		t.Fatalf("setting %s max.message.bytes: %v", topic, err)
	}
}

// bigLine is a log line well under the shipper's 1 MiB event limit whose
// document is over the limits these tests give the parsed topic.
func bigLine(n int) string {
	return `{"level":"info","msg":"` + strings.Repeat("x", n) + `"}`
}

// TestTooLargeDocument (FAULTS row 28): a document over the parsed topic's
// max.message.bytes is dead-lettered with reason too_large and its
// original raw value and headers; the partition moves on and the replica
// keeps running. In plain mode the limit read at start catches it before
// producing; in transactional mode the limit is lowered after start, so the
// broker refuses the document, the transaction is aborted once, and the
// next attempt dead-letters the culprit and commits the rest.
func TestTooLargeDocument(t *testing.T) {
	tests := []struct {
		name          string
		transactional bool
		lowerAfter    bool
	}{
		{"plain, checked before producing", false, false},
		{"plain, refused by the broker", false, true},
		{"transactional, checked before producing", true, false},
		{"transactional, refused by the broker", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := kafkatest.New(t, 1, rawTopic, parsedTopic, dlqTopic)
			const limit = "200000"
			if !tt.lowerAfter {
				setMaxMessageBytes(t, c, parsedTopic, limit)
			}
			cfg := testConfig(c)
			cfg.Kafka.Transactional = tt.transactional
			cfg.Kafka.MaxPollRecords = 100
			r := startReplica(t, cfg)
			isolation := kgo.ReadUncommitted()
			if tt.transactional {
				isolation = kgo.ReadCommitted()
			}
			if tt.lowerAfter {
				// Wait until the replica runs (it read the 1 MB default).
				produceAll(t, c.Client(), rawRecord(0, "", testLine))
				collect(t, c, parsedTopic, 30*time.Second, isolation, func(out []*kgo.Record) bool { return len(out) >= 1 })
				setMaxMessageBytes(t, c, parsedTopic, limit)
			}
			big := rawRecord(1, "", bigLine(300000))
			big.Headers = []kgo.RecordHeader{{Key: "traceparent", Value: []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")}}
			produceAll(t, c.Client(), big, rawRecord(2, "", testLine), rawRecord(3, "", testLine))

			dlq := collect(t, c, dlqTopic, 30*time.Second, isolation, func(out []*kgo.Record) bool { return len(out) >= 1 })
			if len(dlq) != 1 {
				t.Fatalf("%d dead letters, want 1", len(dlq))
			}
			d := record.ParseDeadLetter(dlq[0])
			if !strings.HasPrefix(d.Reason, stage.ReasonTooLarge) || d.Stage != record.StageParser || d.Class != "permanent" {
				t.Fatalf("dead letter %+v, want stage parser, class permanent, reason too_large", d)
			}
			if string(dlq[0].Value) != string(big.Value) || header(dlq[0], "traceparent") == "" {
				t.Fatal("dead letter lost the raw value or the trace context")
			}
			if d.Topic != rawTopic || d.Offset != big.Offset && d.Offset < 0 || d.Namespace != "shop" || d.Container != "nginx" {
				t.Fatalf("dead letter origin %+v", d)
			}
			want := map[string]bool{expectedID(2): true, expectedID(3): true}
			got := collect(t, c, parsedTopic, 30*time.Second, isolation, func(out []*kgo.Record) bool {
				n := 0
				for id := range ids(out) {
					if want[id] {
						n++
					}
				}
				return n == len(want)
			})
			for _, rec := range got {
				delete(want, header(rec, record.HeaderID))
			}
			if len(want) > 0 {
				t.Fatalf("documents after the oversized one missing: %v", want)
			}
			select {
			case err := <-r.done:
				t.Fatalf("replica exited: %v", err)
			default:
			}
			if tt.transactional {
				// Refused by the broker: aborted once. Caught before
				// producing: never aborted.
				n := r.p.Telemetry().Snapshot()["transactions_aborted"]
				if tt.lowerAfter && (n < 1 || n > 3) || !tt.lowerAfter && n != 0 {
					t.Fatalf("%d transactions aborted", n)
				}
			}
		})
	}
}
