// Package config is the parser's configuration: where records come from and
// go to, and the parse rules. Load fails fast with an error naming the key,
// e.g. `rules[2].processors[0].grok.pattern: unknown grok pattern "FOO"`.
package config

import (
	"fmt"
	"time"

	"github.com/sluice-io/sluice/libs/config"
)

// Config is the whole parser configuration file.
type Config struct {
	Kafka Kafka  `yaml:"kafka"`
	Rules []Rule `yaml:"rules"`
	// Patterns are custom grok pattern definitions, NAME: regex.
	Patterns map[string]string `yaml:"patterns"`
	// Budget bounds one record's processing; a record over it goes to the
	// dead-letter topic (after a second try, so a pause does not count). Default 250ms.
	Budget    config.Duration  `yaml:"budget"`
	Admin     config.Admin     `yaml:"admin"`
	Telemetry config.Telemetry `yaml:"telemetry"`
	Log       config.Log       `yaml:"log"`
}

// Kafka is the parser's Kafka section.
type Kafka struct {
	config.Kafka `yaml:",inline"`
	// Group is the consumer group; default "sluice-parser".
	Group string `yaml:"group"`
	// InputTopic is the raw topic; default "logs.raw".
	InputTopic string `yaml:"input_topic"`
	// OutputTopic receives ready-to-index documents; default "logs.parsed".
	OutputTopic string `yaml:"output_topic"`
	// DLQTopic receives records that cannot be processed; default "logs.dlq".
	DLQTopic string `yaml:"dlq_topic"`
	// Index is the index name template the documents carry for the indexer;
	// default "logs-%{+yyyy.MM.dd}" (date from @timestamp, UTC).
	Index string `yaml:"index"`
	// MaxPollRecords bounds one fetch; default 10000.
	MaxPollRecords int `yaml:"max_poll_records"`
	// MaxBufferedBytes bounds produced but unacknowledged documents; default 32MiB.
	MaxBufferedBytes config.ByteSize `yaml:"max_buffered_bytes"`
	// Compression of the parsed topic: snappy (default), lz4, zstd, gzip, none.
	Compression string `yaml:"compression"`
	// Workers parse in parallel, each owning a subset of the partitions so
	// that every partition keeps its order; default 0 means GOMAXPROCS.
	Workers int `yaml:"workers"`
	// Transactional makes the parser exactly-once on Kafka: each batch's
	// documents and its input offsets are committed in one transaction, so a
	// crash never leaves a document in the parsed topic for a consumer
	// reading with isolation level read_committed unless its offset was
	// committed too. Default false (at-least-once; the indexer's create by
	// _id removes the duplicates).
	Transactional bool `yaml:"transactional"`
	// TransactionalID identifies this replica's producer when Transactional
	// is on; default "<group>-<hostname>-<random>". Zombie replicas are
	// fenced by the consumer group generation (KIP-447), so the ID need not
	// be stable across restarts.
	TransactionalID string `yaml:"transactional_id"`
	// TransactionTimeout bounds an open transaction; default 30s.
	TransactionTimeout config.Duration `yaml:"transaction_timeout"`
	// InstanceID makes the replica a static group member, so a restarted
	// container gets its partitions back at once rather than after the
	// session timeout (45s); default $POD_NAME, or in a Kubernetes pod its
	// hostname (the pod name); "none" disables.
	InstanceID string `yaml:"instance_id"`
}

// Rule selects records and says how to parse them. Rules are tried in order;
// the first whose Match fits is applied.
type Rule struct {
	Name  string `yaml:"name"`
	Match Match  `yaml:"match"`
	// Builtin names a rule shipped with Sluice (nginx, apache, nginx_error,
	// apache_error, json, auto, none) whose
	// processors run before Processors. json and auto map application
	// JSON logs to ECS (see Target); nginx and apache parse the user agent
	// and, with GeoIPDatabases, add geo fields.
	Builtin    string      `yaml:"builtin"`
	Processors []Processor `yaml:"processors"`
	// KeepOriginal copies the whole line to event.original when the rule
	// parsed it. Default false, as in Elastic's integrations (their
	// preserve_original_event tag): the nginx and apache builtins then
	// drop message, whose every part is in a field of its own, and the
	// error-log builtins keep only the event's text in message. A line
	// the rule fails on keeps the line in message either way.
	KeepOriginal bool `yaml:"keep_original"`
	// OnFailure is "tag" (default: keep the raw message, add a failure tag)
	// or "dlq" (send the record to the dead-letter topic).
	OnFailure string `yaml:"on_failure"`
	// Timezone is the zone of log times written without an offset (the
	// nginx_error, apache_error, json and auto builtins): an IANA name,
	// "+02:00" or "GMT+2". Default UTC.
	Timezone string `yaml:"timezone"`
	// Target is where the json and auto builtins put an application's
	// own fields, those not mapped to ECS: a dotted object path, default
	// "app" (app.user, app.status), or "root" for the document root, where
	// they may clash with ECS fields of the same name.
	Target string `yaml:"target"`
	// GeoIPDatabases are MaxMind-format databases (GeoLite2/GeoIP2 City,
	// Country or ASN, or a compatible file) the nginx and apache builtins
	// look source.ip up in for source.geo.* and source.as.*. Default none:
	// no geo fields. The user agent is always parsed.
	GeoIPDatabases []string `yaml:"geoip_databases"`
}

// Match selects records. Empty fields match everything; all set fields must match.
type Match struct {
	// Hint is the pod's sluice.io/parser annotation value.
	Hint       string            `yaml:"hint"`
	Namespaces []string          `yaml:"namespaces"`
	Containers []string          `yaml:"containers"`
	Labels     map[string]string `yaml:"labels"`
}

// Processor is one step; exactly one field is set.
type Processor struct {
	Grok    *Grok             `yaml:"grok"`
	Regex   *Regex            `yaml:"regex"`
	JSON    *JSON             `yaml:"json"`
	Logfmt  *Source           `yaml:"logfmt"`
	Dissect *Dissect          `yaml:"dissect"`
	KV      *KV               `yaml:"kv"`
	Date    *Date             `yaml:"date"`
	Convert map[string]string `yaml:"convert"`
	Rename  map[string]string `yaml:"rename"`
	Remove  []string          `yaml:"remove"`
	Add     map[string]string `yaml:"add"`
	// UserAgent parses a user agent string into user_agent.*.
	UserAgent *UserAgent `yaml:"user_agent"`
	// GeoIP looks an IP address up in MaxMind-format databases.
	GeoIP *GeoIP `yaml:"geoip"`
}

// UserAgent parses Field (default user_agent.original) with the ua-parser
// regexes into user_agent.name, user_agent.version, user_agent.os.* and
// user_agent.device.name, as Elastic's user_agent processor does.
type UserAgent struct {
	Field string `yaml:"field"`
	// CacheSize bounds the parsed user agents kept, by distinct string;
	// default 4096. Web traffic repeats a few hundred agents, and parsing
	// one costs tens of microseconds.
	CacheSize int `yaml:"cache_size"`
}

// GeoIP looks Field (default source.ip) up in Databases and writes
// <Target>.geo.* and <Target>.as.* (Target default "source"). A missing
// or unparsable address, or one not in a database, adds nothing.
type GeoIP struct {
	Field     string   `yaml:"field"`
	Target    string   `yaml:"target"`
	Databases []string `yaml:"databases"`
}

// Source names the field a processor reads; default "message".
type Source struct {
	Field string `yaml:"field"`
}

// Grok matches one of Patterns (first match wins).
type Grok struct {
	Source   `yaml:",inline"`
	Patterns []string `yaml:"patterns"`
	// Mode is "ecs-v1" (default) or "legacy" pattern semantics.
	Mode string `yaml:"mode"`
}

// Regex is an RE2 regular expression with named groups (Pattern), or a
// Fluent Bit parser definition (FluentBit); exactly one is set.
type Regex struct {
	Source  `yaml:",inline"`
	Pattern string `yaml:"pattern"`
	// FluentBit runs a [PARSER] from a Fluent Bit parsers file, with its
	// Onigmo regex translated for RE2, its Types, and @timestamp taken from
	// Time_Key / Time_Format.
	FluentBit *FluentBit `yaml:"fluentbit"`
}

// FluentBit names a Fluent Bit parser definition: in File (e.g.
// /fluent-bit/etc/parsers.conf; a relative path is relative to the working
// directory) or in Inline, the same [PARSER] syntax given in the YAML.
// Parser is the definition's Name; it may be omitted when there is only one.
type FluentBit struct {
	File   string `yaml:"file"`
	Inline string `yaml:"inline"`
	Parser string `yaml:"parser"`
}

// JSON decodes a JSON object in Field into Target (default, and "root":
// the document root). With ECS it maps application log fields (level, msg, time, logger,
// caller, trace_id, error, ... of zap, slog, logrus, zerolog, logback,
// log4j2, python-json-logger, structlog, pino, bunyan, winston) to ECS, and
// Target, then default "app" ("root" for the root), holds the others.
type JSON struct {
	Source `yaml:",inline"`
	Target string `yaml:"target"`
	ECS    bool   `yaml:"ecs"`
	// Timezone is the zone of times written without an offset, with ECS;
	// default UTC.
	Timezone string `yaml:"timezone"`
}

// Dissect splits Field by a dissect pattern.
type Dissect struct {
	Source  `yaml:",inline"`
	Pattern string `yaml:"pattern"`
}

// KV splits key=value pairs.
type KV struct {
	Source     `yaml:",inline"`
	FieldSplit string `yaml:"field_split"`
	ValueSplit string `yaml:"value_split"`
	Prefix     string `yaml:"prefix"`
}

// Date parses Field with the first matching format into Target (default @timestamp).
type Date struct {
	Source   `yaml:",inline"`
	Formats  []string `yaml:"formats"`
	Target   string   `yaml:"target"`
	Timezone string   `yaml:"timezone"`
}

// NewDefault returns the defaults the config file overrides.
func NewDefault() Config {
	return Config{
		Kafka: Kafka{
			Kafka:            config.Kafka{ClientID: "sluice-parser"},
			Group:            "sluice-parser",
			InputTopic:       "logs.raw",
			OutputTopic:      "logs.parsed",
			DLQTopic:         "logs.dlq",
			Index:            "logs-%{+yyyy.MM.dd}",
			MaxPollRecords:   10000,
			MaxBufferedBytes: 32 << 20,
			Compression:      "snappy",

			TransactionTimeout: config.Duration(30 * time.Second),
		},
		Budget:    config.Duration(250 * time.Millisecond),
		Admin:     config.Admin{Listen: ":9090", MetricsListen: ":9091"},
		Telemetry: config.Telemetry{TraceSampleRatio: 0.01},
		Log:       config.Log{Level: "info", Format: "json"},
	}
}

// Load reads a config file over the defaults and validates it.
func Load(file string) (Config, string, error) { return config.LoadValidated(file, NewDefault()) }

// Parse is Load for a document in memory (the admin API's ReloadConfig).
func Parse(doc []byte) (Config, string, error) { return config.DecodeValidated(doc, NewDefault()) }

// Validate checks the structure of every section; the error names the key.
func (c Config) Validate() error {
	var p config.Problems
	p.AddPrefixed("kafka", c.Kafka.Kafka.Validate())
	for key, v := range map[string]string{"kafka.group": c.Kafka.Group, "kafka.input_topic": c.Kafka.InputTopic,
		"kafka.output_topic": c.Kafka.OutputTopic, "kafka.dlq_topic": c.Kafka.DLQTopic, "kafka.index": c.Kafka.Index} {
		if v == "" {
			p.Addf(key, "required")
		}
	}
	if c.Kafka.MaxPollRecords <= 0 {
		p.Addf("kafka.max_poll_records", "must be positive")
	}
	if c.Kafka.MaxBufferedBytes < 1<<16 {
		p.Addf("kafka.max_buffered_bytes", "%d is below the 64KiB minimum", c.Kafka.MaxBufferedBytes)
	}
	if c.Kafka.Workers < 0 {
		p.Addf("kafka.workers", "must not be negative")
	}
	if c.Kafka.Transactional && c.Kafka.TransactionTimeout < config.Duration(time.Second) {
		p.Addf("kafka.transaction_timeout", "%v is below the 1s minimum", time.Duration(c.Kafka.TransactionTimeout))
	}
	switch c.Kafka.Compression {
	case "snappy", "lz4", "zstd", "gzip", "none":
	default:
		p.Addf("kafka.compression", "unknown codec %q", c.Kafka.Compression)
	}
	if c.Budget <= 0 {
		p.Addf("budget", "must be positive")
	}
	names := map[string]bool{}
	for i, r := range c.Rules {
		key := fmt.Sprintf("rules[%d]", i)
		if r.Name == "" {
			p.Addf(key+".name", "required")
		}
		if r.Name != "" && names[r.Name] {
			p.Addf(key+".name", "duplicate rule name %q", r.Name)
		}
		names[r.Name] = true
		switch r.OnFailure {
		case "", "tag", "dlq":
		default:
			p.Addf(key+".on_failure", "unknown value %q (want tag or dlq)", r.OnFailure)
		}
		if r.Builtin == "" && len(r.Processors) == 0 {
			p.Addf(key, "needs builtin or processors")
		}
		if r.Target != "" && r.Builtin != "json" && r.Builtin != "auto" {
			p.Addf(key+".target", "only the json and auto builtins take a target")
		}
		if len(r.GeoIPDatabases) > 0 && r.Builtin != "nginx" && r.Builtin != "apache" {
			p.Addf(key+".geoip_databases", "only the nginx and apache builtins take geoip databases (use a geoip processor)")
		}
		for j, proc := range r.Processors {
			if n := proc.count(); n != 1 {
				p.Addf(fmt.Sprintf("%s.processors[%d]", key, j), "exactly one processor type per step, found %d", n)
			}
		}
	}
	p.AddPrefixed("admin", c.Admin.Validate())
	p.AddPrefixed("telemetry", c.Telemetry.Validate())
	p.AddPrefixed("log", c.Log.Validate())
	return p.Err()
}

func (p Processor) count() int {
	n := 0
	for _, set := range []bool{p.Grok != nil, p.Regex != nil, p.JSON != nil, p.Logfmt != nil, p.Dissect != nil,
		p.KV != nil, p.Date != nil, p.Convert != nil, p.Rename != nil, p.Remove != nil, p.Add != nil,
		p.UserAgent != nil, p.GeoIP != nil} {
		if set {
			n++
		}
	}
	return n
}
