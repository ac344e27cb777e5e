// Package check connects to what a service's configuration names — the
// Kafka brokers and topics, the consumer group, the search engine and its
// index template — and says, one line per check, whether each is usable:
// `sluicectl check -config FILE`.
package check

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"gopkg.in/yaml.v3"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/kafka"
)

// Services a configuration file can belong to.
const (
	Shipper = "shipper"
	Parser  = "parser"
	Indexer = "indexer"
)

// File is the part of a service configuration the checks read. Unknown
// keys are ignored: the service's own `validate` judges the file; check
// only connects with it.
type File struct {
	Kafka struct {
		config.Kafka `yaml:",inline"`
		Group        string `yaml:"group"`
		Topic        string `yaml:"topic"`
		InputTopic   string `yaml:"input_topic"`
		OutputTopic  string `yaml:"output_topic"`
		DLQTopic     string `yaml:"dlq_topic"`
		RawTopic     string `yaml:"raw_topic"`
	} `yaml:"kafka"`
	Elasticsearch *struct {
		URLs         config.StringList `yaml:"urls"`
		Flavor       string            `yaml:"flavor"`
		Username     string            `yaml:"username"`
		Password     string            `yaml:"password"`
		APIKey       string            `yaml:"api_key"`
		BearerToken  string            `yaml:"bearer_token"`
		CAFile       string            `yaml:"ca_file"`
		Template     *bool             `yaml:"template"`
		TemplateName string            `yaml:"template_name"`
	} `yaml:"elasticsearch"`
	Rules []yaml.Node `yaml:"rules"`
}

// Load reads a configuration file (environment references expanded as
// the services expand them) and tells which service it is for: an
// elasticsearch section means the indexer, rules or kafka.input_topic the
// parser, anything else the shipper.
func Load(path string) (*File, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	var f File
	if err := yaml.Unmarshal(config.Expand(b), &f); err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case f.Elasticsearch != nil:
		return &f, Indexer, nil
	case len(f.Rules) > 0 || f.Kafka.InputTopic != "":
		return &f, Parser, nil
	}
	return &f, Shipper, nil
}

// Result is one check's outcome.
type Result struct {
	Name string
	// Detail says what was found when OK, why not otherwise.
	Detail string
	OK     bool
}

func (r Result) String() string {
	if r.OK {
		if r.Detail == "" {
			return "ok"
		}
		return "ok (" + r.Detail + ")"
	}
	return "FAIL: " + r.Detail
}

// Run runs every check of service's configuration f, each bounded by
// timeout, in order.
func Run(ctx context.Context, f *File, service string, timeout time.Duration) []Result {
	var out []Result
	out = append(out, kafkaChecks(ctx, f, service, timeout)...)
	if service == Indexer {
		out = append(out, searchChecks(ctx, f, timeout)...)
	}
	return out
}

// topicsAndGroup returns the topics service uses, in the order they are
// checked, and its consumer group ("" for the shipper), with the
// services' defaults for keys the file leaves out.
func topicsAndGroup(f *File, service string) ([]string, string) {
	k := f.Kafka
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	switch service {
	case Parser:
		return []string{or(k.InputTopic, "logs.raw"), or(k.OutputTopic, "logs.parsed"), or(k.DLQTopic, "logs.dlq")}, or(k.Group, "sluice-parser")
	case Indexer:
		return []string{or(k.Topic, "logs.parsed"), or(k.DLQTopic, "logs.dlq"), or(k.RawTopic, "logs.raw")}, or(k.Group, "sluice-indexer")
	}
	topic := or(k.Topic, "logs.raw")
	if strings.Contains(topic, "{{") {
		return nil, "" // a templated topic names no one topic to check
	}
	return []string{topic}, ""
}

func kafkaChecks(ctx context.Context, f *File, service string, timeout time.Duration) []Result {
	brokers := Result{Name: "kafka brokers"}
	opts, err := kafka.ClientOpts(f.Kafka.Kafka)
	if err != nil {
		brokers.Detail = err.Error()
		return []Result{brokers}
	}
	opts = append(opts, kgo.WithLogger(nil), kgo.RetryTimeout(timeout), kgo.DialTimeout(timeout))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		brokers.Detail = err.Error()
		return []Result{brokers}
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	cctx, cancel := context.WithTimeout(ctx, timeout)
	md, err := adm.BrokerMetadata(cctx)
	cancel()
	if err != nil {
		brokers.Detail = fmt.Sprintf("%s: %v", strings.Join(f.Kafka.Brokers, ","), err)
		return []Result{brokers}
	}
	addrs := make([]string, 0, len(md.Brokers))
	for _, b := range md.Brokers {
		addrs = append(addrs, fmt.Sprintf("%s:%d", b.Host, b.Port))
	}
	sort.Strings(addrs)
	auth := "no authentication"
	if m := f.Kafka.SASL.Mechanism; m != "" {
		auth = "authenticated with SASL " + m
	}
	brokers.OK, brokers.Detail = true, fmt.Sprintf("%d %s: %s; %s", len(addrs), plural(len(addrs), "broker", "brokers"), strings.Join(addrs, ", "), auth)
	out := []Result{brokers}

	topics, group := topicsAndGroup(f, service)
	if len(topics) > 0 {
		cctx, cancel = context.WithTimeout(ctx, timeout)
		details, terr := adm.ListTopics(cctx, topics...)
		var cfgs kadm.ResourceConfigs
		if terr == nil {
			cfgs, _ = adm.DescribeTopicConfigs(cctx, topics...)
		}
		cancel()
		for _, t := range topics {
			r := Result{Name: "topic " + t}
			d, ok := details[t]
			switch {
			case terr != nil:
				r.Detail = terr.Error()
			case !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition):
				r.Detail = "does not exist"
			case d.Err != nil:
				r.Detail = d.Err.Error()
			default:
				r.OK = true
				r.Detail = fmt.Sprintf("%d %s", len(d.Partitions), plural(len(d.Partitions), "partition", "partitions"))
				if v, ok := topicConfig(cfgs, t, "max.message.bytes"); ok {
					r.Detail += ", max.message.bytes " + v
				}
			}
			out = append(out, r)
		}
	}
	if group != "" {
		r := Result{Name: "consumer group " + group}
		cctx, cancel = context.WithTimeout(ctx, timeout)
		groups, gerr := adm.DescribeGroups(cctx, group)
		cancel()
		g, ok := groups[group]
		switch {
		case gerr != nil:
			r.Detail = gerr.Error()
		case !ok:
			r.Detail = "not described by the brokers"
		case errors.Is(g.Err, kerr.GroupIDNotFound) || (g.Err == nil && (g.State == "Dead" || g.State == "")):
			r.OK, r.Detail = true, "not created yet: the first consumer creates it"
		case g.Err != nil:
			r.Detail = g.Err.Error()
		default:
			r.OK, r.Detail = true, fmt.Sprintf("%s, %d %s", g.State, len(g.Members), plural(len(g.Members), "member", "members"))
		}
		out = append(out, r)
	}
	return out
}

func topicConfig(cfgs kadm.ResourceConfigs, topic, key string) (string, bool) {
	for _, rc := range cfgs {
		if rc.Name != topic || rc.Err != nil {
			continue
		}
		for _, c := range rc.Configs {
			if c.Key == key && c.Value != nil {
				return *c.Value, true
			}
		}
	}
	return "", false
}

func searchChecks(ctx context.Context, f *File, timeout time.Duration) []Result {
	es := f.Elasticsearch
	urls := []string(es.URLs)
	if len(urls) == 0 {
		if u := os.Getenv("ES_URL"); u != "" {
			urls = []string{u}
		} else {
			urls = []string{"http://localhost:9200"}
		}
	}
	base := strings.TrimRight(urls[0], "/")
	engine := Result{Name: "search engine " + redactURL(base)}
	client := &http.Client{Timeout: timeout}
	if es.CAFile != "" {
		pem, err := os.ReadFile(es.CAFile)
		if err != nil {
			engine.Detail = "elasticsearch.ca_file: " + err.Error()
			return []Result{engine}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			engine.Detail = "elasticsearch.ca_file: no certificates in " + es.CAFile
			return []Result{engine}
		}
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	get := func(path string) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return 0, nil, err
		}
		switch {
		case es.APIKey != "":
			req.Header.Set("Authorization", "ApiKey "+es.APIKey)
		case es.BearerToken != "":
			req.Header.Set("Authorization", "Bearer "+es.BearerToken)
		case es.Username != "":
			req.SetBasicAuth(es.Username, es.Password)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, body, err
	}

	code, body, err := get("/")
	switch {
	case err != nil:
		engine.Detail = err.Error()
		return []Result{engine}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		engine.Detail = fmt.Sprintf("authentication refused (HTTP %d): check elasticsearch.username/password, api_key or bearer_token", code)
		return []Result{engine}
	case code != http.StatusOK:
		engine.Detail = fmt.Sprintf("HTTP %d: %s", code, truncate(string(body), 200))
		return []Result{engine}
	}
	var info struct {
		Version struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	if err := json.Unmarshal(body, &info); err != nil || info.Version.Number == "" {
		engine.Detail = "the answer to GET / is not a search engine's"
		return []Result{engine}
	}
	flavor := "elasticsearch"
	if info.Version.Distribution == "opensearch" {
		flavor = "opensearch"
	}
	want := es.Flavor
	if want == "" {
		want = "elasticsearch"
	}
	if want != flavor {
		engine.Detail = fmt.Sprintf("%s %s answers, but elasticsearch.flavor is %q", flavor, info.Version.Number, want)
		return []Result{engine}
	}
	auth := "no authentication"
	switch {
	case es.APIKey != "":
		auth = "authenticated with an API key"
	case es.BearerToken != "":
		auth = "authenticated with a bearer token"
	case es.Username != "":
		auth = "authenticated as " + es.Username
	}
	engine.OK, engine.Detail = true, fmt.Sprintf("%s %s; %s", flavor, info.Version.Number, auth)
	out := []Result{engine}

	name := es.TemplateName
	if name == "" {
		name = "sluice-logs"
	}
	installs := es.Template == nil || *es.Template
	tmpl := Result{Name: "index template " + name}
	code, body, err = get("/_index_template/" + name)
	switch {
	case err != nil:
		tmpl.Detail = err.Error()
	case code == http.StatusOK:
		tmpl.OK, tmpl.Detail = true, "present"
	case code == http.StatusNotFound && installs:
		tmpl.OK, tmpl.Detail = true, "not installed yet; the indexer installs it at start"
	case code == http.StatusNotFound:
		tmpl.Detail = "not found, and elasticsearch.template is false: install it or turn the setting on"
	default:
		tmpl.Detail = fmt.Sprintf("HTTP %d: %s", code, truncate(string(body), 200))
	}
	return append(out, tmpl)
}

func redactURL(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		if at := strings.LastIndex(u, "@"); at > i {
			return u[:i+3] + u[at+1:]
		}
	}
	return u
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
