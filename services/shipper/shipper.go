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
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
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
	node   string // cfg.Node as valid UTF-8
	digest string
	log    *slog.Logger
	tel    *telemetry.Telemetry
	gate   admin.Gate
	meta   Metadata
	topic  func(ns string) string

	tailer    *tail.Tailer
	producer  *kgo.Client
	draining  atomic.Bool
	lim       atomic.Pointer[limits]
	fatal     atomic.Pointer[error]
	cancelRun context.CancelFunc
	budget    *nsBudget
	stall     stallState

	retryMu sync.Mutex
	retries []retry
	retryC  chan struct{}

	mu    sync.Mutex
	files map[string]*fileInfo // by path: cached metadata

	linesRead, bytesRead, linesAcked, produceErrors, excluded, truncated, tooLargeRetries, skippedBytes *telemetry.Counter
	droppedTooLarge                                                                                     *telemetry.Counter
	inFlight, bytesBehind, stalled                                                                      *telemetry.Gauge
	oldestUnacked                                                                                       *telemetry.DurationGauge
	accounts                                                                                            *telemetry.Accounts
}

type fileInfo struct {
	ns string
	// inflight is the namespace's in-flight byte counter in the read
	// budget; acct the container's counts not yet added to the accounts.
	// Both are shared by the fileInfos of one file across refreshes.
	inflight *atomic.Int64
	acct     *acctDelta
	key      []byte
	k        *logsv1.Kubernetes
	wire     fileWire
	hint     string
	exclude  bool
	topic    string
	checked  time.Time
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
	s := &Shipper{cfg: cfg, node: validUTF8(cfg.Node), digest: digest, log: log, tel: tel, files: map[string]*fileInfo{}, retryC: make(chan struct{}, 1)}
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
	s.truncated = tel.Counter("lines_truncated", "Events cut at tail.max_event_bytes or to fit Kafka's max.message.bytes.")
	s.droppedTooLarge = tel.Counter("lines_dropped_too_large", "Lines Kafka refused for their size even when cut to nothing.")
	s.skippedBytes = tel.Counter("bytes_skipped_truncation", "Bytes lost because a file was truncated before they were read and no copy was found.")
	s.tooLargeRetries = tel.Counter("produce_too_large_retries", "Records Kafka refused as too large, cut and produced again.")
	s.inFlight = tel.Gauge("in_flight_bytes", "Bytes produced and not yet acknowledged.")
	s.oldestUnacked = tel.DurationGauge("oldest_unacked_age", "Age of the oldest line read and not yet acknowledged by Kafka.")
	s.bytesBehind = tel.Gauge("bytes_behind", "Bytes of tracked files not yet acknowledged by Kafka (file size minus checkpoint).")
	s.stalled = tel.Gauge("kafka_stalled", "1 while Kafka has not acknowledged the oldest line for longer than kafka.stall_threshold.")
	s.accounts = tel.Accounts("container", maxAccountKeys)
	// Three quarters of the producer's buffer are shared by namespace; the
	// rest keeps Produce from blocking when a namespace that had nothing in
	// flight starts reading while another holds the whole share.
	s.budget = newNSBudget(int64(cfg.Kafka.MaxBufferedBytes)*3/4, cfg.Tail.NamespaceWeights, s.weightOf, tel)
	s.budget.nsOf = func(path string) string { return s.fileInfo(path).ns }
	return s, nil
}

// Telemetry returns the shipper's metrics.
func (s *Shipper) Telemetry() *telemetry.Telemetry { return s.tel }

// Tailer returns the tailer once Run has started it.
func (s *Shipper) Tailer() *tail.Tailer { return s.tailer }

// Run ships until ctx ends, then drains: what was produced is flushed and
// acknowledged, the checkpoint saved, and Run returns nil.
//
// At start it reads the record size Kafka accepts (the topics'
// max.message.bytes, else the broker's message.max.bytes) and sizes the
// producer's batches and the largest record from it; it waits, saying so,
// while Kafka cannot be reached, and fails with an error naming the topic
// when a topic does not exist (unless kafka.create_topics is enabled).
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
	s.tailer.SetBudget(s.budget)
	s.tailer.SetOnLoss(s.onLoss)
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
		kgo.MaxBufferedRecords(maxBufferedRecords(cfg)),
		kgo.ProducerLinger(cfg.Kafka.Linger.D()),
		// Consulted when a partition is first produced to, which is after
		// discoverLimits below has stored the broker's limit.
		kgo.ProducerBatchMaxBytesFn(func(string) int32 { return s.limits().batchMaxBytes }),
	)...)
	if err != nil {
		return fmt.Errorf("kafka producer: %w", err)
	}
	defer s.producer.Close()
	lim, err := s.waitLimits(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	s.lim.Store(&lim)
	s.log.Info("kafka record limits", "max_message_bytes", lim.maxMessageBytes, "from", lim.source,
		"producer_batch_max_bytes", lim.batchMaxBytes, "max_record_bytes", lim.maxRecordValue(0),
		"tail_max_event_bytes", int64(cfg.Tail.MaxEventBytes))

	ml, err := s.newMultiline()
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.cancelRun = cancel
	retryCtx, stopRetries := context.WithCancel(context.WithoutCancel(ctx))
	retriesDone := make(chan struct{})
	go func() { defer close(retriesDone); s.retryLoop(retryCtx) }()
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); s.watchStall(rctx) }()

	// The publish path: tailer → (per-stream transforms) → publish.
	// Per-stream transforms of decoded events (multiline joining) wrap
	// emit here, between the tailer's partial-line merging and publish.
	emit := s.publish
	if ml != nil {
		go ml.run(rctx)
		emit = ml.emit
	}
	runErr := s.tailer.Run(rctx, emit)
	s.draining.Store(true)
	cancel()
	<-watchDone
	if ml != nil && !service.Aborted(ctx) {
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		ml.drain(dctx)
		dcancel()
	}
	if service.Aborted(ctx) {
		stopRetries()
		<-retriesDone
		return nil
	}
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer fcancel()
	if err := s.producer.Flush(fctx); err != nil {
		s.log.Warn("flush at shutdown incomplete; unacknowledged lines will be read again", "err", err)
	}
	stopRetries()
	<-retriesDone
	// The ack windows never put a checkpoint past an event that was not
	// acknowledged (refused, still in flight or waiting to be cut and
	// retried), so saving is safe even after a fatal refusal.
	s.flushAccounts()
	if err := store.Save(); err != nil {
		s.log.Warn("saving checkpoint at shutdown failed; lines since the last save will be sent again", "err", err)
	}
	if e := s.fatal.Load(); e != nil {
		return *e
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	return nil
}

// publish hands one event to the producer; it blocks while the producer's
// buffer is full (backpressure on the tailer). A line of an excluded pod is
// marked done in place in its file's ack window.
func (s *Shipper) publish(ectx context.Context, ev tail.Event) error {
	return s.publishWith(ectx, ev, nil, nil)
}

// publishWith is publish for an event whose file metadata the caller
// already looked up (fi, nil to look it up) or of the multiline joiner (jd
// set): its acknowledgement goes to jd.done instead of the tailer.
func (s *Shipper) publishWith(ectx context.Context, ev tail.Event, fi *fileInfo, jd *joined) error {
	if e := s.fatal.Load(); e != nil {
		return *e
	}
	if err := s.gate.Wait(ectx); err != nil {
		return nil
	}
	// The tailer's reading of the clock when it read the line serves the
	// metadata cache, the ingest time and the record's timestamp.
	now := readTime(&ev)
	if fi == nil {
		fi = s.fileInfoAt(ev.Path, now)
	}
	if fi.exclude {
		s.excluded.Add(1)
		if jd != nil {
			jd.done()
		} else {
			s.tailer.Ack(ev.Fingerprint, ev.End)
		}
		return nil
	}
	rec := s.build(&ev, fi, now)
	addLinesHeader(rec, jd)
	p := &inflight{parent: ectx, path: ev.Path, fp: ev.Fingerprint, offset: ev.Offset, end: ev.End,
		size: int64(len(rec.Value)), fi: fi, jd: jd}
	s.inFlight.Add(p.size)
	fi.inflight.Add(p.size)
	// p is the record's context: the promise finds it there, and the
	// produce is not abandoned when the read stops.
	s.producer.Produce(p, rec, s.settleRecord)
	return nil
}

// inflight is one produced record until Kafka answers for it. It is also
// the record's context, detached from the reader's cancellation like
// context.WithoutCancel, so the per-line path allocates neither a context
// nor a promise closure: settleRecord finds it in the record's context.
type inflight struct {
	parent      context.Context // values only (trace context)
	path, fp    string
	offset, end int64
	size        int64
	fi          *fileInfo
	// tries counts size refusals; cuts how many of them cut the record.
	tries, cuts int
	jd          *joined // set for events of the multiline joiner
}

// inflightKey finds a record's inflight in its context, under the
// telemetry hooks' span contexts.
type inflightKey struct{}

func (p *inflight) Deadline() (time.Time, bool) { return time.Time{}, false }
func (p *inflight) Done() <-chan struct{}       { return nil }
func (p *inflight) Err() error                  { return nil }
func (p *inflight) Value(key any) any {
	if key == (inflightKey{}) {
		return p
	}
	return p.parent.Value(key)
}

// settleRecord is the promise of every produced record.
func (s *Shipper) settleRecord(r *kgo.Record, err error) {
	s.settle(r.Context.Value(inflightKey{}).(*inflight), r, err)
}

// Kafka refuses a whole batch for its size, so a small record refused with
// a big one is produced again unchanged (cutFloor) for its first
// keepTries refusals; a record is cut only when it is large or keeps being
// refused. Each cut halves it.
const (
	cutFloor  = 64 << 10
	keepTries = 3
	maxTries  = 40
)

// settle resolves a produced record: acknowledged, produced again (cut if
// large) after a size refusal, or refused for good.
func (s *Shipper) settle(p *inflight, r *kgo.Record, err error) {
	if err != nil && isTooLarge(err) {
		p.tries++
		if p.tries <= maxTries {
			next, cut := r, false
			if len(r.Value) > cutFloor || p.tries > keepTries {
				next, cut = s.cutRecord(r, p)
			}
			if next != nil {
				s.tooLargeRetries.Add(1)
				s.log.Warn("kafka refused a record batch as too large; producing the record again",
					"path", p.path, "offset", p.offset, "topic", r.Topic, "bytes", len(r.Value), "cut", cut, "bytes_now", len(next.Value), "err", err)
				s.requeue(next, p)
				return
			}
		}
		// Nothing left to cut (an empty line without metadata is still
		// refused): a broker limit below any record. Count it and move on
		// rather than stop the node's collection.
		s.inFlight.Add(-p.size)
		s.budget.done(p.fi.inflight, p.size)
		s.produceErrors.Add(1)
		s.droppedTooLarge.Add(1)
		s.log.Error("kafka refuses a record however small it is cut; the line is dropped",
			"path", p.path, "offset", p.offset, "topic", r.Topic, "bytes", len(r.Value), "err", err)
		if p.jd != nil {
			p.jd.done()
		} else {
			s.tailer.Ack(p.fp, p.end)
		}
		return
	}
	s.inFlight.Add(-p.size)
	s.budget.done(p.fi.inflight, p.size)
	if err != nil {
		s.produceErrors.Add(1)
		var e error
		switch {
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			e = fmt.Errorf("kafka topic %q does not exist (line of %s at offset %d): %w", r.Topic, p.path, p.offset, err)
		default:
			e = fmt.Errorf("kafka refused a record of %s at offset %d (topic %q): %w", p.path, p.offset, r.Topic, err)
		}
		// The event stays unacknowledged in its ack window: the
		// checkpoint cannot pass it, and a restart reads it again.
		if s.fatal.CompareAndSwap(nil, &e) && s.cancelRun != nil {
			s.cancelRun()
		}
		return
	}
	s.linesAcked.Add(1)
	p.fi.acct.produced.Add(1)
	if p.jd != nil {
		p.jd.done()
		return
	}
	s.tailer.Ack(p.fp, p.end)
}

func isTooLarge(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge)
}

// cutRecord returns r with its line cut to half its encoded size (at most
// the largest record the limits allow), tagged truncated with its
// original size, and true; nil when nothing can be cut any more.
func (s *Shipper) cutRecord(r *kgo.Record, p *inflight) (*kgo.Record, bool) {
	raw := &logsv1.RawRecord{}
	if err := proto.Unmarshal(r.Value, raw); err != nil {
		return nil, false
	}
	target := min(len(r.Value)/2, s.limits().maxRecordValue(len(r.Key)))
	fitRecord(raw, target, int64(len(raw.Line)))
	value, err := proto.Marshal(raw)
	if err != nil || len(value) >= len(r.Value) {
		return nil, false
	}
	p.cuts++
	if p.cuts == 1 {
		s.truncated.Add(1)
		p.fi.acct.oversized.Add(1)
	}
	return &kgo.Record{Topic: r.Topic, Key: r.Key, Value: value, Headers: r.Headers, Context: p}, true
}

// fitRecord cuts raw's line (UTF-8 safe) so that raw encodes to at most
// target bytes, marking it truncated with its original size (orig, unless
// already set). When even an empty line does not fit, the pod's labels and
// annotations are dropped too ("metadata_dropped"). It reports false when
// nothing more can be cut.
func fitRecord(raw *logsv1.RawRecord, target int, orig int64) bool {
	over := proto.Size(raw) - target
	if over <= 0 {
		return true
	}
	if raw.OriginalSize == 0 {
		raw.OriginalSize = orig
	}
	if !slices.Contains(raw.Flags, flagTruncated) {
		raw.Flags = append(raw.Flags, flagTruncated)
	}
	if len(raw.Line) > 0 {
		// +16: the line's length prefix and the new fields' tags may grow.
		raw.Line = cutUTF8(raw.Line, len(raw.Line)-over-16)
		if proto.Size(raw) <= target {
			return true
		}
		raw.Line = raw.Line[:0]
	}
	if k := raw.Kubernetes; k != nil && (len(k.Labels)+len(k.Annotations)+len(k.NamespaceLabels) > 0) {
		k = proto.Clone(k).(*logsv1.Kubernetes)
		k.Labels, k.Annotations, k.NamespaceLabels = nil, nil, nil
		raw.Kubernetes = k
		raw.Flags = append(raw.Flags, "metadata_dropped")
	}
	return proto.Size(raw) <= target
}

const flagTruncated = "truncated"

// requeue hands a cut record to the retry goroutine: producing from a
// promise could block the producer's own promise delivery.
func (s *Shipper) requeue(r *kgo.Record, p *inflight) {
	s.retryMu.Lock()
	s.retries = append(s.retries, retry{r, p})
	s.retryMu.Unlock()
	select {
	case s.retryC <- struct{}{}:
	default:
	}
}

type retry struct {
	r *kgo.Record
	p *inflight
}

// retryLoop produces cut records until ctx ends (after the drain's flush).
func (s *Shipper) retryLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.retryC:
		}
		s.retryMu.Lock()
		batch := s.retries
		s.retries = nil
		s.retryMu.Unlock()
		for _, rt := range batch {
			s.producer.Produce(ctx, rt.r, s.settleRecord)
		}
	}
}

// limits returns the record limits in force (Kafka's default before they
// were read).
func (s *Shipper) limits() limits {
	if l := s.lim.Load(); l != nil {
		return *l
	}
	return newLimits(defaultMaxMessageBytes, "kafka default")
}

// waitLimits reads the broker's limits, retrying while Kafka cannot be
// reached. A missing topic is returned at once.
func (s *Shipper) waitLimits(ctx context.Context) (limits, error) {
	topics := []string{s.cfg.Kafka.Topic}
	if len(s.cfg.Kafka.TopicAllowlist) > 0 && strings.Contains(s.cfg.Kafka.Topic, "{{") {
		topics = s.cfg.Kafka.TopicAllowlist
	}
	adm := kadm.NewClient(s.producer)
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 15*time.Second)
		lim, err := discoverLimits(actx, adm, topics, s.cfg.Kafka.CreateTopics, s.log)
		cancel()
		if err == nil || errors.Is(err, errMissingTopic) || ctx.Err() != nil {
			return lim, err
		}
		s.log.Warn("waiting for kafka to read the topics' record limits", "brokers", s.cfg.Kafka.Brokers, "topics", topics, "attempt", attempt+1, "err", err)
		select {
		case <-ctx.Done():
			return limits{}, ctx.Err()
		case <-time.After(min(time.Duration(attempt+1)*time.Second, 10*time.Second)):
		}
	}
}

// build turns an event into a Kafka record, cut to fit the largest record
// Kafka accepts.
func (s *Shipper) build(ev *tail.Event, fi *fileInfo, now time.Time) *kgo.Record {
	s.linesRead.Add(1)
	s.bytesRead.Add(int64(len(ev.Content)))
	fi.acct.tailed.Add(1)
	fi.acct.tailedBytes.Add(int64(len(ev.Content)))
	w := wireRecord{
		line: ev.Content, time: ev.Time, stream: stream(ev.Stream), ingest: now.UnixNano(),
		node: s.node, path: fi.wire.path, fp: ev.Fingerprint, offset: ev.Offset, end: ev.End,
		flags: ev.Flags, file: &fi.wire,
	}
	if ev.Truncated {
		// Cut while reading: its content beyond tail.max_event_bytes was
		// never kept; its size in the file bounds what it was.
		w.flags = append(slices.Clip(ev.Flags), flagTruncated)
		w.originalSize = ev.End - ev.Offset
	}
	size := recordSize(&w)
	if maxValue := s.limits().maxRecordValue(len(fi.key)); size > maxValue {
		// Rare: cut the line (and if need be the metadata) on the
		// message, as cutRecord does after a refusal.
		raw := s.message(&w, fi)
		fitRecord(raw, maxValue, int64(len(ev.Content)))
		value, err := proto.Marshal(raw)
		if err != nil {
			s.log.Error("encoding record", "path", ev.Path, "err", err)
		}
		s.truncated.Add(1)
		fi.acct.oversized.Add(1)
		return &kgo.Record{Topic: fi.topic, Key: fi.key, Value: value, Timestamp: now}
	}
	if ev.Truncated {
		s.truncated.Add(1)
		fi.acct.oversized.Add(1)
	}
	value := appendRecord(make([]byte, 0, size), &w)
	return &kgo.Record{Topic: fi.topic, Key: fi.key, Value: value, Timestamp: now}
}

// message is the RawRecord w encodes, for the paths that edit a record
// before encoding it.
func (s *Shipper) message(w *wireRecord, fi *fileInfo) *logsv1.RawRecord {
	flags := make([]string, len(w.flags))
	for i, f := range w.flags {
		flags[i] = validUTF8(f)
	}
	if len(flags) == 0 {
		flags = nil
	}
	raw := &logsv1.RawRecord{
		Line:               w.line,
		TimeUnixNano:       w.time,
		Stream:             w.stream,
		Kubernetes:         fi.k,
		ParserHint:         validUTF8(fi.hint),
		IngestTimeUnixNano: w.ingest,
		Source: &logsv1.Source{
			Node: w.node, Path: w.path, Fingerprint: w.fp,
			Offset: w.offset, EndOffset: w.end,
		},
		Flags:        flags,
		OriginalSize: w.originalSize,
	}
	if fi.k != nil {
		raw.Kubernetes = validKubernetes(fi.k)
	}
	return raw
}

// metadataTTL is how long a file's metadata is cached before it is looked
// up again (a variable for tests).
var metadataTTL = 10 * time.Second

func (s *Shipper) fileInfo(path string) *fileInfo { return s.fileInfoAt(path, time.Now()) }

// readTime is when the tailer read ev, or now for an event built elsewhere.
func readTime(ev *tail.Event) time.Time {
	if ev.ReadAt.IsZero() {
		return time.Now()
	}
	return ev.ReadAt
}

// fileInfoAt is fileInfo for a caller that has read the clock (now).
func (s *Shipper) fileInfoAt(path string, now time.Time) *fileInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	fi, ok := s.files[path]
	if ok && now.Sub(fi.checked) < metadataTTL {
		return fi
	}
	m, _ := kube.FromPath(path)
	k, hint, exclude := s.meta.Lookup(path, m)
	old := fi
	fi = &fileInfo{
		ns:       k.GetNamespace(),
		inflight: s.budget.counter(k.GetNamespace()),
		key:      record.Key(k.GetNamespace(), k.GetPod(), k.GetContainer()),
		k:        k,
		wire:     newFileWire(path, k, hint),
		hint:     hint,
		exclude:  exclude,
		topic:    s.topic(k.GetNamespace()),
		checked:  now,
	}
	if old != nil && sameContainer(old.k, k) {
		fi.acct = old.acct
	} else {
		if old != nil {
			s.flushAcct(old)
		}
		fi.acct = &acctDelta{}
	}
	if len(s.files) > 100_000 {
		for _, f := range s.files {
			s.flushAcct(f)
		}
		clear(s.files)
	}
	s.files[path] = fi
	return fi
}

// acctDelta holds a container's counts not yet added to the accounts: the
// publish path adds to a file's own counters, and flushAccounts moves them
// to the shared accounts now and then, off the per-line path.
type acctDelta struct {
	// Written by the publish path.
	tailed, tailedBytes, oversized atomic.Int64
	_                              [40]byte // keep produced off their cache line
	// Written by the producer's promises.
	produced atomic.Int64
}

func sameContainer(a, b *logsv1.Kubernetes) bool {
	return a.GetNamespace() == b.GetNamespace() && a.GetPod() == b.GetPod() && a.GetContainer() == b.GetContainer()
}

func (s *Shipper) flushAcct(fi *fileInfo) {
	k := fi.k
	ns, pod, c := k.GetNamespace(), k.GetPod(), k.GetContainer()
	s.accounts.Add(ns, pod, c, telemetry.LinesTailed, fi.acct.tailed.Swap(0))
	s.accounts.Add(ns, pod, c, telemetry.BytesTailed, fi.acct.tailedBytes.Swap(0))
	s.accounts.Add(ns, pod, c, telemetry.LinesProduced, fi.acct.produced.Swap(0))
	s.accounts.Add(ns, pod, c, telemetry.LinesOversized, fi.acct.oversized.Swap(0))
}

// flushAccounts adds every file's pending counts to the per-container
// accounts.
func (s *Shipper) flushAccounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fi := range s.files {
		s.flushAcct(fi)
	}
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
	if stalled, _ := s.stall.get(); stalled {
		return "degraded"
	}
	return "running"
}

// StateReason says what a degraded shipper waits for; empty otherwise.
func (s *Shipper) StateReason() string {
	if stalled, reason := s.stall.get(); stalled {
		return reason
	}
	return ""
}

// onLoss reports bytes a truncation destroyed before they could be read.
func (s *Shipper) onLoss(l tail.Loss) {
	k := s.fileInfo(l.Path).k
	s.skippedBytes.Add(l.Bytes)
	s.accounts.Add(k.GetNamespace(), k.GetPod(), k.GetContainer(), telemetry.BytesSkippedTruncation, l.Bytes)
	s.log.Warn("log bytes lost: the file was truncated before they were read and no copy was found",
		"namespace", k.GetNamespace(), "pod", k.GetPod(), "container", k.GetContainer(),
		"path", l.Path, "file", l.Target, "skipped_bytes", l.Bytes, "reason", string(l.Reason))
}

// maxAccountKeys bounds the containers counted on their own in the
// per-container accounts (a node runs at most a few hundred).
const maxAccountKeys = 2000

// weightOf returns a namespace's sluice.io/weight when the metadata source
// knows it, else 1.
func (s *Shipper) weightOf(ns string) int {
	if w, ok := s.meta.(interface{ NamespaceWeight(string) (int, bool) }); ok {
		if n, ok := w.NamespaceWeight(ns); ok {
			return n
		}
	}
	return 1
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

// RunningConfig implements admin.ConfigSource. The shipper's configuration
// does not change after New.
func (s *Shipper) RunningConfig() any { return s.cfg }

// Reload implements admin.Service. File and Kafka settings shape open
// files and connections; a change needs a restart.
func (s *Shipper) Reload(context.Context, []byte) (string, error) {
	return "", errors.New("the shipper applies configuration changes on restart")
}
