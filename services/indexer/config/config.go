// Package config is the indexer's configuration: the parsed topic it consumes,
// the search engine it writes to, batching and retry limits. Load fails fast
// with an error that names the key.
package config

import (
	"net/url"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/services/indexer/internal/indexname"
)

// Config is the whole indexer configuration file.
type Config struct {
	Kafka Kafka `yaml:"kafka"`
	// Output is "elasticsearch" (default) or "file" (an NDJSON sink of the
	// bulk documents, for the local run without a search engine).
	Output        string        `yaml:"output"`
	Elasticsearch Elasticsearch `yaml:"elasticsearch"`
	File          File          `yaml:"file"`
	// Index chooses the index (or data stream) of each document; default:
	// the parser's sluice-index header.
	Index     indexname.Config `yaml:"index"`
	Batch     Batch            `yaml:"batch"`
	Admin     config.Admin     `yaml:"admin"`
	Telemetry config.Telemetry `yaml:"telemetry"`
	Log       config.Log       `yaml:"log"`
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
	// dead-letter topic; default 10. -1 retries until shutdown. A request
	// failed as a whole (the engine down or overloaded) does not count: its
	// documents wait, with Kafka holding the backlog.
	MaxRetries int `yaml:"max_retries"`
	// BackoffMin and BackoffMax bound the exponential backoff between
	// retry rounds (with jitter: each wait is random in [d/2, d)); defaults
	// 100ms and 30s.
	BackoffMin config.Duration `yaml:"backoff_min"`
	BackoffMax config.Duration `yaml:"backoff_max"`
	// Template installs the built-in ECS index template at start; default true.
	Template bool `yaml:"template"`
	// TemplateName is the composable template's name; default "sluice-logs".
	TemplateName string `yaml:"template_name"`
	// TemplatePatterns are its index patterns; default derived from
	// index (logs-* for the default names, logs-*-* for data streams).
	TemplatePatterns []string `yaml:"template_patterns"`
	// TemplatePriority; default 200 (above Elasticsearch's built-in logs
	// template at 100).
	TemplatePriority int `yaml:"template_priority"`
	// ILM installs a lifecycle policy and names it in the template
	// (Elasticsearch only).
	ILM ILM `yaml:"ilm"`
	// SetupTimeout bounds the start-up checks and installs (ping, template,
	// ILM) while the engine is unreachable or answers 5xx; a refusal that
	// names a setting fails at once. Default 2m.
	SetupTimeout config.Duration `yaml:"setup_timeout"`
}

// ILM is the index lifecycle policy the indexer installs.
type ILM struct {
	// Policy is the policy name; empty (default) installs none.
	Policy string `yaml:"policy"`
	// DeleteAfter deletes indices this long after creation (after rollover
	// for data streams), e.g. 720h; 0 keeps them.
	DeleteAfter config.Duration `yaml:"delete_after"`
	// RolloverMaxAge and RolloverMaxPrimaryShardSize roll data streams
	// over (data streams only); defaults 24h and 50gb.
	RolloverMaxAge              config.Duration `yaml:"rollover_max_age"`
	RolloverMaxPrimaryShardSize string          `yaml:"rollover_max_primary_shard_size"`
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
	// Concurrency is the most bulk requests in flight; default 4. A round
	// of documents fetched and not yet accepted holds at most
	// MaxBytes × Concurrency bytes of documents: the indexer's memory bound.
	Concurrency int `yaml:"concurrency"`
	// MinConcurrency is the floor of the adaptive limit on requests in
	// flight, which halves on 429s and slow answers and grows back by one
	// per round of fast ones; default 1. Equal to Concurrency: fixed.
	MinConcurrency int `yaml:"min_concurrency"`
	// TargetLatency is the bulk latency above which the engine counts as
	// overloaded; default 5s, 0 turns the latency signal off.
	TargetLatency config.Duration `yaml:"target_latency"`
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
			URLs:             []string{"http://localhost:9200"},
			Flavor:           "elasticsearch",
			Timeout:          config.Duration(30e9),
			MaxRetries:       10,
			BackoffMin:       config.Duration(100e6),
			BackoffMax:       config.Duration(30e9),
			Template:         true,
			TemplateName:     "sluice-logs",
			TemplatePriority: 200,
			SetupTimeout:     config.Duration(120e9),
		},
		File:  File{Path: "sluice-documents.ndjson"},
		Index: indexname.NewDefaultConfig(),
		Batch: Batch{MaxDocs: 5000, MaxBytes: 5 << 20, FlushInterval: config.Duration(1e9), Concurrency: 4,
			MinConcurrency: 1, TargetLatency: config.Duration(5e9)},
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
		if err := c.Elasticsearch.validateMore(c.Index); err != nil {
			return config.Prefix("elasticsearch", err)
		}
	case "file":
		if c.File.Path == "" {
			return config.Errorf("file.path", "required with output: file")
		}
	default:
		return config.Errorf("output", "unknown output %q (want elasticsearch or file)", c.Output)
	}
	if err := c.Index.Validate(); err != nil {
		return config.Prefix("index", err)
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
	if c.Batch.MinConcurrency <= 0 || c.Batch.MinConcurrency > c.Batch.Concurrency {
		return config.Errorf("batch.min_concurrency", "%d is outside 1..concurrency (%d)", c.Batch.MinConcurrency, c.Batch.Concurrency)
	}
	if c.Batch.TargetLatency < 0 {
		return config.Errorf("batch.target_latency", "must not be negative (0 turns it off)")
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

func (e Elasticsearch) validateMore(ix indexname.Config) error {
	if e.BackoffMin <= 0 {
		return config.Errorf("backoff_min", "must be positive")
	}
	if e.BackoffMax < e.BackoffMin {
		return config.Errorf("backoff_max", "%v is below backoff_min %v", e.BackoffMax.D(), e.BackoffMin.D())
	}
	if e.Template && e.TemplateName == "" {
		return config.Errorf("template_name", "required with template: true")
	}
	if e.TemplatePriority < 0 {
		return config.Errorf("template_priority", "must not be negative")
	}
	for i, p := range e.TemplatePatterns {
		if p == "" {
			return config.Errorf("template_patterns["+itoa(i)+"]", "empty pattern")
		}
	}
	if e.SetupTimeout <= 0 {
		return config.Errorf("setup_timeout", "must be positive")
	}
	if e.ILM.Policy != "" {
		if e.Flavor == "opensearch" {
			return config.Errorf("ilm.policy", "ILM is Elasticsearch only; OpenSearch uses ISM policies, which the indexer does not install (leave ilm.policy empty)")
		}
		if !e.Template {
			return config.Errorf("ilm.policy", "the policy is attached through the index template; set template: true or attach it yourself")
		}
		if e.ILM.DeleteAfter <= 0 && !ix.DataStream() {
			return config.Errorf("ilm.delete_after", "required: without data streams there is no rollover, so the policy would only delete")
		}
		if e.ILM.DeleteAfter < 0 || e.ILM.RolloverMaxAge < 0 {
			return config.Errorf("ilm", "durations must not be negative")
		}
	}
	return nil
}
