package bulk

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*Config){
		"indexer.elasticsearch.urls: at least one":           func(c *Config) { c.URLs = nil },
		"indexer.elasticsearch.urls[1]: \"ftp://x\": scheme": func(c *Config) { c.URLs = []string{"http://a:9200", "ftp://x"} },
		"indexer.elasticsearch.urls[0]: \"http://\" has no":  func(c *Config) { c.URLs = []string{"http://"} },
		"indexer.elasticsearch.urls[0]: \"http://a?x=1\"":    func(c *Config) { c.URLs = []string{"http://a?x=1"} },
		"indexer.elasticsearch.flavor: unknown flavor":       func(c *Config) { c.Flavor = "solr" },
		"indexer.elasticsearch.username: required":           func(c *Config) { c.Password = "p" },
		"indexer.elasticsearch.api_key: set only one":        func(c *Config) { c.Username, c.APIKey = "u", "k" },
		"indexer.elasticsearch.ca_file:":                     func(c *Config) { c.CACertFile = "/nonexistent/ca.pem" },
		"indexer.elasticsearch.timeout: must be positive":    func(c *Config) { c.Timeout = -time.Second },
	}
	for want, mod := range cases {
		c := DefaultConfig()
		mod(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v, want prefix %q", err, want)
		}
		if _, nerr := New(c); nerr == nil {
			t.Errorf("New accepted a config with %q", want)
		}
	}
	// Zero durations and flavor take the defaults.
	c, err := New(Config{URLs: []string{"https://es:9200/prefix/"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.Config()
	if cfg.Timeout != 30*time.Second || cfg.Flavor != FlavorElasticsearch {
		t.Fatalf("%+v", cfg)
	}
	if c.hosts[0].bulk != "https://es:9200/prefix/_bulk" {
		t.Fatalf("bulk URL %q", c.hosts[0].bulk)
	}
}
