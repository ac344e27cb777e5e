// Package indexer is the indexer service: a Kafka consumer group on the
// parsed topic that writes documents to Elasticsearch or OpenSearch with the
// bulk API.
//
// Documents arrive as their final JSON _source with _id and index in record
// headers, so a bulk body is built by concatenation, never by re-encoding.
// Every document is written with op_type=create and its deterministic _id: a
// replay after a crash is answered 409 and counted as already indexed. The
// index may be overridden by configuration (see internal/indexname); the
// name depends only on the record, so a replay lands where the first write
// did.
//
// The loop works in rounds: collect up to MaxDocs×Concurrency records and
// MaxBytes×Concurrency bytes (or what arrived within FlushInterval), deliver
// them as bulk requests of at most MaxDocs and MaxBytes, up to Concurrency
// in flight under an adaptive limit (bulk.Limiter: halved on 429s and slow
// answers), and mark the round's offsets only when every record in it was
// accepted (created or already there) or acknowledged by the dead-letter
// topic. A record whose retryable failures exceed MaxRetries is
// dead-lettered with the reason; a request failed as a whole (the engine
// down or overloaded) is retried with backoff for as long as it takes.
//
// Backpressure: the loop does not fetch while a round is being delivered,
// so a slow or failing engine leaves the backlog in Kafka. Records fetched
// beyond the round's byte budget wait in a carry-over for the next round,
// so the documents held by the indexer never exceed MaxBytes×Concurrency
// (plus one record). The Kafka client's fetch buffer comes on top: one
// fetch response per broker of at most a quarter of that budget (min
// 256 KiB), counted as the brokers send them, compressed.
package indexer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
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
	"github.com/sluice-io/sluice/services/indexer/config"
	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
	"github.com/sluice-io/sluice/services/indexer/internal/indexname"
	"github.com/sluice-io/sluice/services/indexer/internal/sink"
)

// Version is set at build time.
var Version = "dev"

// Sink writes documents and reports each one's outcome, in order. Index is
// called from several goroutines at once (up to Concurrency); it returns
// only when every document has an outcome, and does not keep docs.
type Sink interface {
	Index(ctx context.Context, docs []bulk.Doc) []bulk.Result
}

// concurrencyReporter is implemented by sinks with an adaptive limit on
// requests in flight (sink.Search).
type concurrencyReporter interface {
	Concurrency() (limit, inFlight int)
}

// Indexer is one indexer replica.
type Indexer struct {
	cfg    config.Config
	digest string
	log    *slog.Logger
	tel    *telemetry.Telemetry
	gate   admin.Gate
	sink   Sink
	router *indexname.Router

	consumer *kgo.Client
	// accounts counts indexed and dead-lettered lines per container.
	accounts *telemetry.Accounts
	// lagClient publishes the consumer to GetStats, which runs on admin
	// goroutines while Run owns the consumer.
	lagClient atomic.Pointer[kgo.Client]
	producer  *kgo.Client
	draining  atomic.Bool

	// roundBytes bounds the document bytes of one round.
	roundBytes int64

	// mu guards owned and carry, which the rebalance callbacks change
	// from the client's goroutine.
	mu    sync.Mutex
	owned map[topicPartition]bool
	carry []*kgo.Record

	consumed, indexed, exists, deadLetters, retries, rounds     *telemetry.Counter
	bulkRequests, requestFailures, itemRetries, overloaded      *telemetry.Counter
	inFlight, inFlightPeak, inFlightLimit, carried              *telemetry.Gauge
	concLimit, concInFlight, backoffMillis, pendingRetry, maxIn *telemetry.Gauge
}

type topicPartition struct {
	topic     string
	partition int32
}

// New builds an indexer writing to sink.
func New(cfg config.Config, digest string, sink Sink, log *slog.Logger) (*Indexer, error) {
	router, err := indexname.New(cfg.Index)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	tel, err := telemetry.New("indexer")
	if err != nil {
		return nil, err
	}
	if err := tel.SetupTracing(cfg.Telemetry); err != nil {
		return nil, err
	}
	accounts := tel.Accounts("container", 5000)
	ix := &Indexer{cfg: cfg, digest: digest, log: log, tel: tel, sink: sink, router: router, owned: map[topicPartition]bool{}, accounts: accounts}
	ix.roundBytes = int64(cfg.Batch.MaxBytes) * int64(cfg.Batch.Concurrency)
	ix.consumed = tel.Counter("records_consumed", "Parsed records consumed.")
	ix.indexed = tel.Counter("documents_indexed", "Documents the search engine created.")
	ix.exists = tel.Counter("documents_already_indexed", "Documents answered 409: indexed before (a replay).")
	ix.deadLetters = tel.Counter("dead_letters", "Documents sent to the dead-letter topic.")
	ix.retries = tel.Counter("batch_retries", "Rounds retried because some documents were not yet accepted.")
	ix.rounds = tel.Counter("bulk_rounds", "Rounds of bulk requests sent.")
	ix.bulkRequests = tel.Counter("bulk_requests", "Bulk requests sent.")
	ix.requestFailures = tel.Counter("bulk_request_failures", "Bulk requests that failed as a whole (retried without counting against max_retries).")
	ix.itemRetries = tel.Counter("documents_retried", "Documents refused for a retryable reason (429, 5xx, es_rejected_execution_exception) and sent again.")
	ix.overloaded = tel.Counter("bulk_overloaded", "Bulk requests answered 429, as a whole or for some items.")
	ix.inFlight = tel.Gauge("in_flight_bytes", "Bytes of documents fetched and not yet committed.")
	ix.inFlightPeak = tel.Gauge("in_flight_bytes_peak", "Largest in_flight_bytes since start.")
	ix.inFlightLimit = tel.Gauge("in_flight_bytes_limit", "Bound on in_flight_bytes: batch.max_bytes × batch.concurrency.")
	ix.carried = tel.Gauge("carried_bytes", "Bytes fetched past the round's budget, waiting for the next round.")
	ix.concLimit = tel.Gauge("bulk_concurrency_limit", "Adaptive limit on bulk requests in flight.")
	ix.concInFlight = tel.Gauge("bulk_requests_in_flight", "Bulk requests in flight.")
	ix.maxIn = tel.Gauge("bulk_requests_in_flight_peak", "Most bulk requests in flight at once since start.")
	ix.backoffMillis = tel.Gauge("retry_backoff_ms", "Current wait before the next retry round, 0 when not retrying.")
	ix.pendingRetry = tel.Gauge("documents_pending_retry", "Documents waiting for a retry round.")
	ix.inFlightLimit.Set(ix.roundBytes)
	ix.concLimit.Set(int64(cfg.Batch.Concurrency))
	return ix, nil
}

// Telemetry returns the indexer's metrics.
func (ix *Indexer) Telemetry() *telemetry.Telemetry { return ix.tel }

// Run consumes until ctx ends, then finishes the round in hand, commits and
// leaves the group. A ctx cancelled with cause service.ErrAbort stops at
// once, as a crash would: the round in hand is neither finished nor marked.
func (ix *Indexer) Run(ctx context.Context) error {
	cfg := ix.cfg
	base, err := kafka.ClientOpts(cfg.Kafka.Kafka)
	if err != nil {
		return err
	}
	base = append(base, ix.tel.KafkaOpts()...)
	ix.producer, err = kgo.NewClient(append(base, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedBytes(64<<20))...)
	if err != nil {
		return fmt.Errorf("kafka producer: %w", err)
	}
	defer ix.producer.Close()
	// The client's fetch buffer comes on top of the round: one response of
	// at most fetchMax bytes (counted compressed) per broker. Limiting the
	// fetches in flight instead (MaxConcurrentFetches) would let long polls
	// to idle brokers hold the slots while another broker has data.
	fetchMax := int32(min(max(ix.roundBytes/4, 256<<10), 64<<20))
	ix.consumer, err = kgo.NewClient(append(base,
		kgo.WithLogger(kgoLogger{ix.log}),
		kgo.ConsumerGroup(cfg.Kafka.Group),
		kgo.ConsumeTopics(cfg.Kafka.Topic),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(time.Second),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchMaxBytes(fetchMax),
		kgo.FetchMaxPartitionBytes(min(fetchMax, 1<<20)),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { ix.assign(m, true) }),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
			ix.assign(m, false)
			if err := cl.CommitMarkedOffsets(ctx); err != nil {
				ix.log.Warn("commit on revoke failed", "err", err)
			}
		}),
		// Lost partitions may already be someone else's: drop what was
		// fetched for them, commit nothing.
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { ix.assign(m, false) }),
	)...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	defer ix.consumer.Close()
	ix.lagClient.Store(ix.consumer)
	defer ix.lagClient.Store(nil)

	runErr := ix.loop(ctx)
	ix.draining.Store(true)
	if service.Aborted(ctx) {
		ix.consumer.CloseAllowingRebalance()
		return runErr
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := ix.consumer.CommitMarkedOffsets(cctx); err != nil {
		ix.log.Warn("final commit failed; documents since the last commit will be sent again (as 409s)", "err", err)
	}
	ix.consumer.CloseAllowingRebalance()
	return runErr
}

// assign records partitions gained or given up; giving one up drops its
// carried records, which its next owner fetches again.
func (ix *Indexer) assign(m map[string][]int32, add bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for t, ps := range m {
		for _, p := range ps {
			if add {
				ix.owned[topicPartition{t, p}] = true
			} else {
				delete(ix.owned, topicPartition{t, p})
			}
		}
	}
	if add || len(ix.carry) == 0 {
		return
	}
	kept := ix.carry[:0]
	for _, r := range ix.carry {
		if ix.owned[topicPartition{r.Topic, r.Partition}] {
			kept = append(kept, r)
		}
	}
	clear(ix.carry[len(kept):])
	ix.carry = kept
	ix.carried.Set(recordsBytes(kept))
}

func (ix *Indexer) loop(ctx context.Context) error {
	limit := ix.cfg.Batch.MaxDocs * ix.cfg.Batch.Concurrency
	for {
		if err := ix.gate.Wait(ctx); err != nil {
			return nil
		}
		recs, err := ix.collect(ctx, limit)
		if err != nil {
			ix.consumer.AllowRebalance()
			return nil
		}
		if len(recs) == 0 {
			ix.consumer.AllowRebalance()
			continue
		}
		if err := ix.deliver(ctx, recs); err != nil {
			ix.consumer.AllowRebalance()
			if service.Aborted(ctx) {
				return nil
			}
			return err
		}
		if service.Aborted(ctx) {
			ix.consumer.AllowRebalance()
			return nil
		}
		ix.mark(recs)
		ix.inFlight.Set(0)
		ix.consumer.AllowRebalance()
	}
}

// mark marks the round's records for commit, except those of partitions
// given up meanwhile: their next owner reads them again (409s), and an
// offset committed for a partition this replica no longer owns could move
// its owner's position.
func (ix *Indexer) mark(recs []*kgo.Record) {
	ix.mu.Lock()
	ok := recs
	for i, r := range recs {
		if !ix.owned[topicPartition{r.Topic, r.Partition}] {
			ok = make([]*kgo.Record, 0, len(recs))
			ok = append(ok, recs[:i]...)
			for _, r := range recs[i+1:] {
				if ix.owned[topicPartition{r.Topic, r.Partition}] {
					ok = append(ok, r)
				}
			}
			break
		}
	}
	ix.mu.Unlock()
	ix.consumer.MarkCommitRecords(ok...)
}

func recordBytes(r *kgo.Record) int64 { return int64(len(r.Value) + len(r.Key)) }

func recordsBytes(rs []*kgo.Record) int64 {
	var n int64
	for _, r := range rs {
		n += recordBytes(r)
	}
	return n
}

// collect gathers a round: up to limit records and roundBytes bytes,
// waiting at most FlushInterval after the first record for it to fill. It
// starts with the records carried over from the last round and carries
// over what a poll returned beyond the budget (keeping each partition's
// order). It returns an error only when ctx ended before anything was
// fetched.
func (ix *Indexer) collect(ctx context.Context, limit int) ([]*kgo.Record, error) {
	ix.mu.Lock()
	var recs []*kgo.Record
	for _, r := range ix.carry {
		if ix.owned[topicPartition{r.Topic, r.Partition}] {
			recs = append(recs, r)
		}
	}
	ix.carry = nil
	ix.mu.Unlock()
	// The carry was within budget when it was fetched; the bound is
	// enforced again here in case the configuration made it smaller.
	var size int64
	var over []*kgo.Record
	for i, r := range recs {
		if i > 0 && (i >= limit || size+recordBytes(r) > ix.roundBytes) {
			over = recs[i:]
			recs = recs[:i]
			break
		}
		size += recordBytes(r)
	}
	// pollCtx ends FlushInterval after the round's first record.
	pollCtx, endPoll := context.WithCancel(ctx)
	defer endPoll()
	var flush *time.Timer
	startFlush := func() {
		if flush == nil && len(recs) > 0 {
			flush = time.AfterFunc(ix.cfg.Batch.FlushInterval.D(), endPoll)
		}
	}
	defer func() {
		if flush != nil {
			flush.Stop()
		}
	}()
	startFlush()
	full := len(over) > 0
	for !full && len(recs) < limit && size < ix.roundBytes {
		pctx, endIdle := pollCtx, context.CancelFunc(func() {})
		if len(recs) == 0 {
			// A rebalance waits for a poll in progress to return (with
			// BlockRebalanceOnPoll), and no records come during one: an
			// idle poll must give up now and then to let it through.
			pctx, endIdle = context.WithTimeout(pollCtx, ix.cfg.Batch.FlushInterval.D())
		}
		fetches := ix.consumer.PollRecords(pctx, limit-len(recs))
		endIdle()
		if fetches.IsClientClosed() {
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				ix.log.Warn("fetch error", "topic", t, "partition", p, "err", err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			n := recordBytes(r)
			// Once one record is carried, every later one is too, so no
			// partition's records are delivered out of order.
			if full || len(recs) >= limit || (len(recs) > 0 && size+n > ix.roundBytes) {
				full = true
				over = append(over, r)
				return
			}
			recs = append(recs, r)
			size += n
		})
		if pollCtx.Err() != nil || len(recs) == 0 {
			break
		}
		startFlush()
	}
	if len(over) > 0 {
		ix.mu.Lock()
		ix.carry = append(over, ix.carry...)
		ix.carried.Set(recordsBytes(ix.carry))
		ix.mu.Unlock()
	} else {
		ix.carried.Set(0)
	}
	if len(recs) == 0 && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	ix.inFlight.Set(size)
	if size > ix.inFlightPeak.Load() {
		ix.inFlightPeak.Set(size)
	}
	return recs, nil
}

// deliver writes recs until every one is accepted or dead-lettered. Whole
// rounds are retried with backoff while the search engine refuses some
// documents for a retryable reason; ctx ending stops the retries and returns
// an error (the offsets stay uncommitted).
// account counts one document for its container (the record key is
// "<namespace>/<pod>/<container>").
func (ix *Indexer) account(r *kgo.Record, f telemetry.Field) {
	ns, rest, _ := strings.Cut(string(r.Key), "/")
	pod, container, _ := strings.Cut(rest, "/")
	ix.accounts.Add(ns, pod, container, f, 1)
}

func (ix *Indexer) deliver(ctx context.Context, recs []*kgo.Record) error {
	// One span per round, continuing the trace of a sampled line.
	ctx, span := ix.tel.StartBatch(ctx, "index", recs)
	defer span.End()
	docs := make([]bulk.Doc, len(recs))
	for i, r := range recs {
		docs[i] = ix.toDoc(r)
	}
	ix.consumed.Add(int64(len(recs)))
	pending := make([]int, len(recs)) // indexes into recs still to deliver
	for i := range pending {
		pending[i] = i
	}
	attempts := make([]int, len(recs))
	backoff := ix.cfg.Elasticsearch.BackoffMin.D()
	maxBackoff := ix.cfg.Elasticsearch.BackoffMax.D()
	for round := 1; ; round++ {
		ix.rounds.Add(1)
		results := ix.send(ctx, docs, pending)
		if service.Aborted(ctx) {
			return fmt.Errorf("aborted with %d documents in flight: %w", len(pending), context.Cause(ctx))
		}
		var dlq []*kgo.Record
		next := pending[:0:0]
		var sample bulk.Result
		for k, i := range pending {
			res := results[k]
			switch res.Outcome {
			case bulk.Created:
				ix.indexed.Add(1)
				ix.account(recs[i], telemetry.LinesIndexed)
			case bulk.Exists:
				ix.exists.Add(1)
			case bulk.Permanent:
				dlq = append(dlq, ix.deadLetter(recs[i], res))
				ix.account(recs[i], telemetry.LinesDeadLettered)
			default:
				// A whole request that failed says the search engine is
				// down or overloaded, not that this document is bad: it is
				// retried until it succeeds or the service stops, while
				// Kafka holds the backlog. A document refused on its own
				// counts against MaxRetries.
				sample = res
				if res.ErrorType != ErrorTypeRequest {
					attempts[i]++
					ix.itemRetries.Add(1)
				}
				if max := ix.cfg.Elasticsearch.MaxRetries; max >= 0 && attempts[i] > max {
					res.Reason = fmt.Sprintf("gave up after %d attempts: %s", attempts[i], res.Reason)
					dlq = append(dlq, ix.deadLetter(recs[i], res))
					ix.account(recs[i], telemetry.LinesDeadLettered)
				} else {
					next = append(next, i)
				}
			}
		}
		if len(dlq) > 0 {
			if err := ix.produceDLQ(ctx, dlq); err != nil {
				return err
			}
		}
		if len(next) == 0 {
			ix.backoffMillis.Set(0)
			ix.pendingRetry.Set(0)
			return nil
		}
		pending = next
		ix.retries.Add(1)
		ix.pendingRetry.Set(int64(len(pending)))
		ix.backoffMillis.Set(backoff.Milliseconds())
		ix.log.Warn("search engine refused documents for now; retrying", "documents", len(pending), "round", round,
			"backoff", backoff, "status", sample.Status, "type", sample.ErrorType, "reason", sample.Reason)
		t := time.NewTimer(jitter(backoff))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("stopping with %d documents not yet accepted: %w", len(pending), ctx.Err())
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// ErrorTypeRequest marks results of a bulk request that failed as a whole.
const ErrorTypeRequest = sink.ErrorTypeRequest

// jitter spreads retries of several indexers over [d/2, d).
func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// send splits the pending documents into bulk requests of at most MaxDocs
// documents and MaxBytes bytes and sends up to Concurrency of them at once
// (fewer while the sink's adaptive limit is lower). Requests in flight are
// finished even when ctx ends, so their outcome is known, unless ctx was
// aborted.
func (ix *Indexer) send(ctx context.Context, docs []bulk.Doc, pending []int) []bulk.Result {
	type chunk struct{ from, to int }
	var chunks []chunk
	from, size := 0, 0
	for k, i := range pending {
		n := len(docs[i].Source) + len(docs[i].ID) + len(docs[i].Index) + 40
		if k > from && (k-from >= ix.cfg.Batch.MaxDocs || size+n > int(ix.cfg.Batch.MaxBytes)) {
			chunks = append(chunks, chunk{from, k})
			from, size = k, 0
		}
		size += n
	}
	chunks = append(chunks, chunk{from, len(pending)})
	results := make([]bulk.Result, len(pending))
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		if service.Aborted(ctx) {
			cancel()
		}
	})
	defer stop()
	sem := make(chan struct{}, ix.cfg.Batch.Concurrency)
	var wg sync.WaitGroup
	for _, c := range chunks {
		batch := make([]bulk.Doc, 0, c.to-c.from)
		for _, i := range pending[c.from:c.to] {
			batch = append(batch, docs[i])
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(c chunk, batch []bulk.Doc) {
			defer func() { <-sem; wg.Done() }()
			res := ix.sink.Index(sctx, batch)
			copy(results[c.from:c.to], res)
			ix.observe(res)
		}(c, batch)
	}
	wg.Wait()
	ix.refreshConcurrency()
	return results
}

// observe counts one sink call's answer.
func (ix *Indexer) observe(res []bulk.Result) {
	ix.bulkRequests.Add(1)
	over := false
	for _, r := range res {
		if r.Outcome == bulk.Retryable && r.ErrorType == ErrorTypeRequest {
			ix.requestFailures.Add(1)
			over = r.Status == 429
			break
		}
		if r.Status == 429 {
			over = true
		}
	}
	if over {
		ix.overloaded.Add(1)
	}
	ix.refreshConcurrency()
}

// refreshConcurrency copies the sink's adaptive limit into the gauges.
func (ix *Indexer) refreshConcurrency() {
	c, ok := ix.sink.(concurrencyReporter)
	if !ok {
		return
	}
	limit, n := c.Concurrency()
	ix.concLimit.Set(int64(limit))
	ix.concInFlight.Set(int64(n))
	if int64(n) > ix.maxIn.Load() {
		ix.maxIn.Set(int64(n))
	}
}

// toDoc takes the _id and index from the headers; the configured router
// may rename the index. Called from the loop goroutine only (the router is
// not safe for concurrent use).
func (ix *Indexer) toDoc(r *kgo.Record) bulk.Doc {
	d := bulk.Doc{Source: r.Value}
	var header string
	for _, h := range r.Headers {
		switch h.Key {
		case record.HeaderID:
			d.ID = string(h.Value)
		case record.HeaderIndex:
			header = string(h.Value)
		}
	}
	d.Index = ix.router.Name(header, r.Value, r.Timestamp)
	if d.ID == "" {
		// A record without an _id (produced by something else than the
		// parser) gets one from its Kafka coordinates, which are stable.
		d.ID = record.ID("kafka", r.Topic+"/"+strconv.Itoa(int(r.Partition)), r.Offset)
	}
	return d
}

// maxReasonBytes bounds the reason header of a dead letter.
const maxReasonBytes = 4 << 10

func (ix *Indexer) deadLetter(r *kgo.Record, res bulk.Result) *kgo.Record {
	ix.log.Warn("dead-lettering document", "partition", r.Partition, "offset", r.Offset,
		"status", res.Status, "type", res.ErrorType, "reason", res.Reason)
	reason := res.Reason
	if len(reason) > maxReasonBytes {
		reason = reason[:maxReasonBytes]
	}
	h := make([]kgo.RecordHeader, 0, len(r.Headers)+7)
	for _, x := range r.Headers {
		switch x.Key {
		case record.HeaderStage, record.HeaderStatus, record.HeaderErrorType, record.HeaderReason,
			record.HeaderTopic, record.HeaderPartition, record.HeaderOffset:
			// A replayed dead letter that fails again says why this time.
		default:
			h = append(h, x)
		}
	}
	h = append(h,
		kgo.RecordHeader{Key: record.HeaderStage, Value: []byte("indexer")},
		kgo.RecordHeader{Key: record.HeaderStatus, Value: []byte(strconv.Itoa(res.Status))},
		kgo.RecordHeader{Key: record.HeaderErrorType, Value: []byte(res.ErrorType)},
		kgo.RecordHeader{Key: record.HeaderReason, Value: []byte(reason)},
		kgo.RecordHeader{Key: record.HeaderTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: record.HeaderPartition, Value: []byte(strconv.Itoa(int(r.Partition)))},
		kgo.RecordHeader{Key: record.HeaderOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
	)
	return &kgo.Record{Topic: ix.cfg.Kafka.DLQTopic, Key: r.Key, Value: r.Value, Headers: h}
}

func (ix *Indexer) produceDLQ(ctx context.Context, recs []*kgo.Record) error {
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := ix.producer.ProduceSync(pctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("producing to the dead-letter topic: %w", err)
	}
	ix.deadLetters.Add(int64(len(recs)))
	return nil
}

// State implements admin.Service.
func (ix *Indexer) State() string {
	switch {
	case ix.draining.Load():
		return "draining"
	case ix.gate.Paused():
		return "paused"
	}
	return "running"
}

// Stats implements admin.Service. Besides the counters it reports the
// adaptive concurrency (bulk_concurrency_limit, bulk_requests_in_flight)
// and the backoff state (retry_backoff_ms, documents_pending_retry).
func (ix *Indexer) Stats(ctx context.Context) *adminv1.GetStatsResponse {
	ix.refreshConcurrency()
	return &adminv1.GetStatsResponse{Counters: ix.tel.Snapshot(), InFlightBytes: ix.inFlight.Load() + ix.carried.Load(),
		Lag: kafka.GroupLag(ctx, ix.lagClient.Load(), ix.cfg.Kafka.Group)}
}

// Pause implements admin.Service.
func (ix *Indexer) Pause() { ix.gate.Pause() }

// Resume implements admin.Service.
func (ix *Indexer) Resume() { ix.gate.Resume() }

// ConfigDigest implements admin.Service.
func (ix *Indexer) ConfigDigest() string { return ix.digest }

// Reload implements admin.Service. The indexer's settings all shape its
// connections, so a change needs a restart; Reload validates and says so.
func (ix *Indexer) Reload(context.Context, []byte) (string, error) {
	return "", errors.New("the indexer applies configuration changes on restart")
}
