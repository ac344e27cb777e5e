package bulk

import (
	"bytes"
	"io"
	"net"
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

// TestBodySizeCoversBody: the size a body's buffer is grown to before
// building it is never short, or the last append would copy the whole body
// into one twice the size.
func TestBodySizeCoversBody(t *testing.T) {
	docs := []Doc{
		{Index: "logs-2026.12.04", ID: "n1-f2-300", Source: []byte(`{"message":"GET / 200"}`)},
		{Index: "logs", Source: []byte(`{"a":1}`)},
		{Index: "k8s-\"quoted\"", ID: "x", Source: []byte(`{"b":"c"}`)},
	}
	var b []byte
	for i := range docs {
		var why string
		if b, why = appendDoc(b, &docs[i]); why != "" {
			t.Fatal(why)
		}
	}
	if got := bodySize(docs); got < len(b) {
		t.Errorf("bodySize = %d, body is %d bytes", got, len(b))
	}
}

// countConn records the writes it is given.
type countConn struct {
	net.Conn
	writes [][]byte
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), p...))
	return len(p), nil
}

// TestBodyConnWritesBodyOnce: a request body of ours reaches the connection
// in one write of exactly the length net/http asks for, and the body is
// read to that point; any other reader is copied as usual.
func TestBodyConnWritesBodyOnce(t *testing.T) {
	buf := &buffer{b: bytes.Repeat([]byte("0123456789"), 10000)}
	rb := newReqBody(buf)
	head := make([]byte, 10)
	if _, err := rb.Read(head); err != nil { // the part bufio took first
		t.Fatal(err)
	}
	cc := &countConn{}
	lr := &io.LimitedReader{R: rb, N: 50000}
	n, err := bodyConn{cc}.ReadFrom(lr)
	if err != nil || n != 50000 || len(cc.writes) != 1 || !bytes.Equal(cc.writes[0], buf.b[10:50010]) {
		t.Fatalf("n %d err %v, %d writes", n, err, len(cc.writes))
	}
	if lr.N != 0 || rb.r.Len() != len(buf.b)-50010 {
		t.Errorf("limit left %d, body left %d", lr.N, rb.r.Len())
	}
	cc = &countConn{}
	if n, err := (bodyConn{cc}).ReadFrom(strings.NewReader("other")); err != nil || n != 5 || string(bytes.Join(cc.writes, nil)) != "other" {
		t.Errorf("other reader: n %d err %v writes %q", n, err, cc.writes)
	}
}
