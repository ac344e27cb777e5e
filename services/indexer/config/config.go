// Package config is the indexer's configuration: the parsed topic it consumes,
// the search engine it writes to, batching and retry limits. Load fails fast
// with an error that names the key.
package config

import (
	"net/url"

	"github.com/sluice-io/sluice/libs/config"
)

// Config is the whole indexer configuration file.
type Config struct {
	Kafka Kafka `yaml:"kafka"`
	// Output is "elasticsearch" (default) or "file" (an NDJSON sink of the
	// bulk documents, for the local run without a search engine).
	Output        string           `yaml:"output"`
	Elasticsearch Elasticsearch    `yaml:"elasticsearch"`
	File          File             `yaml:"file"`
	Batch         Batch            `yaml:"batch"`
	Admin         config.Admin     `yaml:"admin"`
	Telemetry     config.Telemetry `yaml:"telemetry"`
	Log           config.Log       `yaml:"log"`
}

// Kafka is the indexer's Kafka section.
type Kafka struct {
	config.Kafka `yaml:",inline"`
	// Group is the consumer group; default "sluice-indexer".
	Group string `yaml:"group"`
	// Topic is the parsed topic; default "logs.parsed".
	Topic string `yaml:"topic"`
	// DLQTopic receives documents the search engine can never accept; default "logs.dlq".
	DLQTopic string `yaml:"dlq_topic"`
}

// Elasticsearch is the search engine connection.
type Elasticsearch struct {
	// URLs of the nodes; failover goes round the list. Default $ES_URL or http://localhost:9200.
	URLs []string `yaml:"urls"`
	// Flavor is "elasticsearch" (default) or "opensearch" (no product check).
	Flavor      string `yaml:"flavor"`
	Username    string `yaml:"username"`
	Password    string `yaml:"password"`
	APIKey      string `yaml:"api_key"`
	BearerToken string `yaml:"bearer_token"`
	CAFile      string `yaml:"ca_file"`
	Gzip        bool   `yaml:"gzip"`
	// Timeout of one bulk request; default 30s.
	Timeout config.Duration `yaml:"timeout"`
	// MaxRetries per document for retryable failures before it goes to the
	// dead-letter topic; default 10. -1 retries until shutdown.
	MaxRetries int `yaml:"max_retries"`
	// Template installs the built-in ECS index template at start; default true.
	Template bool `yaml:"template"`
}

// File is the NDJSON sink.
type File struct {
	// Path of the NDJSON file; default sluice-documents.ndjson.
	Path string `yaml:"path"`
}

// Batch sizes bulk requests.
type Batch struct {
	// MaxDocs per bulk request; default 5000.
	MaxDocs int `yaml:"max_docs"`
	// MaxBytes per bulk request; default 5MiB.
	MaxBytes config.ByteSize `yaml:"max_bytes"`
	// FlushInterval sends a partial batch after this long; default 1s.
	FlushInterval config.Duration `yaml:"flush_interval"`
	// Concurrency is the most bulk requests in flight; default 4.
	Concurrency int `yaml:"concurrency"`
}

// NewDefault returns the defaults the config file overrides.
func NewDefault() Config {
	return Config{
		Kafka: Kafka{
			Kafka:    config.Kafka{ClientID: "sluice-indexer"},
			Group:    "sluice-indexer",
			Topic:    "logs.parsed",
			DLQTopic: "logs.dlq",
		},
		Output: "elasticsearch",
		Elasticsearch: Elasticsearch{
			URLs:       []string{"http://localhost:9200"},
			Flavor:     "elasticsearch",
			Timeout:    config.Duration(30e9),
			MaxRetries: 10,
			Template:   true,
		},
		File:      File{Path: "sluice-documents.ndjson"},
		Batch:     Batch{MaxDocs: 5000, MaxBytes: 5 << 20, FlushInterval: config.Duration(1e9), Concurrency: 4},
		Admin:     config.Admin{Listen: ":9090", MetricsListen: ":9091"},
		Telemetry: config.Telemetry{TraceSampleRatio: 0.01},
		Log:       config.Log{Level: "info", Format: "json"},
	}
}

// Load reads a config file over the defaults and validates it.
func Load(file string) (Config, string, error) {
	c := NewDefault()
	digest, err := config.Load(file, &c)
	if err != nil {
		return c, "", err
	}
	return c, digest, c.Validate()
}

// Validate checks every section; the error names the key.
func (c Config) Validate() error {
	if err := c.Kafka.Kafka.Validate(); err != nil {
		return config.Prefix("kafka", err)
	}
	for key, v := range map[string]string{"kafka.group": c.Kafka.Group, "kafka.topic": c.Kafka.Topic, "kafka.dlq_topic": c.Kafka.DLQTopic} {
		if v == "" {
			return config.Errorf(key, "required")
		}
	}
	switch c.Output {
	case "elasticsearch":
		if len(c.Elasticsearch.URLs) == 0 {
			return config.Errorf("elasticsearch.urls", "at least one URL is required")
		}
		for i, u := range c.Elasticsearch.URLs {
			pu, err := url.Parse(u)
			if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				return config.Errorf("elasticsearch.urls["+itoa(i)+"]", "%q is not an http(s) URL", u)
			}
		}
		switch c.Elasticsearch.Flavor {
		case "elasticsearch", "opensearch":
		default:
			return config.Errorf("elasticsearch.flavor", "unknown flavor %q (want elasticsearch or opensearch)", c.Elasticsearch.Flavor)
		}
		if c.Elasticsearch.Timeout <= 0 {
			return config.Errorf("elasticsearch.timeout", "must be positive")
		}
		if c.Elasticsearch.MaxRetries < -1 {
			return config.Errorf("elasticsearch.max_retries", "must be -1 (forever) or more")
		}
		if c.Elasticsearch.APIKey != "" && c.Elasticsearch.Username != "" {
			return config.Errorf("elasticsearch.api_key", "set api_key or username/password, not both")
		}
	case "file":
		if c.File.Path == "" {
			return config.Errorf("file.path", "required with output: file")
		}
	default:
		return config.Errorf("output", "unknown output %q (want elasticsearch or file)", c.Output)
	}
	if c.Batch.MaxDocs <= 0 {
		return config.Errorf("batch.max_docs", "must be positive")
	}
	if c.Batch.MaxBytes < 1024 {
		return config.Errorf("batch.max_bytes", "%d is below the 1KiB minimum", c.Batch.MaxBytes)
	}
	if c.Batch.FlushInterval <= 0 {
		return config.Errorf("batch.flush_interval", "must be positive")
	}
	if c.Batch.Concurrency <= 0 || c.Batch.Concurrency > 64 {
		return config.Errorf("batch.concurrency", "%d is outside 1..64", c.Batch.Concurrency)
	}
	if err := c.Admin.Validate(); err != nil {
		return config.Prefix("admin", err)
	}
	if err := c.Telemetry.Validate(); err != nil {
		return config.Prefix("telemetry", err)
	}
	return config.Prefix("log", c.Log.Validate())
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
