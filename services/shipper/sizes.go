package shipper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-io/sluice/services/shipper/config"
)

// Kafka's record-size settings. A broker refuses a produce whose record
// batch (after compression) is larger than the topic's max.message.bytes,
// which defaults to the broker's message.max.bytes, 1,048,588 bytes.
const (
	topicMaxMessageBytes  = "max.message.bytes"
	brokerMaxMessageBytes = "message.max.bytes"
	// defaultMaxMessageBytes is Apache Kafka's default message.max.bytes,
	// assumed when the broker will not say.
	defaultMaxMessageBytes = 1048588
	// recordEnvelope is what one record adds to its value inside a batch of
	// its own: the batch header (61 bytes), the record's length,
	// attributes, timestamp and offset deltas, key and value lengths and
	// header count (at most 31 bytes of varints), and the trace context
	// headers the telemetry hooks add (under 200 bytes), with room to spare.
	// The key is added per record.
	recordEnvelope = 1024
	// minRecordBytes keeps a broker with an absurdly small limit from
	// leaving no room for a line at all.
	minRecordBytes = 4096
)

// limits are the record sizes the shipper produces, derived from the
// broker's settings at start.
type limits struct {
	// maxMessageBytes is the smallest max.message.bytes of the topics the
	// shipper may write to; source says where it came from.
	maxMessageBytes int32
	source          string
	// batchMaxBytes caps a producer batch. franz-go measures a batch
	// before compression and sends the uncompressed form when compression
	// would grow it, so a batch never reaches the broker larger than this.
	batchMaxBytes int32
}

// maxRecordValue is the largest record value that fits a batch of its own
// with a key of keyLen bytes.
func (l limits) maxRecordValue(keyLen int) int {
	return max(int(l.batchMaxBytes)-recordEnvelope-keyLen, minRecordBytes)
}

func newLimits(maxMessageBytes int32, source string) limits {
	return limits{maxMessageBytes: maxMessageBytes, source: source, batchMaxBytes: maxMessageBytes}
}

// errMissingTopic: a topic the shipper writes to does not exist.
var errMissingTopic = errors.New("kafka topic does not exist")

// discoverLimits reads the effective max.message.bytes of topics (the
// smallest), falling back to the broker's message.max.bytes when the topic
// configuration cannot be described, and to Kafka's default when neither
// can. A topic that does not exist is created when kafka.create_topics is
// enabled, and is otherwise an error naming it.
func discoverLimits(ctx context.Context, adm *kadm.Client, topics []string, ct config.CreateTopics, log *slog.Logger) (limits, error) {
	rcs, err := adm.DescribeTopicConfigs(ctx, topics...)
	if err == nil {
		var missing []string
		for _, rc := range rcs {
			if errors.Is(rc.Err, kerr.UnknownTopicOrPartition) {
				missing = append(missing, rc.Name)
			}
		}
		if len(missing) > 0 {
			if !ct.Enabled {
				return limits{}, fmt.Errorf("%w: %q (create it with max.message.bytes=%d, or set kafka.create_topics.enabled for development)",
					errMissingTopic, missing, int64(ct.MaxMessageBytes))
			}
			if err := createTopics(ctx, adm, missing, ct, log); err != nil {
				return limits{}, err
			}
			if rcs, err = adm.DescribeTopicConfigs(ctx, topics...); err != nil {
				return limits{}, fmt.Errorf("describing topics %q after creating them: %w", topics, err)
			}
		}
		best, name := int32(0), ""
		for _, rc := range rcs {
			if rc.Err != nil {
				err = fmt.Errorf("topic %q: %w", rc.Name, rc.Err)
				continue
			}
			for _, c := range rc.Configs {
				if c.Key != topicMaxMessageBytes || c.Value == nil {
					continue
				}
				if n, perr := strconv.ParseInt(*c.Value, 10, 32); perr == nil && n > 0 && (best == 0 || int32(n) < best) {
					best, name = int32(n), rc.Name
				}
			}
		}
		if best > 0 {
			return newLimits(best, "topic "+name+" "+topicMaxMessageBytes), nil
		}
	}
	log.Warn("cannot read the topics' max.message.bytes; trying the broker's message.max.bytes", "topics", topics, "err", err)
	if brokers, berr := adm.ListBrokers(ctx); berr == nil && len(brokers) > 0 {
		rcs, berr := adm.DescribeBrokerConfigs(ctx, brokers[0].NodeID)
		if berr == nil {
			for _, rc := range rcs {
				for _, c := range rc.Configs {
					if c.Key != brokerMaxMessageBytes || c.Value == nil {
						continue
					}
					if n, perr := strconv.ParseInt(*c.Value, 10, 32); perr == nil && n > 0 {
						return newLimits(int32(n), "broker "+brokerMaxMessageBytes), nil
					}
				}
			}
		}
		err = berr
	} else if berr != nil {
		err = berr
	}
	if ctx.Err() != nil {
		return limits{}, ctx.Err()
	}
	log.Warn("cannot read the broker's message.max.bytes; assuming Kafka's default", "assumed", defaultMaxMessageBytes, "err", err)
	return newLimits(defaultMaxMessageBytes, "kafka default"), nil
}

func createTopics(ctx context.Context, adm *kadm.Client, topics []string, ct config.CreateTopics, log *slog.Logger) error {
	v := strconv.FormatInt(int64(ct.MaxMessageBytes), 10)
	resps, err := adm.CreateTopics(ctx, ct.Partitions, ct.ReplicationFactor, map[string]*string{topicMaxMessageBytes: &v}, topics...)
	if err != nil {
		return fmt.Errorf("kafka.create_topics: creating %q: %w", topics, err)
	}
	for _, r := range resps.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("kafka.create_topics: creating topic %q: %w", r.Topic, r.Err)
		}
		log.Info("created kafka topic", "topic", r.Topic, "partitions", ct.Partitions, "replication_factor", ct.ReplicationFactor, topicMaxMessageBytes, v)
	}
	return nil
}

// cutUTF8 returns b cut to at most n bytes, backing off so that a
// multi-byte UTF-8 sequence is not split (content that is not valid UTF-8
// there is cut at n).
func cutUTF8(b []byte, n int) []byte {
	if n >= len(b) {
		return b
	}
	if n <= 0 {
		return b[:0]
	}
	for i := n; i > n-utf8.UTFMax && i > 0; i-- {
		if utf8.RuneStart(b[i]) {
			return b[:i]
		}
	}
	return b[:n]
}
