// Package kafkatest starts an in-process Kafka cluster (franz-go's kfake) for
// a test and closes it when the test ends.
package kafkatest

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Cluster is a test's Kafka cluster.
type Cluster struct {
	*kfake.Cluster
	tb testing.TB
}

// New starts a three-broker cluster with the topics seeded at partitions
// partitions each.
func New(tb testing.TB, partitions int32, topics ...string) *Cluster {
	tb.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(3), kfake.DefaultNumPartitions(int(partitions)), kfake.AllowAutoTopicCreation()}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(partitions, topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		tb.Fatalf("kafkatest: starting cluster: %v", err)
	}
	tb.Cleanup(c.Close)
	return &Cluster{Cluster: c, tb: tb}
}

// Brokers returns the seed addresses.
func (c *Cluster) Brokers() []string { return c.ListenAddrs() }

// Client returns a client on the cluster, closed at cleanup.
func (c *Cluster) Client(opts ...kgo.Opt) *kgo.Client {
	c.tb.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, opts...)...)
	if err != nil {
		c.tb.Fatalf("kafkatest: new client: %v", err)
	}
	c.tb.Cleanup(cl.Close)
	return cl
}

// ReadAll consumes topic from the start until want records arrived or the
// timeout passed, and returns what it read.
func (c *Cluster) ReadAll(topic string, want int, timeout time.Duration) []*kgo.Record {
	c.tb.Helper()
	cl := c.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

// ReadToEnd consumes topic from the start up to the end offsets it has when
// called: everything written before the call, however long a loaded
// machine takes to fetch it. It fails the test after timeout. For topics
// written without transactions (a transaction marker at the end of a
// partition is never fetched as a record).
func (c *Cluster) ReadToEnd(topic string, timeout time.Duration) []*kgo.Record {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ends, err := kadm.NewClient(c.Client()).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		c.tb.Fatalf("kafkatest: end offsets of %s: %v", topic, err)
	}
	short := map[int32]int64{} // partitions not read to their end yet
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			short[o.Partition] = o.Offset
		}
	})
	cl := c.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var out []*kgo.Record
	for len(short) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			c.tb.Fatalf("kafkatest: reading %s to its end: %d records in %v, partitions not read to their end offsets: %v", topic, len(out), timeout, short)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := short[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			out = append(out, r)
			if r.Offset+1 >= end {
				delete(short, r.Partition)
			}
		})
	}
	return out
}
