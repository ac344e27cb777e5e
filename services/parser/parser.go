// Package parser is the parser service: a Kafka consumer group on the raw
// topic that turns each line into a ready-to-index JSON document with the
// rule engine and republishes it to the parsed topic.
//
// The parser is a handler on libs/stage, which owns the consumer, the
// producer, the commits, rebalances, static membership, the dead-letter
// path and the admin controls (see its package doc for the contract).
// What is the parser's own: a batch is split by partition over the
// workers — one partition is always handled by one worker, in offset
// order, so per-container order survives — and each record becomes a
// document or, when it cannot be parsed (not a RawRecord, a processor
// panic, over its time budget), a dead letter of class permanent; the
// partition moves on either way. A document over the parsed topic's
// max.message.bytes is dead-lettered by the runtime with reason too_large.
//
// With kafka.transactional the batch's documents and its input offsets are
// committed in one Kafka transaction instead (exactly-once for consumers
// reading read_committed).
//
// Rule reloads (admin ReloadConfig or the watched config file) swap the
// compiled engine atomically; a batch is parsed entirely with the engine it
// started with, and offsets are untouched by a reload, so no record is lost
// or parsed twice because of one.
package parser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/kafka"
	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/libs/stage"
	"github.com/sluice-io/sluice/libs/telemetry"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
	"github.com/sluice-io/sluice/services/parser/internal/rules"
)

// Version is set at build time.
var Version = "dev"

// Parser is one parser replica. The embedded runtime answers the admin
// API's State, Stats, Pause, Resume and ConfigDigest.
type Parser struct {
	*stage.Runtime

	log    *slog.Logger
	tel    *telemetry.Telemetry
	engine atomic.Pointer[rules.Engine]
	tap    tapHub
	// accounts counts parsed, failed and dead-lettered lines per container.
	accounts *telemetry.Accounts

	mu     sync.Mutex
	cfg    config.Config
	digest string

	builtins   map[string]func() []rules.Processor
	clientOpts []kgo.Opt

	// Config file watching (WithConfigFile).
	configFile    string
	watchInterval time.Duration

	budget  atomic.Int64 // nanoseconds
	workers []*worker

	recordsIn, docsOut, failures, bytesIn *telemetry.Counter
	bytesOut                              *telemetry.Counter
	reloads, reloadFailures, tapDropped   *telemetry.Counter
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

// withClientOpts adds options to the parser's Kafka client (tests and
// benchmarks hook it with them).
func withClientOpts(opts ...kgo.Opt) Option {
	return func(p *Parser) { p.clientOpts = append(p.clientOpts, opts...) }
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
	p.bytesOut = tel.Counter("bytes_produced", "Bytes of document values produced (before compression).")
	p.docsOut = tel.Counter("documents_produced", "Documents produced and acknowledged.")
	p.failures = tel.Counter("parse_failures", "Records that could not be parsed and went to the dead-letter topic.")
	p.reloads = tel.Counter("config_reloads", "Rule sets reloaded.")
	p.reloadFailures = tel.Counter("config_reload_failures", "Reloads refused because the new configuration is invalid.")
	p.tapDropped = tel.Counter("tap_dropped", "Tap samples dropped because a tap client was slow.")
	p.accounts = tel.Accounts("container", maxAccountKeys)
	n := cfg.Kafka.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	for i := 0; i < n; i++ {
		p.workers = append(p.workers, &worker{p: p, buf: make([]byte, 0, 4096)})
	}
	k := cfg.Kafka
	base, err := kafka.ClientOpts(k.Kafka)
	if err != nil {
		return nil, err
	}
	p.Runtime, err = stage.New(stage.Config{
		Stage:           record.StageParser,
		Group:           k.Group,
		Topics:          []string{k.InputTopic},
		DeadLetterTopic: k.DLQTopic,
		OutputTopic:     k.OutputTopic,
		ClientOpts:      append(append(base, tel.KafkaOpts()...), p.clientOpts...),
		ConsumerOpts:    []kgo.Opt{kgo.FetchMaxBytes(16 << 20)},
		ProducerOpts: []kgo.Opt{
			kgo.ProducerBatchCompression(kafka.Compression(k.Compression)),
			kgo.MaxBufferedBytes(int(k.MaxBufferedBytes)),
			kgo.ProducerLinger(5 * time.Millisecond),
		},
		InstanceID:         k.InstanceID,
		MaxBatchRecords:    k.MaxPollRecords,
		Transactional:      k.Transactional,
		TransactionalID:    k.TransactionalID,
		TransactionTimeout: time.Duration(k.TransactionTimeout),
		Acked: func(r *kgo.Record) {
			p.docsOut.Add(1)
			p.account(r.Key, telemetry.LinesParsed)
		},
		Log:       log,
		Telemetry: tel,
		Digest:    digest,
	}, stage.HandlerFunc(p.handle))
	if err != nil {
		return nil, err
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

// Run consumes until ctx ends, then drains (see stage.Runtime.Run), and
// watches the configuration file meanwhile when WithConfigFile asked for it.
func (p *Parser) Run(ctx context.Context) error {
	if p.configFile != "" && p.watchInterval > 0 {
		wctx, stop := context.WithCancel(ctx)
		defer stop()
		go p.watchConfig(wctx)
	}
	return p.Runtime.Run(ctx)
}

// handle parses every record of b and hands each output to b, in offset
// order per input partition. Partitions are spread over the workers, which
// run concurrently.
func (p *Parser) handle(ctx context.Context, b *stage.Batch) error {
	engine := p.engine.Load()
	k := p.kafkaConfig()
	n := len(p.workers)
	shards := make([][]stage.Partition, n)
	used := 0
	for _, part := range b.Partitions() {
		i := int(part.Partition) % n
		if len(shards[i]) == 0 {
			used++
		}
		shards[i] = append(shards[i], part)
	}
	// One wall-clock read per batch dates every output record: kgo would
	// otherwise read the clock for each record it buffers.
	now := time.Now()
	run := func(w *worker, parts []stage.Partition) {
		w.now = now
		for _, part := range parts {
			// The input counters are added once per partition rather than
			// once per record: the workers share them.
			var n, bytes int64
			out := w.docBytes
			for _, in := range part.Records {
				if ctx.Err() != nil {
					break
				}
				n++
				bytes += int64(len(in.Value))
				w.handle(b, engine, k, in)
			}
			p.recordsIn.Add(n)
			p.bytesIn.Add(bytes)
			p.bytesOut.Add(w.docBytes - out)
		}
	}
	if used <= 1 {
		for i, parts := range shards {
			if len(parts) > 0 {
				run(p.workers[i], parts)
			}
		}
		return ctx.Err()
	}
	var wg sync.WaitGroup
	for i, parts := range shards {
		if len(parts) == 0 {
			continue
		}
		wg.Add(1)
		go func(w *worker, parts []stage.Partition) {
			defer wg.Done()
			run(w, parts)
		}(p.workers[i], parts)
	}
	wg.Wait()
	return ctx.Err()
}

// worker holds one parsing goroutine's reusable state.
type worker struct {
	p   *Parser
	now time.Time // the batch's time, the Timestamp of its output records
	// docBytes sums the documents' sizes, added to bytes_produced once
	// per partition.
	docBytes int64
	doc      document.Doc
	raw      logsv1.RawRecord
	dec      rules.Decoder
	buf      []byte

	// Output records, their values and headers are cut from chunks
	// instead of being allocated one by one. A chunk is never written
	// again once handed out (a new one replaces it when it is used up), so
	// what the producer holds until the record is acknowledged stays
	// valid for as long as it is referenced.
	outBytes   []byte
	outRecords []kgo.Record
	outHeaders []kgo.RecordHeader
	outOrigins []stage.Origin
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

// newRecord returns a zero record with two zero headers, whose origin is
// in (so that the runtime can dead-letter in if the record is refused).
func (w *worker) newRecord(in *kgo.Record) *kgo.Record {
	if len(w.outRecords) == 0 {
		w.outRecords = make([]kgo.Record, outRecordsChunk)
		w.outHeaders = make([]kgo.RecordHeader, 2*outRecordsChunk)
		w.outOrigins = make([]stage.Origin, outRecordsChunk)
	}
	r := &w.outRecords[0]
	r.Headers = w.outHeaders[:2:2]
	stage.SetOrigin(&w.outOrigins[0], r, in)
	w.outRecords, w.outHeaders, w.outOrigins = w.outRecords[1:], w.outHeaders[2:], w.outOrigins[1:]
	return r
}

// handle turns one raw record into its document, or its dead letter: a
// record's content is never more than a permanent error of that record.
func (w *worker) handle(b *stage.Batch, engine *rules.Engine, k config.Kafka, in *kgo.Record) {
	out, err := w.parseOne(engine, k, in)
	if err != nil {
		w.p.failures.Add(1)
		w.p.account(in.Key, telemetry.LinesDeadLettered)
		if w.p.tap.active.Load() > 0 {
			w.p.offerTap(deadSample(engine, in, err))
		}
		b.DeadLetter(in, stage.NewPermanent("", err))
		return
	}
	if hasTag(&w.doc, rules.FailureTag) {
		w.p.account(in.Key, telemetry.LinesFailed)
	}
	b.Produce(out)
}

func (p *Parser) offerTap(x *tapSample) {
	if n := p.tap.offer(x); n > 0 {
		p.tapDropped.Add(int64(n))
	}
}

// deadSample is the tap sample of a record about to be dead-lettered
// because of err. It decodes the record again (the worker's copy may be
// half-filled): this runs only while a tap client listens.
func deadSample(engine *rules.Engine, in *kgo.Record, err error) *tapSample {
	x := &tapSample{failed: true, deadLetter: err.Error()}
	x.namespace, x.pod, x.container = record.SplitKey(in.Key)
	var raw logsv1.RawRecord
	var dec rules.Decoder
	if _, derr := dec.Decode(in.Value, &raw); derr == nil {
		x.line = raw.GetLine()
		if r := engine.Select(&raw); r != nil {
			x.rule = r.Name
		}
		if k := raw.GetKubernetes(); k != nil {
			x.namespace, x.pod, x.container = k.GetNamespace(), k.GetPod(), k.GetContainer()
		}
	}
	return x
}

// account counts one line for its container (the record key is
// "<namespace>/<pod>/<container>").
func (p *Parser) account(key []byte, f telemetry.Field) {
	ns, pod, container := record.SplitKey(key)
	p.accounts.Add(ns, pod, container, f, 1)
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
	// The budget is timed on the monotonic clock alone (monotime), one
	// read on each side: time.Now would also read the wall clock.
	start := monotime()
	rule := engine.Select(raw)
	index, err := engine.ApplyMeta(rule, raw, meta, &w.doc)
	if err != nil {
		return nil, err
	}
	if d, budget := monotime()-start, time.Duration(w.p.budget.Load()); d > budget {
		// Wall time also counts a GC pause or a busy machine. Only a record
		// that is over budget twice in a row is dead-lettered as too costly.
		start = monotime()
		index, err = engine.ApplyMeta(rule, raw, meta, &w.doc)
		if err != nil {
			return nil, err
		}
		if d2 := monotime() - start; d2 > budget {
			return nil, fmt.Errorf("%w: %v and %v > %v (rule %s)", ErrBudget, d, d2, budget, rule.Name)
		}
	}
	src := raw.GetSource()
	// The document goes straight into the output chunk; w.buf remembers
	// the largest document so far as the room to ask for.
	value := w.reserve(w.doc.AppendJSON(w.bytesFor(cap(w.buf))))
	w.docBytes += int64(len(value))
	if len(value) > cap(w.buf) {
		w.buf = make([]byte, 0, len(value))
	}
	kube := raw.GetKubernetes()
	if w.p.tap.active.Load() > 0 {
		w.p.offerTap(&tapSample{line: raw.GetLine(), rule: rule.Name, doc: value,
			namespace: kube.GetNamespace(), pod: kube.GetPod(), container: kube.GetContainer(),
			failed: hasTag(&w.doc, rules.FailureTag)})
	}
	id := w.reserve(record.AppendDocID(w.bytesFor(record.IDLen), src.GetNode(), kube.GetNamespace(), kube.GetPod(), kube.GetContainer(), src.GetFingerprint(), src.GetOffset()))
	idx := w.reserve(append(w.bytesFor(len(index)), index...))
	out = w.newRecord(in)
	out.Topic = k.OutputTopic
	out.Timestamp = w.now
	out.Key = in.Key
	out.Value = value
	out.Headers[0] = kgo.RecordHeader{Key: record.HeaderID, Value: id}
	out.Headers[1] = kgo.RecordHeader{Key: record.HeaderIndex, Value: idx}
	return out, nil
}

// epoch is the origin of monotime.
var epoch = time.Now()

// monotime returns the monotonic time since epoch: time.Since on a time
// with a monotonic reading reads only the monotonic clock.
func monotime() time.Duration { return time.Since(epoch) }

// maxAccountKeys bounds the containers the parser counts on their own
// (telemetry.Accounts); a parser sees every node's containers, so its limit
// is the indexer's.
const maxAccountKeys = 5000
