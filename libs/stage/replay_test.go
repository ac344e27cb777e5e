package stage

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/kafkatest"
	"github.com/sluice-io/sluice/libs/record"
)

const (
	rawTopic    = "logs.raw"
	parsedTopic = "logs.parsed"
	dlqTopic    = "logs.dlq"
)

// letter is the dead letter of a record of topic made by stage.
func letter(stage, topic string, value string, offset int64) *kgo.Record {
	in := &kgo.Record{Topic: topic, Offset: offset, Key: record.Key("shop", "web-1", "nginx"), Value: []byte(value),
		Headers: []kgo.RecordHeader{
			{Key: "traceparent", Value: []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")},
			{Key: record.HeaderID, Value: []byte("id-" + value)},
		}}
	d := record.NewDeadLetter(stage, Permanent.String(), "because", in)
	r := d.Record(dlqTopic, in)
	r.Partition = 0
	return r
}

// TestReplay replays parser and indexer letters to the topics their stages
// read, from a partition that ends in transaction markers (a committed
// transaction, then an aborted one): the replay returns promptly with the
// right count, and a dry run lists the same without producing.
func TestReplay(t *testing.T) {
	c := kafkatest.New(t, 1, rawTopic, parsedTopic, dlqTopic)
	plain := c.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := plain.ProduceSync(context.Background(),
		letter(record.StageParser, rawTopic, "raw-1", 10),
		letter(record.StageIndexer, parsedTopic, "doc-1", 20),
		letter("shipper", "elsewhere", "unknown-stage", 30),
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// A transactional writer (the transactional parser) commits two more
	// letters, then aborts one: the partition ends in markers.
	txn := c.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionalID("replay-test"))
	for _, commit := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort} {
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		recs := []*kgo.Record{letter(record.StageParser, rawTopic, "raw-2", 11), letter(record.StageIndexer, parsedTopic, "doc-2", 21)}
		if commit == kgo.TryAbort {
			recs = []*kgo.Record{letter(record.StageParser, rawTopic, "aborted", 12)}
		}
		if err := txn.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := txn.EndTransaction(context.Background(), commit); err != nil {
			t.Fatal(err)
		}
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers()...)}
	base := ReplayOptions{Topic: dlqTopic, Partition: 0, Timeout: 20 * time.Second,
		Targets: map[string]string{record.StageParser: rawTopic, record.StageIndexer: parsedTopic}}

	t.Run("dry run", func(t *testing.T) {
		o := base
		o.DryRun = true
		res, err := Replay(context.Background(), opts, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Replayed != 4 || res.Skipped != 1 || len(res.Letters) != 4 {
			t.Fatalf("dry run: %d replayed, %d skipped, %d listed; want 4, 1, 4", res.Replayed, res.Skipped, len(res.Letters))
		}
		if l := res.Letters[0]; l.Target != rawTopic || l.Letter.Stage != record.StageParser || l.Letter.Offset != 10 {
			t.Fatalf("first letter %+v", l)
		}
		if n := len(c.ReadAll(rawTopic, 1, 300*time.Millisecond)); n != 0 {
			t.Fatalf("a dry run produced %d records", n)
		}
	})

	t.Run("replay", func(t *testing.T) {
		start := time.Now()
		res, err := Replay(context.Background(), opts, base)
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("replay took %v: it waited for a record past the end", took)
		}
		if res.Replayed != 4 || res.Skipped != 1 {
			t.Fatalf("%d replayed, %d skipped; want 4 and 1", res.Replayed, res.Skipped)
		}
		raw := c.ReadAll(rawTopic, 2, 5*time.Second)
		parsed := c.ReadAll(parsedTopic, 2, 5*time.Second)
		if len(raw) != 2 || len(parsed) != 2 {
			t.Fatalf("%d records on %s and %d on %s, want 2 and 2", len(raw), rawTopic, len(parsed), parsedTopic)
		}
		for _, r := range append(raw, parsed...) {
			if string(r.Value) == "aborted" {
				t.Fatal("an aborted letter was replayed")
			}
			if len(r.Headers) != 2 || r.Headers[0].Key != "traceparent" || r.Headers[1].Key != record.HeaderID {
				t.Fatalf("replayed headers %v, want the original ones (trace context, _id) only", r.Headers)
			}
		}
	})

	t.Run("range and missing partition", func(t *testing.T) {
		o := base
		o.From, o.To, o.DryRun = 1, 2, true
		res, err := Replay(context.Background(), opts, o)
		if err != nil || res.Replayed != 1 || res.Letters[0].Target != parsedTopic {
			t.Fatalf("offsets [1,2): %+v, %v", res, err)
		}
		o.Partition = 7
		if _, err := Replay(context.Background(), opts, o); err == nil {
			t.Fatal("no error for a missing partition")
		}
	})

	t.Run("list stops at the end", func(t *testing.T) {
		start := time.Now()
		recs, err := List(context.Background(), opts, dlqTopic, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 5 {
			t.Fatalf("listed %d letters, want the 5 committed ones", len(recs))
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("listing took %v", took)
		}
	})
}
