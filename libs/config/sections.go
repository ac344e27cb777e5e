package config

import (
	"net"
	"strings"
)

// Kafka is the Kafka client section every service has.
type Kafka struct {
	// Brokers to bootstrap from. Empty in the embedded local run, which starts
	// an in-process cluster instead.
	Brokers StringList `yaml:"brokers"`
	// ClientID is sent to the brokers; default "sluice-<service>".
	ClientID string `yaml:"client_id"`
	// TLS enables TLS to the brokers.
	TLS TLS `yaml:"tls"`
	// SASL authenticates to the brokers.
	SASL SASL `yaml:"sasl"`
}

// TLS configures a TLS client.
type TLS struct {
	Enabled            bool   `yaml:"enabled"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// SASL configures SASL authentication.
type SASL struct {
	// Mechanism is "", "plain", "scram-sha-256" or "scram-sha-512".
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password" secret:"true"`
}

// Validate checks the section. An empty broker list is an error: a
// service started without brokers would only wait, saying nothing useful.
// The embedded local run fills the list in before validating.
func (k Kafka) Validate() error {
	var p Problems
	if len(k.Brokers) == 0 {
		p.Addf("brokers", "at least one broker is required (host:port)")
	}
	for i, b := range k.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			p.Addf("brokers["+itoa(i)+"]", "%q is not host:port", b)
		}
	}
	switch strings.ToLower(k.SASL.Mechanism) {
	case "", "plain", "scram-sha-256", "scram-sha-512":
	default:
		p.Addf("sasl.mechanism", "unknown mechanism %q (want plain, scram-sha-256 or scram-sha-512)", k.SASL.Mechanism)
	}
	if k.SASL.Mechanism != "" && k.SASL.Username == "" {
		p.Addf("sasl.username", "required with sasl.mechanism %q", k.SASL.Mechanism)
	}
	if (k.TLS.CertFile == "") != (k.TLS.KeyFile == "") {
		p.Addf("tls.cert_file", "cert_file and key_file go together")
	}
	return p.Err()
}

// Admin is the gRPC admin API and metrics endpoint section.
type Admin struct {
	// Listen is the gRPC admin address; default ":9090". Empty disables it.
	Listen string `yaml:"listen"`
	// MetricsListen serves Prometheus metrics on /metrics; default ":9091".
	// Empty disables it.
	MetricsListen string `yaml:"metrics_listen"`
	// TokenFile holds a bearer token every admin call must present. Empty
	// with no client CA means the API is unauthenticated (local use only).
	TokenFile string `yaml:"token_file"`
	// TLS serves the admin API over TLS; with ClientCAFile it requires client
	// certificates (mTLS).
	TLS          TLS    `yaml:"tls"`
	ClientCAFile string `yaml:"client_ca_file"`
	// Pprof serves Go's runtime profiles under /debug/pprof/ on the metrics
	// listener; default false. Off by default because a profile exposes
	// code paths and costs CPU while it is taken, and the metrics port is
	// scraped from wider than the admin port; turn it on to profile a live
	// service (go tool pprof http://POD:9091/debug/pprof/profile).
	Pprof bool `yaml:"pprof"`
}

// Validate checks the section.
func (a Admin) Validate() error {
	var p Problems
	for _, f := range []struct{ key, addr string }{{"listen", a.Listen}, {"metrics_listen", a.MetricsListen}} {
		if f.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(f.addr); err != nil {
			p.Addf(f.key, "%q is not host:port", f.addr)
		}
	}
	if a.Listen != "" && a.Listen == a.MetricsListen && !strings.HasSuffix(a.Listen, ":0") {
		p.Addf("metrics_listen", "%q is also admin.listen; the two need different ports", a.MetricsListen)
	}
	if a.ClientCAFile != "" && a.TLS.CertFile == "" {
		p.Addf("client_ca_file", "mTLS needs tls.cert_file and tls.key_file")
	}
	if a.Pprof && a.MetricsListen == "" {
		p.Addf("pprof", "profiles are served on admin.metrics_listen, which is empty (off)")
	}
	return p.Err()
}

// Log configures the service's own structured logs.
type Log struct {
	// Level is debug, info, warn or error; default info.
	Level string `yaml:"level"`
	// Format is json or text; default json.
	Format string `yaml:"format"`
}

// Validate checks the section.
func (l Log) Validate() error {
	var p Problems
	switch l.Level {
	case "", "debug", "info", "warn", "error":
	default:
		p.Addf("level", "unknown level %q (want debug, info, warn or error)", l.Level)
	}
	switch l.Format {
	case "", "json", "text":
	default:
		p.Addf("format", "unknown format %q (want json or text)", l.Format)
	}
	return p.Err()
}

// Telemetry configures traces.
type Telemetry struct {
	// OTLPEndpoint receives traces and metrics over OTLP/gRPC; empty disables export.
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	// TraceSampleRatio is the fraction of batches traced, 0..1; default 0.01.
	TraceSampleRatio float64 `yaml:"trace_sample_ratio"`
}

// Validate checks the section.
func (t Telemetry) Validate() error {
	if t.TraceSampleRatio < 0 || t.TraceSampleRatio > 1 {
		return Errorf("trace_sample_ratio", "%v is outside 0..1", t.TraceSampleRatio)
	}
	return nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
