package kafkatest

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Embedded is an in-process Kafka cluster speaking the real protocol
// (franz-go's kfake), for the local run (sluice-local) and the load tests.
// It lives here, not in libs/kafka, so that the services' binaries do not
// link the fake cluster; a test in libs/kafka checks they do not.
type Embedded struct {
	cluster *kfake.Cluster
}

// StartEmbedded starts an embedded cluster with brokers brokers. With a
// dataDir the cluster keeps its log there across restarts.
func StartEmbedded(brokers int, dataDir string, partitions int32, topics ...string) (*Embedded, error) {
	opts := []kfake.Opt{kfake.NumBrokers(brokers), kfake.DefaultNumPartitions(int(partitions)), kfake.AllowAutoTopicCreation()}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(partitions, topics...))
	}
	if dataDir != "" {
		opts = append(opts, kfake.DataDir(dataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting embedded kafka: %w", err)
	}
	return &Embedded{cluster: c}, nil
}

// Brokers returns the cluster's listen addresses.
func (e *Embedded) Brokers() []string { return e.cluster.ListenAddrs() }

// Cluster exposes the kfake cluster for fault injection.
func (e *Embedded) Cluster() *kfake.Cluster { return e.cluster }

// Close stops the cluster.
func (e *Embedded) Close() { e.cluster.Close() }
