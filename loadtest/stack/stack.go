// Package stack runs the whole Sluice pipeline in one process: an embedded
// Kafka cluster (or given brokers), the shipper, N parsers and the indexer,
// writing to Elasticsearch or to an NDJSON file. It backs the local run
// (`make run`) and the end-to-end tests, which stop and restart single
// services mid-stream.
package stack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"

	"github.com/sluice-io/sluice/libs/kafka"
	"github.com/sluice-io/sluice/libs/kafkatest"
	"github.com/sluice-io/sluice/libs/service"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	"github.com/sluice-io/sluice/services/indexer"
	indexercfg "github.com/sluice-io/sluice/services/indexer/config"
	"github.com/sluice-io/sluice/services/parser"
	parsercfg "github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/shipper"
	shippercfg "github.com/sluice-io/sluice/services/shipper/config"
)

// Topics the stack uses.
const (
	RawTopic    = "logs.raw"
	ParsedTopic = "logs.parsed"
	DLQTopic    = "logs.dlq"
)

// Options configure a stack.
type Options struct {
	// Dir holds the state, the Kafka data (embedded) and the file sink.
	Dir string
	// LogDir is what the shipper tails (Dir/containers when empty), with
	// kubelet-style file names.
	LogDir string
	// Brokers of an existing Kafka; empty starts an embedded cluster.
	Brokers []string
	// KafkaDataDir persists the embedded cluster's log (none when empty).
	KafkaDataDir string
	// Partitions per topic; default 6.
	Partitions int32
	// Parsers is the number of parser replicas; default 2.
	Parsers int
	// SearchURL of Elasticsearch or OpenSearch; empty writes to Dir/documents.ndjson.
	SearchURL string
	// SearchFlavor is "elasticsearch" (default) or "opensearch".
	SearchFlavor string
	// Rules replace the parser's default rule set (nginx for every line).
	Rules []parsercfg.Rule
	// Node name the shipper reports; default "local".
	Node string
	// Prefix is put before every topic and consumer group name, so runs
	// sharing one real Kafka cluster do not see each other's records.
	Prefix string
	// Index overrides the parser's index template (default logs-%{+yyyy.MM.dd}).
	Index string
	// Log receives the services' logs; default discards.
	Log *slog.Logger
	// AdminPorts, when set, serves the admin APIs on fixed loopback ports:
	// shipper on AdminPorts, indexer on AdminPorts+1, parser i on
	// AdminPorts+2+i. Zero picks free ports (see AdminAddrs).
	AdminPorts int
	// Metrics serves each service's Prometheus endpoint on a free loopback
	// port (see MetricsAddrs); off, the services serve no metrics.
	Metrics bool
	// Tune, when set, edits each service's config before it starts.
	TuneShipper func(*shippercfg.Config)
	TuneParser  func(*parsercfg.Config)
	TuneIndexer func(*indexercfg.Config)
}

// Stack is a running pipeline.
type Stack struct {
	opts     Options
	embedded *kafkatest.Embedded
	brokers  []string

	mu       sync.Mutex
	services map[string]*running
	admins   map[string]string
	metrics  map[string]string
}

type running struct {
	cancel context.CancelCauseFunc
	done   chan error
}

// ErrKilled is the cause a service is stopped with by Kill: it stops where
// it is, without draining or committing, as after kill -9.
var ErrKilled = service.ErrAbort

// Start starts Kafka (embedded unless Brokers is set) and every service.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.Partitions == 0 {
		o.Partitions = 6
	}
	if o.Parsers == 0 {
		o.Parsers = 2
	}
	if o.Node == "" {
		o.Node = "local"
	}
	if o.LogDir == "" {
		o.LogDir = filepath.Join(o.Dir, "containers")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.SearchFlavor == "" {
		o.SearchFlavor = "elasticsearch"
	}
	if err := os.MkdirAll(o.LogDir, 0o755); err != nil {
		return nil, err
	}
	s := &Stack{opts: o, services: map[string]*running{}, admins: map[string]string{}, metrics: map[string]string{}, brokers: o.Brokers}
	if len(s.brokers) == 0 {
		e, err := kafkatest.StartEmbedded(1, o.KafkaDataDir, o.Partitions, s.Topic(RawTopic), s.Topic(ParsedTopic), s.Topic(DLQTopic))
		if err != nil {
			return nil, err
		}
		s.embedded, s.brokers = e, e.Brokers()
	} else if err := s.ensureTopics(ctx); err != nil {
		return nil, err
	}
	if err := s.StartIndexer(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	for i := 0; i < o.Parsers; i++ {
		if err := s.StartParser(ctx, i); err != nil {
			s.Stop()
			return nil, err
		}
	}
	if err := s.StartShipper(ctx); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// ensureTopics creates the topics on external brokers with the stack's
// partition count (a broker's auto-creation would give them one).
func (s *Stack) ensureTopics(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.brokers...))
	if err != nil {
		return err
	}
	defer cl.Close()
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return kafka.EnsureTopics(cctx, cl, s.opts.Partitions, s.Topic(RawTopic), s.Topic(ParsedTopic), s.Topic(DLQTopic))
}

// AdminAddrs returns each running service's admin API address by name.
func (s *Stack) AdminAddrs() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.admins))
	for k, v := range s.admins {
		out[k] = v
	}
	return out
}

// MetricsAddrs returns each running service's metrics address by name
// (with Options.Metrics).
func (s *Stack) MetricsAddrs() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.metrics))
	for k, v := range s.metrics {
		out[k] = v
	}
	return out
}

func (s *Stack) metricsListen() string {
	if s.opts.Metrics {
		return "127.0.0.1:0"
	}
	return ""
}

func (s *Stack) adminListen(offset int) string {
	if s.opts.AdminPorts == 0 {
		return "127.0.0.1:0"
	}
	return fmt.Sprintf("127.0.0.1:%d", s.opts.AdminPorts+offset)
}

// Topic returns the stack's name for a topic (RawTopic, ParsedTopic, DLQTopic).
func (s *Stack) Topic(name string) string { return s.opts.Prefix + name }

// Brokers returns the Kafka seed brokers.
func (s *Stack) Brokers() []string { return s.brokers }

// Embedded returns the embedded cluster, or nil with external brokers.
func (s *Stack) Embedded() *kafkatest.Embedded { return s.embedded }

// LogDir is the directory the shipper tails.
func (s *Stack) LogDir() string { return s.opts.LogDir }

// SinkPath is the NDJSON file the indexer writes without a search engine.
func (s *Stack) SinkPath() string { return filepath.Join(s.opts.Dir, "documents.ndjson") }

func (s *Stack) logger(name string) *slog.Logger { return s.opts.Log.With("service", name) }

// ShipperConfig returns the shipper configuration the stack uses.
func (s *Stack) ShipperConfig() shippercfg.Config {
	c := shippercfg.NewDefault()
	c.Node = s.opts.Node
	c.Kafka.Brokers = s.brokers
	c.Kafka.Topic = s.Topic(RawTopic)
	c.Tail.Include = []string{filepath.Join(s.opts.LogDir, "*.log")}
	c.Tail.Roots = []string{s.opts.LogDir, s.opts.Dir}
	c.Tail.PollInterval = 100 * 1e6
	c.State.Path = filepath.Join(s.opts.Dir, "state", "shipper-state.json")
	c.State.Interval = 200 * 1e6
	c.Admin.Listen, c.Admin.MetricsListen = s.adminListen(0), s.metricsListen()
	if s.opts.TuneShipper != nil {
		s.opts.TuneShipper(&c)
	}
	return c
}

// ParserConfig returns the parser configuration the stack uses.
func (s *Stack) ParserConfig() parsercfg.Config {
	c := parsercfg.NewDefault()
	c.Kafka.Brokers = s.brokers
	c.Kafka.InputTopic, c.Kafka.OutputTopic, c.Kafka.DLQTopic = s.Topic(RawTopic), s.Topic(ParsedTopic), s.Topic(DLQTopic)
	c.Kafka.Group = s.opts.Prefix + c.Kafka.Group
	if s.opts.Index != "" {
		c.Kafka.Index = s.opts.Index
	}
	c.Rules = s.opts.Rules
	if c.Rules == nil {
		c.Rules = []parsercfg.Rule{
			{Name: "nginx", Builtin: "nginx"},
		}
	}
	c.Admin.Listen, c.Admin.MetricsListen = "127.0.0.1:0", s.metricsListen() // StartParser sets the port per replica
	if s.opts.TuneParser != nil {
		s.opts.TuneParser(&c)
	}
	return c
}

// IndexerConfig returns the indexer configuration the stack uses.
func (s *Stack) IndexerConfig() indexercfg.Config {
	c := indexercfg.NewDefault()
	c.Kafka.Brokers = s.brokers
	c.Kafka.Topic, c.Kafka.DLQTopic = s.Topic(ParsedTopic), s.Topic(DLQTopic)
	c.Kafka.Group = s.opts.Prefix + c.Kafka.Group
	if s.opts.SearchURL != "" {
		c.Output = "elasticsearch"
		c.Elasticsearch.URLs = []string{s.opts.SearchURL}
		c.Elasticsearch.Flavor = s.opts.SearchFlavor
	} else {
		c.Output = "file"
		c.File.Path = s.SinkPath()
	}
	c.Batch.FlushInterval = 200 * 1e6
	c.Admin.Listen, c.Admin.MetricsListen = s.adminListen(1), s.metricsListen()
	if s.opts.TuneIndexer != nil {
		s.opts.TuneIndexer(&c)
	}
	return c
}

// start runs a service under supervision, the way a kubelet restarts a
// crashed container: a Run that returns an error (Kafka refused a record, a
// fatal client error) is logged and started again after a second, from its
// committed offsets and checkpoints. build makes a fresh instance per start.
func (s *Stack) start(ctx context.Context, name string, build func() (service.Runner, service.Options, error)) error {
	r, o, err := build()
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancelCause(ctx)
	run := &running{cancel: cancel, done: make(chan error, 1)}
	log := s.logger(name)
	serve := func(r service.Runner, o service.Options) error {
		o.Log = log
		o.Started = func(adminAddr, metricsAddr net.Addr) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if adminAddr != nil {
				s.admins[name] = adminAddr.String()
			}
			if metricsAddr != nil {
				s.metrics[name] = metricsAddr.String()
			}
		}
		return service.Run(rctx, r, o)
	}
	go func() {
		for {
			err := serve(r, o)
			if err == nil || rctx.Err() != nil {
				run.done <- err
				return
			}
			log.Error("service stopped with an error; restarting", "err", err)
			select {
			case <-time.After(time.Second):
			case <-rctx.Done():
				run.done <- err
				return
			}
			if r, o, err = build(); err != nil {
				log.Error("service cannot restart", "err", err)
				run.done <- err
				return
			}
		}
	}()
	s.mu.Lock()
	s.services[name] = run
	s.mu.Unlock()
	return nil
}

// StartShipper starts the shipper.
func (s *Stack) StartShipper(ctx context.Context) error {
	c := s.ShipperConfig()
	if err := c.Validate(); err != nil {
		return err
	}
	return s.start(ctx, "shipper", func() (service.Runner, service.Options, error) {
		sh, err := shipper.New(c, "stack", s.logger("shipper"))
		return sh, service.Options{Name: "shipper", Version: shipper.Version, Node: c.Node, Admin: c.Admin,
			Register: func(g *grpc.Server) { sh.RegisterAdmin(g) }}, err
	})
}

// StartParser starts parser replica i.
func (s *Stack) StartParser(ctx context.Context, i int) error {
	c := s.ParserConfig()
	if err := c.Validate(); err != nil {
		return err
	}
	name := fmt.Sprintf("parser-%d", i)
	c.Admin.Listen = s.adminListen(2 + i)
	return s.start(ctx, name, func() (service.Runner, service.Options, error) {
		p, err := parser.New(c, "stack", s.logger(name))
		if err != nil {
			return nil, service.Options{}, err
		}
		return p, service.Options{Name: "parser", Version: parser.Version, Admin: c.Admin,
			Register: func(g *grpc.Server) { adminv1.RegisterParserAdminServiceServer(g, p.AdminService()) }}, nil
	})
}

// StartIndexer starts the indexer.
func (s *Stack) StartIndexer(ctx context.Context) error {
	c := s.IndexerConfig()
	if err := c.Validate(); err != nil {
		return err
	}
	return s.start(ctx, "indexer", func() (service.Runner, service.Options, error) {
		out, err := indexer.NewSink(ctx, c, indexer.WithSetupLog(s.logger("indexer")))
		if err != nil {
			return nil, service.Options{}, err
		}
		sink := indexer.Measure(out)
		ix, err := indexer.New(c, "stack", sink, s.logger("indexer"))
		if err != nil {
			return nil, service.Options{}, err
		}
		sink.Attach(ix.Telemetry())
		return closingRunner{ix, sink}, service.Options{Name: "indexer", Version: indexer.Version, Admin: c.Admin,
			Register: func(g *grpc.Server) { ix.RegisterAdmin(g) }}, nil
	})
}

// closingRunner closes the indexer's sink (the NDJSON file) when Run ends.
type closingRunner struct {
	*indexer.Indexer
	sink indexer.Sink
}

func (r closingRunner) Run(ctx context.Context) error {
	err := r.Indexer.Run(ctx)
	if cl, ok := r.sink.(io.Closer); ok {
		cl.Close()
	}
	return err
}

// StopService stops one service ("shipper", "parser-0", "indexer")
// gracefully and returns its error.
func (s *Stack) StopService(name string) error { return s.stop(name, context.Canceled) }

// Kill stops one service as abruptly as an in-process stop can: without a
// final commit or checkpoint.
func (s *Stack) Kill(name string) error { return s.stop(name, ErrKilled) }

func (s *Stack) stop(name string, cause error) error {
	s.mu.Lock()
	r := s.services[name]
	delete(s.services, name)
	s.mu.Unlock()
	if r == nil {
		return fmt.Errorf("stack: no running service %q", name)
	}
	r.cancel(cause)
	select {
	case err := <-r.done:
		return err
	case <-time.After(time.Minute):
		return fmt.Errorf("stack: %s did not stop within a minute", name)
	}
}

// Stop stops every service, upstream first (shipper, then parsers, then
// the indexer), then Kafka.
func (s *Stack) Stop() {
	s.mu.Lock()
	names := make([]string, 0, len(s.services))
	for n := range s.services {
		names = append(names, n)
	}
	s.mu.Unlock()
	stage := func(n string) int {
		switch {
		case n == "shipper":
			return 0
		case strings.HasPrefix(n, "parser-"):
			return 1
		}
		return 2
	}
	sort.Slice(names, func(i, j int) bool { return stage(names[i]) < stage(names[j]) })
	for _, n := range names {
		_ = s.StopService(n)
	}
	if s.embedded != nil {
		s.embedded.Close()
	}
}
