// Package kafkatest starts an in-process Kafka cluster (franz-go's kfake) for
// a test and closes it when the test ends.
package kafkatest

import (
	"context"
	"testing"
	"time"

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
