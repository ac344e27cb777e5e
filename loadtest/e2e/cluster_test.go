package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	libconfig "github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/kafka"
	"github.com/sluice-io/sluice/loadtest/realinfra"
	"github.com/sluice-io/sluice/loadtest/stack"
	indexercfg "github.com/sluice-io/sluice/services/indexer/config"
	parsercfg "github.com/sluice-io/sluice/services/parser/config"
	shippercfg "github.com/sluice-io/sluice/services/shipper/config"
)

// secureKafkaYAML is the Kafka section an operator writes for a SASL_SSL
// cluster, with the keys the services document.
func secureKafkaYAML(brokers []string, caFile, user, password string) []byte {
	return fmt.Appendf(nil, `kafka:
  brokers: %q
  tls:
    enabled: true
    ca_file: %q
  sasl:
    mechanism: scram-sha-512
    username: %q
    password: %q
`, strings.Join(brokers, ","), caFile, user, password)
}

// secureKafka decodes doc into each service's configuration, as the services
// load their files, and returns the shared Kafka section.
func secureKafka(t *testing.T, doc []byte) libconfig.Kafka {
	t.Helper()
	sh, _, err := libconfig.DecodeValidated(doc, shippercfg.NewDefault())
	if err != nil {
		t.Fatalf("shipper config: %v", err)
	}
	if _, _, err := libconfig.DecodeValidated(doc, parsercfg.NewDefault()); err != nil {
		t.Fatalf("parser config: %v", err)
	}
	if _, _, err := libconfig.DecodeValidated(doc, indexercfg.NewDefault()); err != nil {
		t.Fatalf("indexer config: %v", err)
	}
	return sh.Kafka.Kafka
}

// TestKafkaClusterSASLSSL runs the pipeline on a three-broker cluster with
// every service on the SASL_SSL listener (SCRAM-SHA-512, the script's CA),
// then kills the leader of a raw-topic partition with SIGKILL mid-stream and
// restarts it: no line is lost or indexed twice, no service stops with an
// error, and the raw topic holds each line once (the shipper's producer is
// idempotent, so its retries to the new leader add no duplicates). A wrong
// password and an untrusted CA fail with errors that name the cause.
func TestKafkaClusterSASLSSL(t *testing.T) {
	if os.Getenv("SLUICE_REAL_INFRA") != "1" {
		t.Skip("set SLUICE_REAL_INFRA=1 to run against a real three-broker Kafka cluster")
	}
	c := realinfra.KafkaCluster(t)
	url, flavor := realinfra.Search(t)

	t.Run("wrong-password", func(t *testing.T) {
		k := secureKafka(t, secureKafkaYAML(c.SASL, c.CAFile, c.User, "not-"+c.Password))
		err := clusterPing(t, k)
		if err == nil || !strings.Contains(err.Error(), "SASL_AUTHENTICATION_FAILED") {
			t.Fatalf("a wrong password: got %v, want an error naming SASL_AUTHENTICATION_FAILED", err)
		}
		t.Logf("wrong password: %v", err)
	})
	t.Run("untrusted-ca", func(t *testing.T) {
		k := secureKafka(t, secureKafkaYAML(c.SASL, c.UntrustedCAFile, c.User, c.Password))
		err := clusterPing(t, k)
		if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
			t.Fatalf("an untrusted CA: got %v, want an error naming the unknown certificate authority", err)
		}
		t.Logf("untrusted CA: %v", err)
	})
	t.Run("good-credentials", func(t *testing.T) {
		if err := clusterPing(t, secureKafka(t, secureKafkaYAML(c.SASL, c.CAFile, c.User, c.Password))); err != nil {
			t.Fatalf("the right CA and password: %v", err)
		}
	})
	if t.Failed() {
		return
	}

	secure := secureKafka(t, secureKafkaYAML(c.SASL, c.CAFile, c.User, c.Password))
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	index := "sluice-cluster-" + run
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service logs:\n%s", logs.String())
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The stack creates its topics as an operator would, over the PLAINTEXT
	// listener (replication factor 3, min.insync.replicas=2 from the brokers'
	// defaults); the services themselves see only the SASL_SSL listener.
	st, err := stack.Start(ctx, stack.Options{
		Dir: t.TempDir(), Brokers: c.Plain, SearchURL: url, SearchFlavor: flavor,
		Prefix: "cluster-" + run + ".", Index: index, Partitions: 3,
		Log:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		TuneShipper: func(c *shippercfg.Config) { c.Kafka.Kafka = secure },
		TuneParser:  func(c *parsercfg.Config) { c.Kafka.Kafka = secure },
		TuneIndexer: func(c *indexercfg.Config) {
			c.Kafka.Kafka = secure
			// The embedded OpenSearch runner has no ISM plugin.
			c.Elasticsearch.ILM.Policy = ""
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()

	adm := clusterAdmin(t, c.Plain)
	raw := st.Topic(stack.RawTopic)
	checkTopicReplication(t, adm, raw)

	pods := newPods(t, st.LogDir(), 3)
	writeAll(t, pods, 100, 25)
	waitIndexed(t, url, index, total(pods))
	t.Logf("SASL_SSL pipeline: %d lines indexed", total(pods))

	// Kill the leader of raw partition 0 while lines are being written.
	leader := partitionLeader(t, adm, raw, 0)
	// The writer runs until the broker is back; it may not call t.Fatal.
	var (
		wg       sync.WaitGroup
		writeErr error
	)
	back := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			for _, p := range pods {
				if _, err := p.Write(2); err != nil {
					writeErr = err
					return
				}
			}
			select {
			case <-back:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	c.Kill(t, leader)
	t.Logf("killed broker %d, leader of %s/0", leader, raw)
	time.Sleep(3 * time.Second)
	c.Start(t, leader)
	t.Logf("broker %d restarted", leader)
	close(back)
	wg.Wait()
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	writeAll(t, pods, 50, 25)

	want := total(pods)
	docs := waitIndexed(t, url, index, want)
	if len(docs) != want {
		t.Errorf("%d documents in %s, want %d", len(docs), index, want)
	}
	tally(t, docs, pods)

	// One shipper session: each line is in the raw topic exactly once, and
	// every record carries the idempotent producer's id.
	recs := readAllRecords(t, c.Plain, raw, want)
	seen := make(map[string]int, len(recs))
	dups := 0
	for _, r := range recs {
		if r.ProducerID < 0 {
			t.Fatalf("raw record at %d/%d has no producer id: the shipper's producer is not idempotent", r.Partition, r.Offset)
		}
		if seen[string(r.Value)]++; seen[string(r.Value)] == 2 {
			dups++
		}
	}
	if len(recs) != want || dups != 0 {
		t.Errorf("raw topic: %d records for %d lines, %d duplicated", len(recs), want, dups)
	}
	if s := logs.String(); strings.Contains(s, "service stopped with an error") {
		t.Errorf("a service stopped with an error during the broker kill:\n%s", s)
	}
	t.Logf("leader kill: %d lines written, %d indexed, %d raw records, %d duplicated", want, len(docs), len(recs), dups)
}

// clusterPing connects with the services' Kafka client options and asks for
// the cluster's metadata, returning the error the services would log.
func clusterPing(t *testing.T, k libconfig.Kafka) error {
	t.Helper()
	opts, err := kafka.ClientOpts(k)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(opts, kgo.RequestRetries(0))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = kadm.NewClient(cl).BrokerMetadata(ctx)
	return err
}

func clusterAdmin(t *testing.T, brokers []string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// checkTopicReplication checks the topic has three replicas per partition,
// all in sync, and min.insync.replicas=2.
func checkTopicReplication(t *testing.T, adm *kadm.Client, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range md.Topics[topic].Partitions.Sorted() {
		if len(p.Replicas) != 3 {
			t.Fatalf("%s/%d has replicas %v, want 3", topic, p.Partition, p.Replicas)
		}
	}
	rc, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := rc.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range cfg.Configs {
		got[c.Key] = c.MaybeValue()
	}
	if got["min.insync.replicas"] != "2" || got["max.message.bytes"] != "8388608" {
		t.Fatalf("%s: min.insync.replicas=%q max.message.bytes=%q, want 2 and 8388608", topic, got["min.insync.replicas"], got["max.message.bytes"])
	}
}

func partitionLeader(t *testing.T, adm *kadm.Client, topic string, partition int32) int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := md.Topics[topic].Partitions[partition]
	if !ok || p.Leader < 1 {
		t.Fatalf("%s/%d has no leader: %+v", topic, partition, p)
	}
	return p.Leader
}

// waitIndexed waits up to three minutes for want documents in index.
func waitIndexed(t *testing.T, url, index string, want int) map[string]json.RawMessage {
	t.Helper()
	var docs map[string]json.RawMessage
	waitUntil(3*time.Minute, func() bool {
		docs = searchAll(t, url, index)
		return len(docs) >= want
	})
	time.Sleep(time.Second)
	return searchAll(t, url, index)
}

// readAllRecords reads topic from the start until want records have come,
// then a little longer, so that duplicates beyond want are seen too.
func readAllRecords(t *testing.T, brokers []string, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(time.Minute)
	quiet := time.Time{}
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r); n++ })
		if len(out) >= want {
			if n == 0 && !quiet.IsZero() && time.Since(quiet) > 2*time.Second {
				break
			}
			if n > 0 || quiet.IsZero() {
				quiet = time.Now()
			}
		}
	}
	return out
}
