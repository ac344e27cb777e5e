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
	// reading pauses at the limit. Default 32MiB.
	MaxBufferedBytes config.ByteSize `yaml:"max_buffered_bytes"`
	// Linger waits this long to fill a batch; default 5ms.
	Linger config.Duration `yaml:"linger"`
}

// Tail is what to read.
type Tail struct {
	Include       []string        `yaml:"include"`
	Exclude       []string        `yaml:"exclude"`
	Roots         []string        `yaml:"roots"`
	PollInterval  config.Duration `yaml:"poll_interval"`
	MaxEventBytes config.ByteSize `yaml:"max_event_bytes"`
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
			MaxBufferedBytes: 32 << 20,
			Linger:           config.Duration(5e6),
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
	if c.Node == "" {
		return config.Errorf("node", "required (set NODE_NAME)")
	}
	if err := c.Kafka.Kafka.Validate(); err != nil {
		return config.Prefix("kafka", err)
	}
	if c.Kafka.Topic == "" {
		return config.Errorf("kafka.topic", "required")
	}
	if strings.Contains(c.Kafka.Topic, "{{") {
		if _, err := template.New("topic").Parse(c.Kafka.Topic); err != nil {
			return config.Errorf("kafka.topic", "bad template: %v", err)
		}
		if len(c.Kafka.TopicAllowlist) == 0 {
			return config.Errorf("kafka.topic_allowlist", "a templated topic needs an allowlist")
		}
	}
	switch c.Kafka.Compression {
	case "snappy", "lz4", "zstd", "gzip", "none":
	default:
		return config.Errorf("kafka.compression", "unknown codec %q (want snappy, lz4, zstd, gzip or none)", c.Kafka.Compression)
	}
	if c.Kafka.MaxBufferedBytes < 1<<16 {
		return config.Errorf("kafka.max_buffered_bytes", "%d is below the 64KiB minimum", c.Kafka.MaxBufferedBytes)
	}
	if len(c.Tail.Include) == 0 {
		return config.Errorf("tail.include", "at least one glob is required")
	}
	for key, globs := range map[string][]string{"tail.include": c.Tail.Include, "tail.exclude": c.Tail.Exclude} {
		for i, g := range globs {
			if _, err := path.Match(g, ""); err != nil {
				return config.Errorf(fmt.Sprintf("%s[%d]", key, i), "bad glob %q: %v", g, err)
			}
		}
	}
	if c.Tail.PollInterval <= 0 {
		return config.Errorf("tail.poll_interval", "must be positive")
	}
	if c.Tail.MaxEventBytes < 1024 {
		return config.Errorf("tail.max_event_bytes", "%d is below the 1KiB minimum", c.Tail.MaxEventBytes)
	}
	if c.State.Path == "" {
		return config.Errorf("state.path", "required")
	}
	if c.State.Interval <= 0 {
		return config.Errorf("state.interval", "must be positive")
	}
	if err := c.Admin.Validate(); err != nil {
		return config.Prefix("admin", err)
	}
	if err := c.Telemetry.Validate(); err != nil {
		return config.Prefix("telemetry", err)
	}
	return config.Prefix("log", c.Log.Validate())
}
