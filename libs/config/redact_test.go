package config

import (
	"strings"
	"testing"
)

type redactSection struct {
	Inline      `yaml:",inline"`
	URLs        StringList `yaml:"urls"`
	Username    string     `yaml:"username"`
	Password    string     `yaml:"password"`
	APIKey      string     `yaml:"api_key"`
	BearerToken string     `yaml:"bearer_token"`
	TokenFile   string     `yaml:"token_file"`
	Empty       string     `yaml:"empty_password"`
	Opaque      string     `yaml:"opaque" secret:"true"`
	SASL        SASL       `yaml:"sasl"`
	Timeout     Duration   `yaml:"timeout"`
}

type Inline struct {
	Group string `yaml:"group"`
}

type redactConfig struct {
	Kafka  redactSection `yaml:"kafka"`
	Labels map[string]string
}

func TestRedactedYAML(t *testing.T) {
	secrets := []string{"hunter2", "k-123", "b-456", "o-789", "sasl-user", "sasl-pass", "urlpass"}
	cfg := redactConfig{
		Kafka: redactSection{
			Inline:   Inline{Group: "g1"},
			URLs:     StringList{"https://admin:urlpass@es.example:9243", "http://plain:9200"},
			Username: "elastic", Password: "hunter2", APIKey: "k-123", BearerToken: "b-456",
			TokenFile: "/var/run/secrets/token", Opaque: "o-789",
			SASL:    SASL{Mechanism: "scram-sha-512", Username: "sasl-user", Password: "sasl-pass"},
			Timeout: Duration(1500 * 1e6),
		},
		Labels: map[string]string{"team": "sre"},
	}
	b, err := RedactedYAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("output shows the secret %q:\n%s", s, out)
		}
	}
	for _, want := range []string{
		"group: g1", "username: elastic", "password: '[redacted]'", "api_key: '[redacted]'", "bearer_token: '[redacted]'",
		"opaque: '[redacted]'", "token_file: /var/run/secrets/token", "empty_password: \"\"", "mechanism: scram-sha-512",
		"https://admin:xxxxx@es.example:9243", "http://plain:9200", "timeout: 1.5s", "team: sre",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestIsSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"password": true, "Password": true, "api_key": true, "bearer_token": true, "token": true, "client_secret": true,
		"token_file": false, "key_file": false, "username": false, "group": false, "tokenizer": false, "max_tokens": false,
	} {
		if got := IsSecretKey(key); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestDiff(t *testing.T) {
	a := redactSection{Inline: Inline{Group: "a"}, URLs: StringList{"x:1"}, Timeout: Duration(1e9), SASL: SASL{Password: "p1"}}
	b := a
	if d := Diff("kafka", a, b); len(d) != 0 {
		t.Fatalf("equal values differ: %v", d)
	}
	b.Group, b.URLs, b.Timeout, b.SASL.Password = "b", StringList{"x:2"}, Duration(2e9), "p2"
	got := Diff("kafka", a, b)
	want := []Difference{
		{Key: "kafka.group", Was: `"a"`, Now: `"b"`},
		{Key: "kafka.urls", Was: "[x:1]", Now: "[x:2]"},
		{Key: "kafka.sasl.password", Was: Redacted, Now: Redacted},
		{Key: "kafka.timeout", Was: `"1s"`, Now: `"2s"`},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("difference %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
