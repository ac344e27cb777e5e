package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	t.Setenv("SLUICE_TEST_SET", "kafka:9092")
	t.Setenv("SLUICE_TEST_EMPTY", "")
	tests := []struct{ in, want string }{
		{"${SLUICE_TEST_SET}", "kafka:9092"},
		{"${SLUICE_TEST_UNSET:-def}", "def"},
		{"${SLUICE_TEST_EMPTY:-def}", "def"},
		{"${SLUICE_TEST_UNSET}", ""},
		{"a ${SLUICE_TEST_SET:-x} b", "a kafka:9092 b"},
		{"$SLUICE_TEST_SET", "$SLUICE_TEST_SET"},
	}
	for _, tt := range tests {
		if got := string(Expand([]byte(tt.in))); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"1048576", 1 << 20, false}, {"64KiB", 64 << 10, false}, {"16MiB", 16 << 20, false},
		{"1GiB", 1 << 30, false}, {"2 MB", 2 << 20, false}, {"10B", 10, false},
		{"lots", 0, true}, {"-1", 0, true}, {"1.5MiB", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

type sample struct {
	Name     string   `yaml:"name"`
	Interval Duration `yaml:"interval"`
	Size     ByteSize `yaml:"size"`
}

func (s sample) Validate() error {
	if s.Name == "" {
		return Errorf("name", "required")
	}
	return nil
}

func TestDecodeValidated(t *testing.T) {
	tests := []struct {
		name, doc, err string
		want           sample
	}{
		{name: "defaults kept", doc: "size: 1KiB", want: sample{Name: "d", Interval: Duration(time.Second), Size: 1024}},
		{name: "overrides", doc: "name: x\ninterval: 250ms", want: sample{Name: "x", Interval: Duration(250 * time.Millisecond)}},
		{name: "unknown key refused", doc: "nmae: x", err: `nmae: unknown field "nmae" (did you mean "name"?)`},
		{name: "bad duration", doc: "interval: soon", err: `interval: "soon" is not a duration`},
		{name: "validation", doc: "name: ''", err: "name: required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := sample{Name: "d", Interval: Duration(time.Second)}
			got, digest, err := DecodeValidated([]byte(tt.doc), def)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || len(digest) != 64 {
				t.Fatalf("err %v digest %q", err, digest)
			}
			if got.Name != tt.want.Name || got.Interval != tt.want.Interval || (tt.want.Size != 0 && got.Size != tt.want.Size) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPrefix(t *testing.T) {
	err := Prefix("kafka", Errorf("brokers[0]", "bad"))
	var fe *FieldError
	if !errors.As(err, &fe) || err.Error() != "kafka.brokers[0]: bad" {
		t.Fatalf("Prefix = %v", err)
	}
	if Prefix("x", nil) != nil {
		t.Fatal("Prefix(nil) != nil")
	}
	if got := Prefix("admin", errors.New("boom")).Error(); got != "admin: boom" {
		t.Fatalf("Prefix(plain) = %q", got)
	}
}

func TestSections(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"kafka broker", Kafka{Brokers: []string{"nohost"}}.Validate(), "brokers[0]"},
		{"no brokers", Kafka{}.Validate(), "brokers: at least one broker"},
		{"sasl", Kafka{Brokers: []string{"k:9092"}, SASL: SASL{Mechanism: "gssapi"}}.Validate(), "sasl.mechanism"},
		{"tls pair", Kafka{Brokers: []string{"k:9092"}, TLS: TLS{CertFile: "c"}}.Validate(), "tls.cert_file"},
		{"admin listen", Admin{Listen: "9090"}.Validate(), "listen"},
		{"admin same port", Admin{Listen: ":9090", MetricsListen: ":9090"}.Validate(), "metrics_listen"},
		{"mtls needs cert", Admin{ClientCAFile: "ca"}.Validate(), "client_ca_file"},
		{"pprof needs metrics", Admin{Listen: ":9090", Pprof: true}.Validate(), "pprof"},
		{"log level", Log{Level: "loud"}.Validate(), "level"},
		{"ratio", Telemetry{TraceSampleRatio: 2}.Validate(), "trace_sample_ratio"},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.HasPrefix(tt.err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want key %q", tt.name, tt.err, tt.want)
		}
	}
}
