// Package parser is the parser service: a Kafka consumer group on the raw
// topic that turns each line into a ready-to-index JSON document with the
// rule engine and republishes it to the parsed topic.
//
// Delivery: a fetched batch is parsed and produced; only when the producer
// has every record of the batch acknowledged are the input offsets marked,
// and only marked offsets are committed. A crash replays at most the
// unacknowledged batch; the replayed documents carry the same _id and are
// rejected as conflicts by the indexer's create, so the search engine never
// holds a duplicate.
package parser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
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

	mu     sync.Mutex
	cfg    config.Config
	digest string

	consumer *kgo.Client
	producer *kgo.Client
	draining atomic.Bool
	budget   atomic.Int64 // nanoseconds

	recordsIn, docsOut, failures, deadLetters, bytesIn, produceErrors *telemetry.Counter
}

// New builds a parser from a validated configuration and compiles its rules.
func New(cfg config.Config, digest string, log *slog.Logger) (*Parser, error) {
	engine, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	tel, err := telemetry.New("parser")
	if err != nil {
		return nil, err
	}
	p := &Parser{log: log, tel: tel, cfg: cfg, digest: digest}
	p.engine.Store(engine)
	p.budget.Store(int64(cfg.Budget))
	p.recordsIn = tel.Counter("records_consumed", "Raw records consumed.")
	p.bytesIn = tel.Counter("bytes_consumed", "Bytes of raw record values consumed.")
	p.docsOut = tel.Counter("documents_produced", "Documents produced and acknowledged.")
	p.failures = tel.Counter("parse_failures", "Records whose rule failed; tagged or dead-lettered.")
	p.deadLetters = tel.Counter("dead_letters", "Records sent to the dead-letter topic.")
	p.produceErrors = tel.Counter("produce_errors", "Produce failures (the batch is retried from Kafka).")
	return p, nil
}

func compile(cfg config.Config) (*rules.Engine, error) {
	return rules.Compile(rules.Options{Rules: cfg.Rules, Patterns: cfg.Patterns, Index: cfg.Kafka.Index})
}

// Telemetry returns the parser's metrics.
func (p *Parser) Telemetry() *telemetry.Telemetry { return p.tel }

// Engine returns the running rule engine.
func (p *Parser) Engine() *rules.Engine { return p.engine.Load() }

// Run consumes until ctx ends, then drains: the batch in hand is produced,
// its offsets committed, and the group left. It returns nil on a clean stop.
func (p *Parser) Run(ctx context.Context) error {
	cfg := p.cfg
	base, err := kafka.ClientOpts(cfg.Kafka.Kafka)
	if err != nil {
		return err
	}
	p.producer, err = kgo.NewClient(append(base,
		kgo.ProducerBatchCompression(kafka.Compression(cfg.Kafka.Compression)),
		kgo.MaxBufferedBytes(int(cfg.Kafka.MaxBufferedBytes)),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(5*time.Millisecond),
	)...)
	if err != nil {
		return fmt.Errorf("kafka producer: %w", err)
	}
	defer p.producer.Close()
	p.consumer, err = kgo.NewClient(append(base,
		kgo.ConsumerGroup(cfg.Kafka.Group),
		kgo.ConsumeTopics(cfg.Kafka.InputTopic),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(time.Second),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchMaxBytes(16<<20),
		kgo.OnPartitionsRevoked(p.commitOnRevoke),
	)...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	defer p.consumer.Close()

	runErr := p.loop(ctx)
	p.draining.Store(true)
	if service.Aborted(ctx) {
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

func (p *Parser) loop(ctx context.Context) error {
	max := p.cfg.Kafka.MaxPollRecords
	var doc document.Doc
	buf := make([]byte, 0, 4096)
	for {
		if err := p.gate.Wait(ctx); err != nil {
			return nil
		}
		fetches := p.consumer.PollRecords(ctx, max)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			p.consumer.AllowRebalance()
			return nil
		}
		fetches.EachError(func(t string, part int32, err error) {
			p.log.Warn("fetch error", "topic", t, "partition", part, "err", err)
		})
		recs := fetches.Records()
		if len(recs) == 0 {
			p.consumer.AllowRebalance()
			continue
		}
		if err := p.process(ctx, recs, &doc, &buf); err != nil {
			p.consumer.AllowRebalance()
			return err
		}
		if service.Aborted(ctx) {
			p.consumer.AllowRebalance()
			return nil
		}
		p.consumer.MarkCommitRecords(recs...)
		p.consumer.AllowRebalance()
	}
}

// process parses and produces one batch and returns when every output
// record is acknowledged. It keeps going after ctx ends: the batch in hand
// is finished so its offsets can be committed.
func (p *Parser) process(ctx context.Context, recs []*kgo.Record, doc *document.Doc, buf *[]byte) error {
	pctx := context.WithoutCancel(ctx)
	var failed atomic.Pointer[error]
	promise := func(r *kgo.Record, err error) {
		if err != nil {
			p.produceErrors.Add(1)
			failed.CompareAndSwap(nil, &err)
			return
		}
		if r.Topic == p.cfg.Kafka.DLQTopic {
			p.deadLetters.Add(1)
		} else {
			p.docsOut.Add(1)
		}
	}
	engine := p.engine.Load()
	for _, in := range recs {
		p.recordsIn.Add(1)
		p.bytesIn.Add(int64(len(in.Value)))
		out, err := p.parseOne(engine, in, doc, buf)
		if err != nil {
			p.failures.Add(1)
			out = p.deadLetter(in, err)
		}
		p.producer.Produce(pctx, out, promise)
	}
	fctx, cancel := context.WithTimeout(pctx, 2*time.Minute)
	defer cancel()
	if err := p.producer.Flush(fctx); err != nil {
		return fmt.Errorf("flushing parsed records: %w", err)
	}
	if e := failed.Load(); e != nil {
		return fmt.Errorf("producing parsed records: %w", *e)
	}
	return nil
}

// ErrBudget is the error of a record whose processing took longer than the budget.
var ErrBudget = errors.New("parser: record exceeded its processing budget")

// parseOne turns one raw record into a parsed record. A panic in a processor
// is caught and reported as an error, so one poison record goes to the
// dead-letter topic instead of crash-looping the replica.
func (p *Parser) parseOne(engine *rules.Engine, in *kgo.Record, doc *document.Doc, buf *[]byte) (out *kgo.Record, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parser: processor panic: %v\n%s", r, debug.Stack())
		}
	}()
	var raw logsv1.RawRecord
	if err := proto.Unmarshal(in.Value, &raw); err != nil {
		return nil, fmt.Errorf("parser: record is not a sluice.logs.v1.RawRecord: %w", err)
	}
	start := time.Now()
	rule := engine.Select(&raw)
	index, err := engine.Apply(rule, &raw, doc)
	if err != nil {
		return nil, err
	}
	if d, budget := time.Since(start), time.Duration(p.budget.Load()); d > budget {
		// Wall time also counts a GC pause or a busy machine. Only a record
		// that is over budget twice in a row is dead-lettered as too costly.
		start = time.Now()
		index, err = engine.Apply(rule, &raw, doc)
		if err != nil {
			return nil, err
		}
		if d2 := time.Since(start); d2 > budget {
			return nil, fmt.Errorf("%w: %v and %v > %v (rule %s)", ErrBudget, d, d2, budget, rule.Name)
		}
	}
	src := raw.GetSource()
	*buf = doc.AppendJSON((*buf)[:0])
	value := append([]byte(nil), *buf...)
	id := record.ID(src.GetNode(), src.GetFingerprint(), src.GetOffset())
	return &kgo.Record{
		Topic: p.cfg.Kafka.OutputTopic,
		Key:   in.Key,
		Value: value,
		Headers: []kgo.RecordHeader{
			{Key: record.HeaderID, Value: []byte(id)},
			{Key: record.HeaderIndex, Value: []byte(index)},
		},
	}, nil
}

func (p *Parser) deadLetter(in *kgo.Record, err error) *kgo.Record {
	p.log.Warn("dead-lettering record", "topic", in.Topic, "partition", in.Partition, "offset", in.Offset, "err", err)
	reason := err.Error()
	if len(reason) > 4096 {
		reason = reason[:4096]
	}
	return &kgo.Record{
		Topic: p.cfg.Kafka.DLQTopic,
		Key:   in.Key,
		Value: in.Value,
		Headers: []kgo.RecordHeader{
			{Key: record.HeaderStage, Value: []byte("parser")},
			{Key: record.HeaderReason, Value: []byte(reason)},
			{Key: record.HeaderTopic, Value: []byte(in.Topic)},
			{Key: record.HeaderPartition, Value: []byte(fmt.Sprint(in.Partition))},
			{Key: record.HeaderOffset, Value: []byte(fmt.Sprint(in.Offset))},
		},
	}
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
func (p *Parser) Stats(context.Context) *adminv1.GetStatsResponse {
	return &adminv1.GetStatsResponse{Counters: p.tel.Snapshot()}
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

// Reload implements admin.Service: a new rule set takes effect from the next
// batch; Kafka settings need a restart and are refused if they change.
func (p *Parser) Reload(_ context.Context, doc []byte) (string, error) {
	if len(doc) == 0 {
		return "", errors.New("empty configuration")
	}
	next, digest, err := config.Parse(doc)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if fmt.Sprint(next.Kafka) != fmt.Sprint(p.cfg.Kafka) {
		return "", errors.New("kafka settings cannot change without a restart")
	}
	engine, err := compile(next)
	if err != nil {
		return "", err
	}
	p.engine.Store(engine)
	p.cfg.Rules, p.cfg.Patterns = next.Rules, next.Patterns
	p.budget.Store(int64(next.Budget))
	p.digest = digest
	p.log.Info("rules reloaded", "digest", digest, "rules", len(next.Rules))
	return digest, nil
}
