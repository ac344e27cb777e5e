// Package config is the shipper's configuration: what to tail, where to
// publish, where to keep checkpoints. Load it with Load; it fails fast with an
// error that names the key.
package config

import (
	"fmt"
	"os"
	"path"
	"strings"
	"text/template"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/services/shipper/internal/multiline"
)

// Config is the whole shipper configuration file.
type Config struct {
	// Node is this node's name; default $NODE_NAME, else the host name.
	Node       string           `yaml:"node"`
	Kafka      Kafka            `yaml:"kafka"`
	Tail       Tail             `yaml:"tail"`
	State      State            `yaml:"state"`
	Kubernetes Kubernetes       `yaml:"kubernetes"`
	Admin      config.Admin     `yaml:"admin"`
	Telemetry  config.Telemetry `yaml:"telemetry"`
	Log        config.Log       `yaml:"log"`
	// Multiline joins stack traces and other multi-line events, per
	// container stream, before they are published; see
	// internal/multiline. Pods pick a rule with the sluice.io/multiline
	// annotation (a built-in language or a rule named here).
	Multiline multiline.Config `yaml:"multiline"`
	// MemoryLimit is the Go runtime's soft memory limit (bytes, e.g.
	// "96MiB"); default 0: the shipper's working set for the producer
	// buffer and read settings (shipper.MemoryBudget, 56.5 MiB with the
	// defaults), or 90 % of the container's memory limit when that is
	// lower. GOMEMLIMIT in the environment overrides both. Above the limit
	// the collector runs more often rather than letting garbage double the
	// heap; it is not a cap, so a limit below the working set costs CPU,
	// never lines.
	MemoryLimit config.ByteSize `yaml:"memory_limit"`
}

// Kafka is where raw lines go.
type Kafka struct {
	config.Kafka `yaml:",inline"`
	// Topic is the raw topic; default "logs.raw". It may be a Go template
	// over the record's namespace, e.g. "logs.raw.{{.Namespace}}"; a
	// rendering outside TopicAllowlist goes to the allowlist's first topic,
	// so pod data never names a topic on its own.
	Topic string `yaml:"topic"`
	// TopicAllowlist lists the topics a templated Topic may render to.
	TopicAllowlist []string `yaml:"topic_allowlist"`
	// Compression is snappy (default), lz4, zstd, gzip or none.
	Compression string `yaml:"compression"`
	// MaxBufferedBytes bounds records produced but not yet acknowledged;
	// reading pauses at the limit. Default 8MiB: about 14,000 typical
	// lines, which covers 200ms of acknowledgement latency at 70,000
	// lines/s. The shipper's memory grows by about three and a half times
	// this (the records, their Go objects and the produce requests they are
	// encoded into; see shipper.MemoryBudget).
	MaxBufferedBytes config.ByteSize `yaml:"max_buffered_bytes"`
	// Linger waits this long to fill a batch; default 5ms.
	Linger config.Duration `yaml:"linger"`
	// CreateTopics creates the topics the shipper writes to when they do
	// not exist at start. Off by default: in production topics are
	// infrastructure, and a missing one is an error naming it.
	CreateTopics CreateTopics `yaml:"create_topics"`
	// StallThreshold is how long Kafka may leave the oldest produced line
	// unacknowledged before the shipper reports itself degraded (status,
	// health reason, metrics) and logs what it waits for. Default 30s.
	StallThreshold config.Duration `yaml:"stall_threshold"`
	// StallLogInterval is how often that WARN line repeats while the
	// stall lasts. Default 30s.
	StallLogInterval config.Duration `yaml:"stall_log_interval"`
}

// CreateTopics configures topic creation at start (development, compose).
type CreateTopics struct {
	// Enabled creates missing topics; default false.
	Enabled bool `yaml:"enabled"`
	// Partitions of a created topic; default 6.
	Partitions int32 `yaml:"partitions"`
	// ReplicationFactor of a created topic; default 1 (one broker).
	ReplicationFactor int16 `yaml:"replication_factor"`
	// MaxMessageBytes is the created topic's max.message.bytes, which
	// bounds the largest record batch the broker accepts, after
	// compression. Default 8MiB, the value the compose file, the infra
	// scripts and the Helm chart give the Sluice topics.
	MaxMessageBytes config.ByteSize `yaml:"max_message_bytes"`
}

// Tail is what to read.
type Tail struct {
	Include      []string        `yaml:"include"`
	Exclude      []string        `yaml:"exclude"`
	Roots        []string        `yaml:"roots"`
	PollInterval config.Duration `yaml:"poll_interval"`
	// MaxEventBytes cuts longer events while reading (partial lines are
	// joined up to it); default 1MiB. Kafka bounds records too: the
	// shipper reads the topic's max.message.bytes (else the broker's
	// message.max.bytes) at start and cuts any record that would not fit,
	// so an event may be cut below this on a broker left at its 1MiB
	// default. Both cuts tag the record "truncated" with its original size.
	MaxEventBytes config.ByteSize `yaml:"max_event_bytes"`
	// NamespaceWeights shares the read budget among namespaces when Kafka
	// is slower than the node's logs: a namespace may hold at most
	// weight/Σweights of kafka.max_buffered_bytes in flight while others
	// wait, so a noisy namespace lags on disk instead of delaying the
	// others. A namespace not listed weighs its sluice.io/weight
	// annotation, else 1. Default none (all equal).
	NamespaceWeights map[string]int `yaml:"namespace_weights"`
}

// State is where checkpoints live.
type State struct {
	// Path of the checkpoint file; default /var/lib/sluice/shipper-state.json.
	Path string `yaml:"path"`
	// Interval between checkpoint saves; default 1s.
	Interval config.Duration `yaml:"interval"`
}

// Kubernetes configures metadata enrichment.
type Kubernetes struct {
	// Enabled watches pods on this node through the API server. Without it
	// (or while the API server is unreachable) metadata comes from file names.
	Enabled bool `yaml:"enabled"`
	// Kubeconfig is a kubeconfig path; empty uses the in-cluster config.
	Kubeconfig string `yaml:"kubeconfig"`
	// Annotations lists the pod annotations copied into each record
	// (sluice.io/* are always read). Default none.
	Annotations []string `yaml:"annotations"`
}

// DefaultTopicMaxMessageBytes is the max.message.bytes the shipped
// deployments (docker-compose, the infra scripts, the Helm chart) give the
// Sluice topics, and what kafka.create_topics uses by default: 8MiB.
const DefaultTopicMaxMessageBytes = 8 << 20

// NewDefault returns the defaults the config file overrides.
func NewDefault() Config {
	node := os.Getenv("NODE_NAME")
	if node == "" {
		node, _ = os.Hostname()
	}
	return Config{
		Node: node,
		Kafka: Kafka{
			Kafka:            config.Kafka{ClientID: "sluice-shipper"},
			Topic:            "logs.raw",
			Compression:      "snappy",
			MaxBufferedBytes: 8 << 20,
			Linger:           config.Duration(5e6),
			CreateTopics: CreateTopics{
				Partitions: 6, ReplicationFactor: 1, MaxMessageBytes: DefaultTopicMaxMessageBytes,
			},
			StallThreshold:   config.Duration(30e9),
			StallLogInterval: config.Duration(30e9),
		},
		Tail: Tail{
			Include:       []string{"/var/log/containers/*.log"},
			Roots:         []string{"/var/log/pods", "/var/log/containers"},
			PollInterval:  config.Duration(250e6),
			MaxEventBytes: 1 << 20,
		},
		State:     State{Path: "/var/lib/sluice/shipper-state.json", Interval: config.Duration(1e9)},
		Admin:     config.Admin{Listen: ":9090", MetricsListen: ":9091"},
		Telemetry: config.Telemetry{TraceSampleRatio: 0.01},
		Log:       config.Log{Level: "info", Format: "json"},
	}
}

// Load reads a config file over the defaults and validates it.
func Load(file string) (Config, string, error) { return config.LoadValidated(file, NewDefault()) }

// Validate checks every section; the error names the key.
func (c Config) Validate() error {
	var p config.Problems
	if c.Node == "" {
		p.Addf("node", "required (set NODE_NAME)")
	}
	p.AddPrefixed("kafka", c.Kafka.Kafka.Validate())
	if c.Kafka.Topic == "" {
		p.Addf("kafka.topic", "required")
	}
	if strings.Contains(c.Kafka.Topic, "{{") {
		if _, err := template.New("topic").Parse(c.Kafka.Topic); err != nil {
			p.Addf("kafka.topic", "bad template: %v", err)
		}
		if len(c.Kafka.TopicAllowlist) == 0 {
			p.Addf("kafka.topic_allowlist", "a templated topic needs an allowlist")
		}
	}
	switch c.Kafka.Compression {
	case "snappy", "lz4", "zstd", "gzip", "none":
	default:
		p.Addf("kafka.compression", "unknown codec %q (want snappy, lz4, zstd, gzip or none)", c.Kafka.Compression)
	}
	if c.Kafka.MaxBufferedBytes < 1<<16 {
		p.Addf("kafka.max_buffered_bytes", "%d is below the 64KiB minimum", c.Kafka.MaxBufferedBytes)
	}
	if ct := c.Kafka.CreateTopics; ct.Enabled {
		if ct.Partitions < 1 {
			return config.Errorf("kafka.create_topics.partitions", "must be at least 1, got %d", ct.Partitions)
		}
		if ct.ReplicationFactor < 1 {
			return config.Errorf("kafka.create_topics.replication_factor", "must be at least 1, got %d", ct.ReplicationFactor)
		}
		if ct.MaxMessageBytes < 1<<16 || ct.MaxMessageBytes > 1<<30 {
			return config.Errorf("kafka.create_topics.max_message_bytes", "%d is outside [64KiB, 1GiB]", ct.MaxMessageBytes)
		}
	}
	if c.Kafka.StallThreshold <= 0 {
		return config.Errorf("kafka.stall_threshold", "must be positive")
	}
	if c.Kafka.StallLogInterval <= 0 {
		return config.Errorf("kafka.stall_log_interval", "must be positive")
	}
	for ns, w := range c.Tail.NamespaceWeights {
		if w < 1 || w > 1000 {
			return config.Errorf("tail.namespace_weights."+ns, "weight %d is outside [1, 1000]", w)
		}
	}
	if len(c.Tail.Include) == 0 {
		p.Addf("tail.include", "at least one glob is required")
	}
	for key, globs := range map[string][]string{"tail.include": c.Tail.Include, "tail.exclude": c.Tail.Exclude} {
		for i, g := range globs {
			if _, err := path.Match(g, ""); err != nil {
				p.Addf(fmt.Sprintf("%s[%d]", key, i), "bad glob %q: %v", g, err)
			}
		}
	}
	if c.Tail.PollInterval <= 0 {
		p.Addf("tail.poll_interval", "must be positive")
	}
	if c.Tail.MaxEventBytes < 1024 {
		p.Addf("tail.max_event_bytes", "%d is below the 1KiB minimum", c.Tail.MaxEventBytes)
	}
	if c.MemoryLimit < 0 {
		p.Addf("memory_limit", "must not be negative (0 derives it from kafka.max_buffered_bytes)")
	}
	if c.State.Path == "" {
		p.Addf("state.path", "required")
	}
	if c.State.Interval <= 0 {
		p.Addf("state.interval", "must be positive")
	}
	p.AddPrefixed("admin", c.Admin.Validate())
	p.AddPrefixed("telemetry", c.Telemetry.Validate())
	p.AddPrefixed("log", c.Log.Validate())
	p.Add(c.Multiline.Validate())
	return p.Err()
}
