// Package shipper is the node collector: it tails container log files,
// attaches Kubernetes metadata and publishes each line to Kafka as a
// sluice.logs.v1.RawRecord.
//
// The files on disk are the shipper's buffer. A line's checkpoint advances
// only when Kafka has acknowledged it (acks=all, idempotent producer), and
// the producer's buffer has a byte limit: when Kafka is slow or down, Produce
// blocks, reading stops, and memory stays flat. After a crash the shipper
// resumes from the last acknowledged offset of every file, so lines are
// never lost and only the unacknowledged window is sent twice — the same
// source offsets give the same document _id, so the search engine still
// holds each line once.
package shipper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-io/sluice/libs/admin"
	"github.com/sluice-io/sluice/libs/kafka"
	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/libs/service"
	"github.com/sluice-io/sluice/libs/telemetry"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/shipper/config"
	"github.com/sluice-io/sluice/services/shipper/internal/checkpoint"
	"github.com/sluice-io/sluice/services/shipper/internal/decode"
	"github.com/sluice-io/sluice/services/shipper/internal/kube"
	"github.com/sluice-io/sluice/services/shipper/internal/tail"
)

// Version is set at build time.
var Version = "dev"

// Metadata resolves a file's Kubernetes metadata. The file-name fallback is
// always there; an API-server-backed implementation adds labels, image and
// owner.
type Metadata interface {
	// Lookup returns the metadata for the file at path, whose kubelet name
	// gave fromPath, plus the pod's sluice.io/parser hint, and whether the
	// pod asked not to be shipped (sluice.io/exclude: "true").
	Lookup(path string, fromPath kube.Meta) (k *logsv1.Kubernetes, hint string, exclude bool)
}

// Option configures a Shipper.
type Option func(*Shipper)

// WithMetadata sets the metadata source; the default derives it from file names.
func WithMetadata(m Metadata) Option { return func(s *Shipper) { s.meta = m } }

// Shipper is one node's collector.
type Shipper struct {
	cfg    config.Config
	digest string
	log    *slog.Logger
	tel    *telemetry.Telemetry
	gate   admin.Gate
	meta   Metadata
	topic  func(ns string) string

	tailer   *tail.Tailer
	producer *kgo.Client
	draining atomic.Bool

	mu    sync.Mutex
	files map[string]*fileInfo // by path: cached metadata

	linesRead, bytesRead, linesAcked, produceErrors, excluded, truncated *telemetry.Counter
	inFlight                                                             *telemetry.Gauge
}

type fileInfo struct {
	key     []byte
	k       *logsv1.Kubernetes
	hint    string
	exclude bool
	topic   string
	checked time.Time
}

// New builds a shipper from a validated configuration.
func New(cfg config.Config, digest string, log *slog.Logger, opts ...Option) (*Shipper, error) {
	tel, err := telemetry.New("shipper")
	if err != nil {
		return nil, err
	}
	if err := tel.SetupTracing(cfg.Telemetry); err != nil {
		return nil, err
	}
	s := &Shipper{cfg: cfg, digest: digest, log: log, tel: tel, files: map[string]*fileInfo{}}
	s.meta = fileNameMetadata{node: cfg.Node}
	for _, o := range opts {
		o(s)
	}
	s.topic, err = topicFunc(cfg.Kafka.Topic, cfg.Kafka.TopicAllowlist)
	if err != nil {
		return nil, err
	}
	s.linesRead = tel.Counter("lines_read", "Log events read from files.")
	s.bytesRead = tel.Counter("bytes_read", "Bytes of log events read.")
	s.linesAcked = tel.Counter("lines_produced", "Log events Kafka acknowledged.")
	s.produceErrors = tel.Counter("produce_errors", "Records Kafka refused.")
	s.excluded = tel.Counter("lines_excluded", "Lines of pods annotated sluice.io/exclude.")
	s.truncated = tel.Counter("lines_truncated", "Events cut at tail.max_event_bytes.")
	s.inFlight = tel.Gauge("in_flight_bytes", "Bytes produced and not yet acknowledged.")
	return s, nil
}

// Telemetry returns the shipper's metrics.
func (s *Shipper) Telemetry() *telemetry.Telemetry { return s.tel }

// Tailer returns the tailer once Run has started it.
func (s *Shipper) Tailer() *tail.Tailer { return s.tailer }

// Run ships until ctx ends, then drains: what was produced is flushed and
// acknowledged, the checkpoint saved, and Run returns nil.
func (s *Shipper) Run(ctx context.Context) error {
	cfg := s.cfg
	if err := os.MkdirAll(filepath.Dir(cfg.State.Path), 0o755); err != nil {
		return fmt.Errorf("state.path: %w", err)
	}
	store, err := checkpoint.Open(cfg.State.Path)
	if err != nil {
		return fmt.Errorf("state.path: %w", err)
	}
	tcfg := tail.DefaultConfig()
	tcfg.Include, tcfg.Exclude, tcfg.Roots = cfg.Tail.Include, cfg.Tail.Exclude, cfg.Tail.Roots
	tcfg.PollInterval = cfg.Tail.PollInterval.D()
	tcfg.MaxEventBytes = int(cfg.Tail.MaxEventBytes)
	tcfg.CheckpointInterval = cfg.State.Interval.D()
	s.tailer, err = tail.New(tcfg, store, s.log)
	if err != nil {
		return err
	}
	base, err := kafka.ClientOpts(cfg.Kafka.Kafka)
	if err != nil {
		return err
	}
	// kotel: client metrics, and a publish span per line whose context
	// rides in the record's headers to the parser and the indexer.
	base = append(base, s.tel.KafkaOpts()...)
	s.producer, err = kgo.NewClient(append(base,
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kafka.Compression(cfg.Kafka.Compression)),
		kgo.MaxBufferedBytes(int(cfg.Kafka.MaxBufferedBytes)),
		kgo.ProducerLinger(cfg.Kafka.Linger.D()),
		kgo.ProducerBatchMaxBytes(2<<20),
	)...)
	if err != nil {
		return fmt.Errorf("kafka producer: %w", err)
	}
	defer s.producer.Close()

	var fatal atomic.Pointer[error]
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The tailer's emit blocks in Produce while the buffer is full; Run's
	// context is not passed to Produce so that an event taken from a file
	// is always handed to the producer before shutdown completes.
	runErr := s.tailer.Run(rctx, func(ectx context.Context, ev tail.Event) error {
		if e := fatal.Load(); e != nil {
			return *e
		}
		if err := s.gate.Wait(ectx); err != nil {
			return nil
		}
		rec, skip := s.build(&ev)
		if skip {
			s.tailer.Ack(ev.Fingerprint, ev.End)
			return nil
		}
		size := int64(len(rec.Value))
		s.inFlight.Add(size)
		s.producer.Produce(context.WithoutCancel(ectx), rec, func(r *kgo.Record, err error) {
			s.inFlight.Add(-size)
			if err != nil {
				s.produceErrors.Add(1)
				e := fmt.Errorf("kafka refused a record of %s at offset %d: %w", ev.Path, ev.Offset, err)
				fatal.CompareAndSwap(nil, &e)
				cancel()
				return
			}
			s.linesAcked.Add(1)
			s.tailer.Ack(ev.Fingerprint, ev.End)
		})
		return nil
	})
	s.draining.Store(true)
	if service.Aborted(ctx) {
		return nil
	}
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer fcancel()
	if err := s.producer.Flush(fctx); err != nil {
		s.log.Warn("flush at shutdown incomplete; unacknowledged lines will be read again", "err", err)
	}
	if err := store.Save(); err != nil {
		s.log.Warn("saving checkpoint at shutdown failed; lines since the last save will be sent again", "err", err)
	}
	if e := fatal.Load(); e != nil {
		return *e
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	return nil
}

// build turns an event into a Kafka record. skip is true for lines of
// excluded pods, which are acknowledged without being produced.
func (s *Shipper) build(ev *tail.Event) (*kgo.Record, bool) {
	fi := s.fileInfo(ev.Path)
	if fi.exclude {
		s.excluded.Add(1)
		return nil, true
	}
	s.linesRead.Add(1)
	s.bytesRead.Add(int64(len(ev.Content)))
	raw := &logsv1.RawRecord{
		Line:               ev.Content,
		TimeUnixNano:       ev.Time,
		Stream:             stream(ev.Stream),
		Kubernetes:         fi.k,
		ParserHint:         fi.hint,
		IngestTimeUnixNano: time.Now().UnixNano(),
		Source: &logsv1.Source{
			Node: s.cfg.Node, Path: ev.Path, Fingerprint: ev.Fingerprint,
			Offset: ev.Offset, EndOffset: ev.End,
		},
		Flags: ev.Flags,
	}
	if ev.Truncated {
		s.truncated.Add(1)
		raw.Flags = append(raw.Flags, "truncated")
	}
	value, err := proto.Marshal(raw)
	if err != nil {
		// Only invalid UTF-8 in a string field can fail, and the line is
		// bytes; metadata strings come from the API server or file names.
		s.log.Error("encoding record", "path", ev.Path, "err", err)
		raw.Kubernetes = nil
		value, _ = proto.Marshal(raw)
	}
	return &kgo.Record{Topic: fi.topic, Key: fi.key, Value: value}, false
}

// metadataTTL is how long a file's metadata is cached before it is looked up again.
const metadataTTL = 10 * time.Second

func (s *Shipper) fileInfo(path string) *fileInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	fi, ok := s.files[path]
	if ok && time.Since(fi.checked) < metadataTTL {
		return fi
	}
	m, _ := kube.FromPath(path)
	k, hint, exclude := s.meta.Lookup(path, m)
	fi = &fileInfo{
		key:     record.Key(k.GetNamespace(), k.GetPod(), k.GetContainer()),
		k:       k,
		hint:    hint,
		exclude: exclude,
		topic:   s.topic(k.GetNamespace()),
		checked: time.Now(),
	}
	if len(s.files) > 100_000 {
		clear(s.files)
	}
	s.files[path] = fi
	return fi
}

func stream(st decode.Stream) logsv1.Stream {
	switch st {
	case decode.StreamStdout:
		return logsv1.Stream_STREAM_STDOUT
	case decode.StreamStderr:
		return logsv1.Stream_STREAM_STDERR
	}
	return logsv1.Stream_STREAM_UNSPECIFIED
}

// topicFunc returns the topic for a namespace. A templated topic renders
// only to allowlisted names; anything else goes to the allowlist's first
// entry, so pod data can never pick an arbitrary topic.
func topicFunc(topic string, allow []string) (func(string) string, error) {
	if !bytes.Contains([]byte(topic), []byte("{{")) {
		return func(string) string { return topic }, nil
	}
	t, err := template.New("topic").Option("missingkey=error").Parse(topic)
	if err != nil {
		return nil, fmt.Errorf("kafka.topic: %w", err)
	}
	allowed := map[string]bool{}
	for _, a := range allow {
		allowed[a] = true
	}
	return func(ns string) string {
		var b bytes.Buffer
		if err := t.Execute(&b, struct{ Namespace string }{ns}); err == nil && allowed[b.String()] {
			return b.String()
		}
		return allow[0]
	}, nil
}

// fileNameMetadata is the metadata source without an API server.
type fileNameMetadata struct{ node string }

func (f fileNameMetadata) Lookup(_ string, m kube.Meta) (*logsv1.Kubernetes, string, bool) {
	return &logsv1.Kubernetes{
		Namespace: m.Namespace, Pod: m.Pod, PodUid: m.PodUID,
		Container: m.Container, ContainerId: m.ContainerID, Node: f.node,
	}, "", false
}

// State implements admin.Service.
func (s *Shipper) State() string {
	switch {
	case s.draining.Load():
		return "draining"
	case s.gate.Paused():
		return "paused"
	}
	return "running"
}

// Stats implements admin.Service.
func (s *Shipper) Stats(context.Context) *adminv1.GetStatsResponse {
	return &adminv1.GetStatsResponse{Counters: s.tel.Snapshot(), InFlightBytes: s.inFlight.Load()}
}

// Pause implements admin.Service.
func (s *Shipper) Pause() { s.gate.Pause() }

// Resume implements admin.Service.
func (s *Shipper) Resume() { s.gate.Resume() }

// ConfigDigest implements admin.Service.
func (s *Shipper) ConfigDigest() string { return s.digest }

// Reload implements admin.Service. File and Kafka settings shape open
// files and connections; a change needs a restart.
func (s *Shipper) Reload(context.Context, []byte) (string, error) {
	return "", errors.New("the shipper applies configuration changes on restart")
}
