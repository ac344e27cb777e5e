// Package config is the indexer's configuration: the parsed topic it consumes,
// the search engine it writes to, batching and retry limits. Load fails fast
// with an error that names the key.
package config

import (
	"net/url"
	"time"

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
	Index indexname.Config `yaml:"index"`
	Batch Batch            `yaml:"batch"`
	// MemoryLimit is the Go runtime's soft memory limit (bytes, e.g.
	// "96MiB"); default 0: the indexer's working set for the batch
	// settings (indexer.MemoryBudget, 78 MiB with the defaults), or 90 % of
	// the container's memory limit when that is lower. GOMEMLIMIT in the
	// environment overrides both. Above the limit the collector runs more
	// often rather than letting garbage double the heap; it is not a cap, so
	// a limit below the working set costs CPU, never documents.
	MemoryLimit config.ByteSize  `yaml:"memory_limit"`
	Admin       config.Admin     `yaml:"admin"`
	Telemetry   config.Telemetry `yaml:"telemetry"`
	Log         config.Log       `yaml:"log"`
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
	// RawTopic is the parser's input topic, where a replay sends the
	// parser's dead letters; default "logs.raw".
	RawTopic string `yaml:"raw_topic"`
	// InstanceID makes the replica a static group member, so a restarted
	// container gets its partitions back at once rather than after the
	// session timeout (45s); default $POD_NAME, or in a Kubernetes pod its
	// hostname (the pod name); "none" disables.
	InstanceID string `yaml:"instance_id"`
}

// Elasticsearch is the search engine connection.
type Elasticsearch struct {
	// URLs of the nodes; failover goes round the list. Default $ES_URL or http://localhost:9200.
	URLs config.StringList `yaml:"urls"`
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
	// MaxRetries per document for retryable failures (429, 5xx,
	// es_rejected_execution_exception) before it goes to the dead-letter
	// topic; default -1: retried until accepted, with Kafka holding the
	// backlog, so an overloaded engine delays documents and loses none. A
	// request failed as a whole (the engine down) never counts.
	MaxRetries int `yaml:"max_retries"`
	// MaxRetryAge, when positive, dead-letters a document still refused
	// for a retryable reason this long after its first refusal (reason
	// retry_expired); default 0: off.
	MaxRetryAge config.Duration `yaml:"max_retry_age"`
	// BackoffMin and BackoffMax bound the exponential backoff between
	// retry rounds (with jitter: each wait is random in [d/2, d)); defaults
	// 100ms and 30s.
	BackoffMin config.Duration `yaml:"backoff_min"`
	BackoffMax config.Duration `yaml:"backoff_max"`
	// Template installs the built-in ECS index template at start; default true.
	Template bool `yaml:"template"`
	// TemplateName is the composable template's name; default "sluice-logs".
	TemplateName string `yaml:"template_name"`
	// TemplatePatterns are its index patterns; default derived from the
	// index names, narrowly so as not to claim other tools' indices:
	// logs-2* for the default logs-%{+yyyy.MM.dd} (not logs-*, which would
	// take over Elastic Agent's logs-<dataset>-<namespace> data streams),
	// logs-<dataset>-* for data streams.
	TemplatePatterns []string `yaml:"template_patterns"`
	// TemplatePriority; default 150: neither Elasticsearch's built-in
	// logs-*-* template (100) nor Fleet's integration templates (200), as
	// Elasticsearch refuses overlapping templates of equal priority.
	TemplatePriority int `yaml:"template_priority"`
	// ILM is the retention policy the indexer installs: an ILM policy on
	// Elasticsearch (named in the index template), an ISM policy on
	// OpenSearch (attached to new indices by its ism_template). Default:
	// policy sluice-logs deleting indices after 30 days; ilm.policy: ""
	// installs none.
	ILM ILM `yaml:"ilm"`
	// SetupTimeout bounds the start-up checks and installs (ping, template,
	// ILM) while the engine is unreachable or answers 5xx; a refusal that
	// names a setting fails at once. Default 2m.
	SetupTimeout config.Duration `yaml:"setup_timeout"`
}

// ILM is the retention policy the indexer installs (ILM on Elasticsearch,
// ISM on OpenSearch). On Elasticsearch the policy is replaced at every
// start, so the config is its source of truth; on OpenSearch an existing
// policy is left as it is (delete it to have the current one installed).
type ILM struct {
	// Policy is the policy name; default sluice-logs. Empty installs none
	// (manage retention yourself).
	Policy string `yaml:"policy"`
	// DeleteAfter deletes indices this long after creation (after rollover
	// for data streams); default 720h (30 days). 0 keeps them, which needs
	// data streams (the policy would have nothing else to do).
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
			RawTopic: "logs.raw",
		},
		Output: "elasticsearch",
		Elasticsearch: Elasticsearch{
			URLs:             []string{"http://localhost:9200"},
			Flavor:           "elasticsearch",
			Timeout:          config.Duration(30e9),
			MaxRetries:       -1,
			BackoffMin:       config.Duration(100e6),
			BackoffMax:       config.Duration(30e9),
			Template:         true,
			TemplateName:     "sluice-logs",
			TemplatePriority: 150,
			ILM:              ILM{Policy: "sluice-logs", DeleteAfter: config.Duration(720 * time.Hour)},
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
func Load(file string) (Config, string, error) { return config.LoadValidated(file, NewDefault()) }

// Validate checks every section; the error names the key.
func (c Config) Validate() error {
	var p config.Problems
	p.AddPrefixed("kafka", c.Kafka.Kafka.Validate())
	for key, v := range map[string]string{"kafka.group": c.Kafka.Group, "kafka.topic": c.Kafka.Topic, "kafka.dlq_topic": c.Kafka.DLQTopic} {
		if v == "" {
			p.Addf(key, "required")
		}
	}
	switch c.Output {
	case "elasticsearch":
		if len(c.Elasticsearch.URLs) == 0 {
			p.Addf("elasticsearch.urls", "at least one URL is required")
		}
		for i, u := range c.Elasticsearch.URLs {
			pu, err := url.Parse(u)
			if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				p.Addf("elasticsearch.urls["+itoa(i)+"]", "%q is not an http(s) URL", u)
			}
		}
		switch c.Elasticsearch.Flavor {
		case "elasticsearch", "opensearch":
		default:
			p.Addf("elasticsearch.flavor", "unknown flavor %q (want elasticsearch or opensearch)", c.Elasticsearch.Flavor)
		}
		if c.Elasticsearch.Timeout <= 0 {
			p.Addf("elasticsearch.timeout", "must be positive")
		}
		if c.Elasticsearch.MaxRetries < -1 {
			p.Addf("elasticsearch.max_retries", "must be -1 (forever) or more")
		}
		if c.Elasticsearch.APIKey != "" && c.Elasticsearch.Username != "" {
			p.Addf("elasticsearch.api_key", "set api_key or username/password, not both")
		}
		p.AddPrefixed("elasticsearch", c.Elasticsearch.validateMore(c.Index))
	case "file":
		if c.File.Path == "" {
			p.Addf("file.path", "required with output: file")
		}
	default:
		p.Addf("output", "unknown output %q (want elasticsearch or file)", c.Output)
	}
	p.AddPrefixed("index", c.Index.Validate())
	if c.Batch.MaxDocs <= 0 {
		p.Addf("batch.max_docs", "must be positive")
	}
	if c.Batch.MaxBytes < 1024 {
		p.Addf("batch.max_bytes", "%d is below the 1KiB minimum", c.Batch.MaxBytes)
	}
	if c.Batch.FlushInterval <= 0 {
		p.Addf("batch.flush_interval", "must be positive")
	}
	if c.Batch.Concurrency <= 0 || c.Batch.Concurrency > 64 {
		p.Addf("batch.concurrency", "%d is outside 1..64", c.Batch.Concurrency)
	}
	if c.Batch.MinConcurrency <= 0 || c.Batch.MinConcurrency > c.Batch.Concurrency {
		p.Addf("batch.min_concurrency", "%d is outside 1..concurrency (%d)", c.Batch.MinConcurrency, c.Batch.Concurrency)
	}
	if c.Batch.TargetLatency < 0 {
		p.Addf("batch.target_latency", "must not be negative (0 turns it off)")
	}
	if c.MemoryLimit < 0 {
		p.Addf("memory_limit", "must not be negative (0 derives it from the batch settings)")
	}
	p.AddPrefixed("admin", c.Admin.Validate())
	p.AddPrefixed("telemetry", c.Telemetry.Validate())
	p.AddPrefixed("log", c.Log.Validate())
	return p.Err()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func (e Elasticsearch) validateMore(ix indexname.Config) error {
	var p config.Problems
	if e.BackoffMin <= 0 {
		p.Addf("backoff_min", "must be positive")
	}
	if e.BackoffMax < e.BackoffMin {
		p.Addf("backoff_max", "%v is below backoff_min %v", e.BackoffMax.D(), e.BackoffMin.D())
	}
	if e.Template && e.TemplateName == "" {
		p.Addf("template_name", "required with template: true")
	}
	if e.TemplatePriority < 0 {
		p.Addf("template_priority", "must not be negative")
	}
	for i, pat := range e.TemplatePatterns {
		if pat == "" {
			p.Addf("template_patterns["+itoa(i)+"]", "empty pattern")
		}
	}
	if e.SetupTimeout <= 0 {
		p.Addf("setup_timeout", "must be positive")
	}
	if e.ILM.Policy != "" {
		if !e.Template && e.Flavor != "opensearch" {
			p.Addf("ilm.policy", "the policy is attached through the index template; set template: true or attach it yourself")
		}
		if e.ILM.DeleteAfter <= 0 && !ix.DataStream() {
			p.Addf("ilm.delete_after", "required: without data streams there is no rollover, so the policy would do nothing (set ilm.policy: \"\" to install none)")
		}
		if e.ILM.DeleteAfter < 0 || e.ILM.RolloverMaxAge < 0 {
			p.Addf("ilm", "durations must not be negative")
		}
	}
	return p.Err()
}
