// Package kafka turns the shared Kafka configuration section into franz-go
// client options and holds the small amount of Kafka plumbing the three
// services share: topic creation and the embedded cluster of the local run.
package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/sluice-io/sluice/libs/config"
)

// ClientOpts returns the options that connect a client as cfg says: seed
// brokers, client id, TLS and SASL.
func ClientOpts(cfg config.Kafka) ([]kgo.Opt, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka: no brokers configured")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}
	if l, ok := envLogger(); ok {
		opts = append(opts, l)
	}
	if cfg.ClientID != "" {
		opts = append(opts, kgo.ClientID(cfg.ClientID))
	}
	if cfg.TLS.Enabled || cfg.TLS.CAFile != "" || cfg.TLS.CertFile != "" {
		tc, err := TLSConfig(cfg.TLS)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls: %w", err)
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	switch strings.ToLower(cfg.SASL.Mechanism) {
	case "":
	case "plain":
		opts = append(opts, kgo.SASL(plain.Auth{User: cfg.SASL.Username, Pass: cfg.SASL.Password}.AsMechanism()))
	case "scram-sha-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: cfg.SASL.Username, Pass: cfg.SASL.Password}.AsSha256Mechanism()))
	case "scram-sha-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: cfg.SASL.Username, Pass: cfg.SASL.Password}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("kafka.sasl.mechanism: unknown %q", cfg.SASL.Mechanism)
	}
	return opts, nil
}

// TLSConfig builds a client TLS configuration from files.
func TLSConfig(c config.TLS) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // operator's explicit choice
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificates", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, err
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Compression maps a configured codec name to franz-go's codec.
func Compression(name string) kgo.CompressionCodec {
	switch name {
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	case "gzip":
		return kgo.GzipCompression()
	case "none":
		return kgo.NoCompression()
	default:
		return kgo.SnappyCompression()
	}
}

// EnsureTopics creates the topics that do not exist yet, with partitions
// partitions and the brokers' default replication factor. An existing topic
// is left as it is.
func EnsureTopics(ctx context.Context, cl *kgo.Client, partitions int32, topics ...string) error {
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopics(ctx, partitions, -1, nil, topics...)
	if err != nil {
		return fmt.Errorf("creating topics %v: %w", topics, err)
	}
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

// Embedded is an in-process Kafka cluster speaking the real protocol
// (franz-go's kfake), for the local run and for tests.
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
