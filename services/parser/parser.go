// Package parser is the parser service: a Kafka consumer group on the raw
// topic that turns each line into a ready-to-index JSON document with the
// rule engine and republishes it to the parsed topic.
//
// Delivery (at-least-once, the default): a fetched batch is split by
// partition over the workers — one partition is always handled by one
// worker, in offset order, so per-container order survives — parsed and
// produced; only when the producer has every record of the batch
// acknowledged are the input offsets marked, and only marked offsets are
// committed. A crash replays at most the unacknowledged batch; the replayed
// documents carry the same _id and are rejected as conflicts by the
// indexer's create, so the search engine never holds a duplicate.
//
// With kafka.transactional the batch's documents and its input offsets are
// committed in one Kafka transaction instead (exactly-once for consumers
// reading read_committed).
//
// Backpressure: the next batch is polled only when the previous one is
// acknowledged, so a slow or unavailable Kafka stops intake; franz-go keeps
// at most one fetch response per broker buffered meanwhile, and Produce
// blocks once kafka.max_buffered_bytes of documents are unacknowledged.
//
// Rule reloads (admin ReloadConfig or the watched config file) swap the
// compiled engine atomically; a batch is parsed entirely with the engine it
// started with, and offsets are untouched by a reload, so no record is lost
// or parsed twice because of one.
package parser

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/admin"
	"github.com/sluice-io/sluice/libs/kafka"
	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/libs/service"
	"github.com/sluice-io/sluice/libs/telemetry"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
	"github.com/sluice-io/sluice/services/parser/internal/rules"
)

// Version is set at build time.
var Version = "dev"

// Parser is one parser replica.
type Parser struct {
	log    *slog.Logger
	tel    *telemetry.Telemetry
	gate   admin.Gate
	engine atomic.Pointer[rules.Engine]
	tap    tapHub

	mu     sync.Mutex
	cfg    config.Config
	digest string

	builtins map[string]func() []rules.Processor

	// Config file watching (WithConfigFile).
	configFile    string
	watchInterval time.Duration

	consumer *kgo.Client
	// lagClient is the consumer, published for GetStats' lag queries
	// (Stats runs on admin goroutines while Run owns consumer).
	lagClient atomic.Pointer[kgo.Client]
	producer  *kgo.Client
	draining  atomic.Bool
	budget    atomic.Int64 // nanoseconds
	workers   []*worker

	recordsIn, docsOut, failures, deadLetters, bytesIn, produceErrors *telemetry.Counter
	reloads, reloadFailures, tapDropped, txnAborts                    *telemetry.Counter
}

// Option configures a Parser.
type Option func(*Parser)

// WithConfigFile names the file the configuration came from. An admin
// ReloadConfig without a document re-reads it, and when interval is
// positive the file is polled every interval (modification time, size and,
// when those change, a SHA-256 of the content) and reloaded when it
// changed. A file that fails validation is refused and logged; the running
// rules stay. Typical interval: 2s.
func WithConfigFile(path string, interval time.Duration) Option {
	return func(p *Parser) { p.configFile, p.watchInterval = path, interval }
}

// WithBuiltins adds builtin rules by name (see rules.Options.Builtins), for
// programs embedding the parser and for tests.
func WithBuiltins(b map[string]func() []rules.Processor) Option {
	return func(p *Parser) { p.builtins = b }
}

// New builds a parser from a validated configuration and compiles its rules.
func New(cfg config.Config, digest string, log *slog.Logger, opts ...Option) (*Parser, error) {
	p := &Parser{log: log, cfg: cfg, digest: digest}
	for _, o := range opts {
		o(p)
	}
	engine, err := p.compile(cfg)
	if err != nil {
		return nil, err
	}
	tel, err := telemetry.New("parser")
	if err != nil {
		return nil, err
	}
	if err := tel.SetupTracing(cfg.Telemetry); err != nil {
		return nil, err
	}
	p.tel = tel
	p.engine.Store(engine)
	p.budget.Store(int64(cfg.Budget))
	p.recordsIn = tel.Counter("records_consumed", "Raw records consumed.")
	p.bytesIn = tel.Counter("bytes_consumed", "Bytes of raw record values consumed.")
	p.docsOut = tel.Counter("documents_produced", "Documents produced and acknowledged.")
	p.failures = tel.Counter("parse_failures", "Records that could not be parsed and went to the dead-letter topic.")
	p.deadLetters = tel.Counter("dead_letters", "Records sent to the dead-letter topic.")
	p.produceErrors = tel.Counter("produce_errors", "Produce failures (the batch is retried from Kafka).")
	p.reloads = tel.Counter("config_reloads", "Rule sets reloaded.")
	p.reloadFailures = tel.Counter("config_reload_failures", "Reloads refused because the new configuration is invalid.")
	p.tapDropped = tel.Counter("tap_dropped", "Tap samples dropped because a tap client was slow.")
	p.txnAborts = tel.Counter("transactions_aborted", "Transactions aborted (the batch is consumed again).")
	n := cfg.Kafka.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	for i := 0; i < n; i++ {
		p.workers = append(p.workers, &worker{p: p, buf: make([]byte, 0, 4096)})
	}
	return p, nil
}

func (p *Parser) compile(cfg config.Config) (*rules.Engine, error) {
	return rules.Compile(rules.Options{Rules: cfg.Rules, Patterns: cfg.Patterns, Index: cfg.Kafka.Index, Builtins: p.builtins})
}

// Telemetry returns the parser's metrics.
func (p *Parser) Telemetry() *telemetry.Telemetry { return p.tel }

// Engine returns the running rule engine.
func (p *Parser) Engine() *rules.Engine { return p.engine.Load() }

func (p *Parser) kafkaConfig() config.Kafka {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg.Kafka
}

func (p *Parser) producerOpts(k config.Kafka) []kgo.Opt {
	return []kgo.Opt{
		kgo.ProducerBatchCompression(kafka.Compression(k.Compression)),
		kgo.MaxBufferedBytes(int(k.MaxBufferedBytes)),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(5 * time.Millisecond),
	}
}

func (p *Parser) consumerOpts(k config.Kafka) []kgo.Opt {
	return []kgo.Opt{
		kgo.ConsumerGroup(k.Group),
		kgo.ConsumeTopics(k.InputTopic),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(16 << 20),
	}
}

// Run consumes until ctx ends, then drains: the batch in hand is produced,
// its offsets committed, and the group left. It returns nil on a clean stop.
// A ctx cancelled with cause service.ErrAbort stops at once, as a crash
// would: the batch in hand is neither finished nor committed.
func (p *Parser) Run(ctx context.Context) error {
	if p.configFile != "" && p.watchInterval > 0 {
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		go p.watchConfig(wctx)
	}
	k := p.kafkaConfig()
	if k.Transactional {
		return p.runTransactional(ctx, k)
	}
	base, err := kafka.ClientOpts(k.Kafka)
	if err != nil {
		return err
	}
	base = append(base, p.tel.KafkaOpts()...)
	p.producer, err = kgo.NewClient(append(base, p.producerOpts(k)...)...)
	if err != nil {
		return fmt.Errorf("kafka producer: %w", err)
	}
	defer p.producer.Close()
	p.consumer, err = kgo.NewClient(append(append(base, p.consumerOpts(k)...),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(time.Second),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsRevoked(p.commitOnRevoke),
	)...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	defer p.consumer.Close()
	p.lagClient.Store(p.consumer)
	defer p.lagClient.Store(nil)

	runErr := p.loop(ctx, k)
	p.draining.Store(true)
	if service.Aborted(ctx) {
		// No final commit: what was committed before stays, the rest is
		// consumed again by whoever takes the partitions over.
		p.consumer.CloseAllowingRebalance()
		return runErr
	}
	// Drain: commit what was acknowledged, then leave the group.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := p.consumer.CommitMarkedOffsets(cctx); err != nil {
		p.log.Warn("final commit failed; records since the last commit will be parsed again", "err", err)
	}
	p.consumer.CloseAllowingRebalance()
	return runErr
}

func (p *Parser) commitOnRevoke(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
	if err := cl.CommitMarkedOffsets(ctx); err != nil {
		p.log.Warn("commit on revoke failed", "err", err)
	}
}

// abortContext returns a context that ignores ctx's cancellation unless its
// cause is service.ErrAbort: a batch in hand is finished on a graceful stop
// and dropped on an abort.
func abortContext(ctx context.Context) (context.Context, func()) {
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		if service.Aborted(ctx) {
			cancel()
		}
	})
	return pctx, func() { stop(); cancel() }
}

func (p *Parser) loop(ctx context.Context, k config.Kafka) error {
	for {
		if err := p.gate.Wait(ctx); err != nil {
			return nil
		}
		fetches := p.consumer.PollRecords(ctx, k.MaxPollRecords)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			p.consumer.AllowRebalance()
			return nil
		}
		fetches.EachError(func(t string, part int32, err error) {
			p.log.Warn("fetch error", "topic", t, "partition", part, "err", err)
		})
		if fetches.NumRecords() == 0 {
			p.consumer.AllowRebalance()
			continue
		}
		err := p.process(ctx, k, fetches, p.producer.Produce)
		if err != nil || service.Aborted(ctx) {
			p.consumer.AllowRebalance()
			if service.Aborted(ctx) {
				return nil
			}
			return err
		}
		p.consumer.MarkCommitRecords(fetches.Records()...)
		p.consumer.AllowRebalance()
	}
}

type produceFunc func(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))

// process parses and produces one batch and returns when every output
// record is acknowledged. It keeps going after ctx ends (the batch in hand
// is finished so its offsets can be committed) unless ctx was aborted.
func (p *Parser) process(ctx context.Context, k config.Kafka, fetches kgo.Fetches, produce produceFunc) error {
	pctx, cancel := abortContext(ctx)
	defer cancel()
	// One span per batch, continuing the trace of a sampled input line.
	pctx, span := p.tel.StartBatch(pctx, "parse", fetches.Records())
	defer span.End()
	var failed atomic.Pointer[error]
	promise := func(r *kgo.Record, err error) {
		if err != nil {
			p.produceErrors.Add(1)
			failed.CompareAndSwap(nil, &err)
			return
		}
		if r.Topic == k.DLQTopic {
			p.deadLetters.Add(1)
		} else {
			p.docsOut.Add(1)
		}
	}
	p.parseBatch(pctx, k, fetches, func(r *kgo.Record) { produce(pctx, r, promise) })
	if pctx.Err() != nil {
		return pctx.Err()
	}
	fctx, fcancel := context.WithTimeout(pctx, 2*time.Minute)
	defer fcancel()
	var flush func(context.Context) error
	if p.producer != nil {
		flush = p.producer.Flush
	}
	if flush != nil {
		if err := flush(fctx); err != nil {
			return fmt.Errorf("flushing parsed records: %w", err)
		}
	}
	if e := failed.Load(); e != nil {
		return fmt.Errorf("producing parsed records: %w", *e)
	}
	return nil
}

// parseBatch parses every record of fetches and hands each output record to
// emit, in offset order per input partition. Partitions are spread over the
// workers; emit is called concurrently from several workers.
func (p *Parser) parseBatch(ctx context.Context, k config.Kafka, fetches kgo.Fetches, emit func(*kgo.Record)) {
	engine := p.engine.Load()
	n := len(p.workers)
	shards := make([][]kgo.FetchTopicPartition, n)
	used := 0
	fetches.EachPartition(func(ftp kgo.FetchTopicPartition) {
		if len(ftp.Records) == 0 {
			return
		}
		i := int(ftp.Partition) % n
		if len(shards[i]) == 0 {
			used++
		}
		shards[i] = append(shards[i], ftp)
	})
	run := func(w *worker, parts []kgo.FetchTopicPartition) {
		for _, ftp := range parts {
			// The input counters are added once per partition rather than
			// once per record: the workers share them.
			var n, bytes int64
			for _, in := range ftp.Records {
				if ctx.Err() != nil {
					break
				}
				n++
				bytes += int64(len(in.Value))
				emit(w.handle(engine, k, in))
			}
			p.recordsIn.Add(n)
			p.bytesIn.Add(bytes)
		}
	}
	if used <= 1 {
		for i, parts := range shards {
			if len(parts) > 0 {
				run(p.workers[i], parts)
			}
		}
		return
	}
	var wg sync.WaitGroup
	for i, parts := range shards {
		if len(parts) == 0 {
			continue
		}
		wg.Add(1)
		go func(w *worker, parts []kgo.FetchTopicPartition) {
			defer wg.Done()
			run(w, parts)
		}(p.workers[i], parts)
	}
	wg.Wait()
}

// worker holds one parsing goroutine's reusable state.
type worker struct {
	p   *Parser
	doc document.Doc
	raw logsv1.RawRecord
	dec rules.Decoder
	buf []byte

	// Output records, their values and headers are cut from chunks
	// instead of being allocated one by one. A chunk is never written
	// again once handed out (a new one replaces it when it is used up), so
	// what the producer holds until the record is acknowledged stays
	// valid for as long as it is referenced.
	outBytes   []byte
	outRecords []kgo.Record
	outHeaders []kgo.RecordHeader
}

const (
	outBytesChunk   = 128 << 10
	outRecordsChunk = 128
)

// bytesFor returns a zero-length slice with room for n bytes, in the
// current chunk; reserve then commits what was written.
func (w *worker) bytesFor(n int) []byte {
	if cap(w.outBytes)-len(w.outBytes) < n {
		w.outBytes = make([]byte, 0, max(outBytesChunk, n))
	}
	return w.outBytes[len(w.outBytes):len(w.outBytes)]
}

// reserve commits b, written in the slice bytesFor returned, and returns it
// with its capacity cut to its length.
func (w *worker) reserve(b []byte) []byte {
	free := w.outBytes[len(w.outBytes):cap(w.outBytes)]
	if len(b) > 0 && len(b) <= len(free) && &b[0] == &free[0] {
		w.outBytes = w.outBytes[:len(w.outBytes)+len(b)]
	} else if len(b) > 0 {
		// It outgrew the room asked for and was allocated elsewhere.
		w.outBytes = w.outBytes[:cap(w.outBytes)]
	}
	return b[:len(b):len(b)]
}

// newRecord returns a zero record with two zero headers.
func (w *worker) newRecord() *kgo.Record {
	if len(w.outRecords) == 0 {
		w.outRecords = make([]kgo.Record, outRecordsChunk)
		w.outHeaders = make([]kgo.RecordHeader, 2*outRecordsChunk)
	}
	r := &w.outRecords[0]
	r.Headers = w.outHeaders[:2:2]
	w.outRecords, w.outHeaders = w.outRecords[1:], w.outHeaders[2:]
	return r
}

// handle turns one raw record into the record to produce: the document, or
// a dead letter.
func (w *worker) handle(engine *rules.Engine, k config.Kafka, in *kgo.Record) *kgo.Record {
	p := w.p
	out, err := w.parseOne(engine, k, in)
	if err != nil {
		p.failures.Add(1)
		return p.deadLetter(k, in, err)
	}
	return out
}

// ErrBudget is the error of a record whose processing took longer than the budget.
var ErrBudget = errors.New("parser: record exceeded its processing budget")

// parseOne turns one raw record into a parsed record. A panic in a processor
// is caught and reported as an error, so one poison record goes to the
// dead-letter topic instead of crash-looping the replica.
func (w *worker) parseOne(engine *rules.Engine, k config.Kafka, in *kgo.Record) (out *kgo.Record, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parser: processor panic: %v\n%s", r, debug.Stack())
		}
	}()
	raw := &w.raw
	meta, err := w.dec.Decode(in.Value, raw)
	if err != nil {
		return nil, fmt.Errorf("parser: record is not a sluice.logs.v1.RawRecord: %w", err)
	}
	start := time.Now()
	rule := engine.Select(raw)
	index, err := engine.ApplyMeta(rule, raw, meta, &w.doc)
	if err != nil {
		return nil, err
	}
	if d, budget := time.Since(start), time.Duration(w.p.budget.Load()); d > budget {
		// Wall time also counts a GC pause or a busy machine. Only a record
		// that is over budget twice in a row is dead-lettered as too costly.
		start = time.Now()
		index, err = engine.ApplyMeta(rule, raw, meta, &w.doc)
		if err != nil {
			return nil, err
		}
		if d2 := time.Since(start); d2 > budget {
			return nil, fmt.Errorf("%w: %v and %v > %v (rule %s)", ErrBudget, d, d2, budget, rule.Name)
		}
	}
	src := raw.GetSource()
	// The document goes straight into the output chunk; w.buf remembers
	// the largest document so far as the room to ask for.
	value := w.reserve(w.doc.AppendJSON(w.bytesFor(cap(w.buf))))
	if len(value) > cap(w.buf) {
		w.buf = make([]byte, 0, len(value))
	}
	if w.p.tap.active.Load() > 0 {
		if n := w.p.tap.offer(raw.GetLine(), rule.Name, value); n > 0 {
			w.p.tapDropped.Add(int64(n))
		}
	}
	kube := raw.GetKubernetes()
	id := w.reserve(rules.AppendDocID(w.bytesFor(record.IDLen), src.GetNode(), kube.GetNamespace(), kube.GetPod(), kube.GetContainer(), src.GetFingerprint(), src.GetOffset()))
	idx := w.reserve(append(w.bytesFor(len(index)), index...))
	out = w.newRecord()
	out.Topic = k.OutputTopic
	out.Key = in.Key
	out.Value = value
	out.Headers[0] = kgo.RecordHeader{Key: record.HeaderID, Value: id}
	out.Headers[1] = kgo.RecordHeader{Key: record.HeaderIndex, Value: idx}
	return out, nil
}

func (p *Parser) deadLetter(k config.Kafka, in *kgo.Record, err error) *kgo.Record {
	p.log.Warn("dead-lettering record", "topic", in.Topic, "partition", in.Partition, "offset", in.Offset, "err", err)
	reason := err.Error()
	if len(reason) > 4096 {
		reason = reason[:4096]
	}
	return &kgo.Record{
		Topic: k.DLQTopic,
		Key:   in.Key,
		Value: in.Value,
		Headers: []kgo.RecordHeader{
			{Key: record.HeaderStage, Value: []byte("parser")},
			{Key: record.HeaderReason, Value: []byte(reason)},
			{Key: record.HeaderTopic, Value: []byte(in.Topic)},
			{Key: record.HeaderPartition, Value: []byte(strconv.Itoa(int(in.Partition)))},
			{Key: record.HeaderOffset, Value: []byte(strconv.FormatInt(in.Offset, 10))},
		},
	}
}

// runTransactional is Run with kafka.transactional: each batch is produced
// and its offsets committed in one transaction.
func (p *Parser) runTransactional(ctx context.Context, k config.Kafka) error {
	base, err := kafka.ClientOpts(k.Kafka)
	if err != nil {
		return err
	}
	base = append(base, p.tel.KafkaOpts()...)
	id := k.TransactionalID
	if id == "" {
		id = defaultTransactionalID(k.Group)
	}
	sess, err := kgo.NewGroupTransactSession(append(append(append(base, p.consumerOpts(k)...), p.producerOpts(k)...),
		kgo.TransactionalID(id),
		kgo.TransactionTimeout(time.Duration(k.TransactionTimeout)),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
	)...)
	if err != nil {
		return fmt.Errorf("kafka transactional session: %w", err)
	}
	p.producer = sess.Client()
	defer sess.Close()
	var runErr error
	for {
		if err := p.gate.Wait(ctx); err != nil {
			break
		}
		fetches := sess.PollRecords(ctx, k.MaxPollRecords)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			break
		}
		fetches.EachError(func(t string, part int32, err error) {
			p.log.Warn("fetch error", "topic", t, "partition", part, "err", err)
		})
		if fetches.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			runErr = fmt.Errorf("beginning transaction: %w", err)
			break
		}
		perr := p.process(ctx, k, fetches, sess.Produce)
		if service.Aborted(ctx) {
			// Neither committed nor aborted: the broker aborts it when the
			// transaction times out or the group moves on, as after a crash.
			return nil
		}
		try := kgo.TryCommit
		if perr != nil {
			p.log.Warn("aborting transaction", "err", perr)
			try = kgo.TryAbort
		}
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		committed, err := sess.End(ectx, try)
		cancel()
		if !committed {
			p.txnAborts.Add(1)
		}
		if err != nil {
			p.log.Warn("ending transaction failed; the batch will be consumed again", "err", err)
		}
	}
	p.draining.Store(true)
	return runErr
}

func defaultTransactionalID(group string) string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return group + "-" + host + "-" + hex.EncodeToString(b[:])
}

// State implements admin.Service.
func (p *Parser) State() string {
	switch {
	case p.draining.Load():
		return "draining"
	case p.gate.Paused():
		return "paused"
	}
	return "running"
}

// Stats implements admin.Service.
func (p *Parser) Stats(ctx context.Context) *adminv1.GetStatsResponse {
	p.mu.Lock()
	group := p.cfg.Kafka.Group
	p.mu.Unlock()
	return &adminv1.GetStatsResponse{Counters: p.tel.Snapshot(), Lag: kafka.GroupLag(ctx, p.lagClient.Load(), group)}
}

// Pause implements admin.Service.
func (p *Parser) Pause() { p.gate.Pause() }

// Resume implements admin.Service.
func (p *Parser) Resume() { p.gate.Resume() }

// ConfigDigest implements admin.Service.
func (p *Parser) ConfigDigest() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.digest
}
