package bulk

import (
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/sluice-io/sluice/libs/config"
)

// keyPrefix is where the indexer's configuration file keeps these settings;
// Validate names keys under it.
const keyPrefix = "indexer.elasticsearch."

// Flavors of search engine.
const (
	FlavorElasticsearch = "elasticsearch"
	FlavorOpenSearch    = "opensearch"
)

// Config is the connection to the search engine and the retry policy.
type Config struct {
	// URLs of the nodes, http or https; requests go round the list and skip
	// nodes that failed recently. Default ["http://localhost:9200"].
	URLs []string
	// Username and Password for basic authentication; empty for none.
	Username, Password string
	// APIKey is the base64 "encoded" form of an API key (id:key), sent as
	// "Authorization: ApiKey <APIKey>".
	APIKey string
	// BearerToken is sent as "Authorization: Bearer <BearerToken>".
	BearerToken string
	// CACertFile is a PEM file of CA certificates to trust for https, added
	// to the system pool. Empty: the system pool only.
	CACertFile string
	// InsecureSkipVerify turns off TLS certificate verification (tests only).
	InsecureSkipVerify bool
	// Flavor is "elasticsearch" (default; responses must carry
	// X-Elastic-Product: Elasticsearch) or "opensearch" (no product check).
	Flavor string
	// Gzip compresses request bodies. Default false: it costs CPU on both
	// sides and pays off only on slow links.
	Gzip bool
	// Timeout bounds one bulk request, from sending to the parsed answer.
	// Default 30s.
	Timeout time.Duration
	// FilterPath asks the server to answer with only the errors flag and
	// each item's status and error (filter_path). Default true.
	FilterPath bool
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		URLs:       []string{"http://localhost:9200"},
		Flavor:     FlavorElasticsearch,
		Timeout:    30 * time.Second,
		FilterPath: true,
	}
}

// withDefaults fills zero Flavor and Timeout with their defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Flavor == "" {
		c.Flavor = d.Flavor
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	return c
}

// Validate checks the configuration; the error names the key, e.g.
// "indexer.elasticsearch.urls[0]: ...". Zero Flavor and Timeout stand for
// their defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	if len(c.URLs) == 0 {
		return config.Errorf(keyPrefix+"urls", "at least one URL is required")
	}
	for i, u := range c.URLs {
		key := keyPrefix + "urls[" + strconv.Itoa(i) + "]"
		pu, err := url.Parse(u)
		if err != nil {
			return config.Errorf(key, "%q is not a URL: %v", u, err)
		}
		if pu.Scheme != "http" && pu.Scheme != "https" {
			return config.Errorf(key, "%q: scheme must be http or https", u)
		}
		if pu.Host == "" {
			return config.Errorf(key, "%q has no host", u)
		}
		if pu.RawQuery != "" || pu.Fragment != "" {
			return config.Errorf(key, "%q: remove the query or fragment", u)
		}
	}
	switch c.Flavor {
	case FlavorElasticsearch, FlavorOpenSearch:
	default:
		return config.Errorf(keyPrefix+"flavor", "unknown flavor %q (want elasticsearch or opensearch)", c.Flavor)
	}
	auth := 0
	if c.Username != "" || c.Password != "" {
		if c.Username == "" {
			return config.Errorf(keyPrefix+"username", "required when password is set")
		}
		auth++
	}
	if c.APIKey != "" {
		auth++
	}
	if c.BearerToken != "" {
		auth++
	}
	if auth > 1 {
		return config.Errorf(keyPrefix+"api_key", "set only one of username/password, api_key and bearer_token")
	}
	if c.CACertFile != "" {
		if _, err := os.Stat(c.CACertFile); err != nil {
			return config.Errorf(keyPrefix+"ca_file", "%v", err)
		}
	}
	if c.Timeout <= 0 {
		return config.Errorf(keyPrefix+"timeout", "must be positive, got %v", c.Timeout)
	}
	return nil
}
