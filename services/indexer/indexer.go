// Package indexer is the indexer service: a Kafka consumer group on the
// parsed topic that writes documents to Elasticsearch or OpenSearch with the
// bulk API.
//
// The indexer is a handler on libs/stage, which owns the consumer, the
// commits, rebalances, static membership, the dead-letter path and the
// admin controls (see its package doc for the contract). What is the
// indexer's own: delivering a batch to the sink.
//
// Documents arrive as their final JSON _source with _id and index in record
// headers, so a bulk body is built by concatenation, never by re-encoding.
// Every document is written with op_type=create and its deterministic _id: a
// replay after a crash is answered 409 and counted as already indexed. The
// index may be overridden by configuration (see internal/indexname); the
// name depends only on the record, so a replay lands where the first write
// did.
//
// A batch (a round) is up to MaxDocs×Concurrency records and
// MaxBytes×Concurrency bytes, or what arrived within FlushInterval. It is
// delivered as bulk requests of at most MaxDocs and MaxBytes, up to
// Concurrency in flight under an adaptive limit (bulk.Limiter: halved on
// 429s and slow answers), and its offsets are committed only when every
// record in it was accepted (created or already there) or dead-lettered.
// Failures are classed once: a document the engine refuses for good
// (mapping conflict, malformed) is permanent and dead-lettered with the
// status and reason; a 429, a 5xx or a request failed as a whole is
// retryable and sent again, with the stage's backoff, until it is accepted
// — elasticsearch.max_retries and max_retry_age, both off by default, may
// bound that. Meanwhile nothing new is fetched: the backlog waits in Kafka
// and the documents held stay within the round's byte budget.
package indexer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/kafka"
	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/libs/stage"
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

// Indexer is one indexer replica. The embedded runtime answers the admin
// API's State, Pause, Resume and ConfigDigest; Stats adds the indexer's
// own figures.
type Indexer struct {
	*stage.Runtime

	cfg    config.Config
	log    *slog.Logger
	tel    *telemetry.Telemetry
	sink   Sink
	router *indexname.Router
	retry  stage.Policy
	// clientOpts connect the admin API's dead-letter readers.
	clientOpts []kgo.Opt

	// accounts counts indexed and dead-lettered lines per container.
	accounts *telemetry.Accounts

	consumed, indexed, exists, retries, rounds             *telemetry.Counter
	bulkRequests, requestFailures, itemRetries, overloaded *telemetry.Counter
	inFlightPeak, inFlightLimit                            *telemetry.Gauge
	concLimit, concInFlight, pendingRetry, maxIn           *telemetry.Gauge
	// backoff is the current wait before the next retry round.
	backoff *telemetry.DurationGauge
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
	ix := &Indexer{cfg: cfg, log: log, tel: tel, sink: sink, router: router, accounts: accounts}
	ix.retry = stage.Policy{Min: cfg.Elasticsearch.BackoffMin.D(), Max: cfg.Elasticsearch.BackoffMax.D(), MaxAge: cfg.Elasticsearch.MaxRetryAge.D()}
	roundBytes := int64(cfg.Batch.MaxBytes) * int64(cfg.Batch.Concurrency)
	ix.consumed = tel.Counter("records_consumed", "Parsed records consumed.")
	ix.indexed = tel.Counter("documents_indexed", "Documents the search engine created.")
	ix.exists = tel.Counter("documents_already_indexed", "Documents answered 409: indexed before (a replay).")
	ix.retries = tel.Counter("batch_retries", "Rounds retried because some documents were not yet accepted.")
	ix.rounds = tel.Counter("bulk_rounds", "Rounds of bulk requests sent.")
	ix.bulkRequests = tel.Counter("bulk_requests", "Bulk requests sent.")
	ix.requestFailures = tel.Counter("bulk_request_failures", "Bulk requests that failed as a whole (retried without counting against max_retries).")
	ix.itemRetries = tel.Counter("documents_retried", "Documents refused for a retryable reason (429, 5xx, es_rejected_execution_exception) and sent again.")
	ix.overloaded = tel.Counter("bulk_overloaded", "Bulk requests answered 429, as a whole or for some items.")
	ix.inFlightPeak = tel.Gauge("in_flight_bytes_peak", "Largest in_flight_bytes since start.")
	ix.inFlightLimit = tel.Gauge("in_flight_bytes_limit", "Bound on in_flight_bytes: batch.max_bytes × batch.concurrency.")
	ix.concLimit = tel.Gauge("bulk_concurrency_limit", "Adaptive limit on bulk requests in flight.")
	ix.concInFlight = tel.Gauge("bulk_requests_in_flight", "Bulk requests in flight.")
	ix.maxIn = tel.Gauge("bulk_requests_in_flight_peak", "Most bulk requests in flight at once since start.")
	ix.backoff = tel.DurationGauge("retry_backoff", "Current wait before the next retry round, 0 when not retrying.")
	ix.pendingRetry = tel.Gauge("documents_pending_retry", "Documents waiting for a retry round.")
	ix.inFlightLimit.Set(roundBytes)
	ix.concLimit.Set(int64(cfg.Batch.Concurrency))

	base, err := kafka.ClientOpts(cfg.Kafka.Kafka)
	if err != nil {
		return nil, err
	}
	ix.clientOpts = base
	// The client's fetch buffer comes on top of the round: one response of
	// at most fetchMax bytes (counted compressed) per broker. Limiting the
	// fetches in flight instead (MaxConcurrentFetches) would let long polls
	// to idle brokers hold the slots while another broker has data.
	fetchMax := fetchMaxBytes(roundBytes)
	ix.Runtime, err = stage.New(stage.Config{
		Stage:           record.StageIndexer,
		Group:           cfg.Kafka.Group,
		Topics:          []string{cfg.Kafka.Topic},
		DeadLetterTopic: cfg.Kafka.DLQTopic,
		ClientOpts:      append(append([]kgo.Opt{}, base...), tel.KafkaOpts()...),
		ConsumerOpts: []kgo.Opt{
			kgo.WithLogger(kafka.Logger(log)),
			kgo.FetchMaxBytes(fetchMax),
			kgo.FetchMaxPartitionBytes(min(fetchMax, 1<<20)),
		},
		ProducerOpts:    []kgo.Opt{kgo.MaxBufferedBytes(64 << 20)},
		InstanceID:      cfg.Kafka.InstanceID,
		MaxBatchRecords: cfg.Batch.MaxDocs * cfg.Batch.Concurrency,
		MaxBatchBytes:   roundBytes,
		Linger:          cfg.Batch.FlushInterval.D(),
		Retry:           ix.retry,
		Log:             log,
		Telemetry:       tel,
		Digest:          digest,
	}, stage.HandlerFunc(ix.deliver))
	if err != nil {
		return nil, err
	}
	return ix, nil
}

// fetchMaxBytes is the consumer's fetch size for a round of roundBytes.
// The client fetches ahead while a round is delivered and decompresses a
// whole response before it is polled, so a response of fetchMax bytes
// (counted compressed) holds about its compression ratio times that
// (4-5× for JSON documents under lz4) on top of the round. A sixteenth of the
// round keeps that near a quarter of it: at the default 5 MiB × 4 a response
// is 1.25 MiB, a few thousand documents, so a round still takes a handful
// of fetches from a local broker. Bounded to 256 KiB .. 64 MiB.
func fetchMaxBytes(roundBytes int64) int32 {
	return int32(min(max(roundBytes/16, 256<<10), 64<<20))
}

// MemoryBudget is the indexer's working set for cfg, the default Go memory
// limit (service.SetMemoryLimit): the round of records being delivered
// (batch.max_bytes × batch.concurrency), as much again in bulk bodies
// (each request's NDJSON, plus its gzip copy when on), the fetch response
// buffered meanwhile (decompressed, see fetchMaxBytes; one broker's worth),
// and 32 MiB for the runtime, the clients and the bulk answers.
func MemoryBudget(cfg config.Config) int64 {
	round := int64(cfg.Batch.MaxBytes) * int64(cfg.Batch.Concurrency)
	bodies := round
	if cfg.Elasticsearch.Gzip {
		bodies += round / 4
	}
	return round + bodies + 5*int64(fetchMaxBytes(round)) + 32<<20
}

// Telemetry returns the indexer's metrics.
func (ix *Indexer) Telemetry() *telemetry.Telemetry { return ix.tel }

// account counts one document for its container (the record key is
// "<namespace>/<pod>/<container>").
func (ix *Indexer) account(r *kgo.Record, f telemetry.Field) {
	ns, pod, container := record.SplitKey(r.Key)
	ix.accounts.Add(ns, pod, container, f, 1)
}

// deliver writes a batch until every document is accepted or
// dead-lettered. Documents refused for a retryable reason are sent again
// after a backoff for as long as it takes (unless max_retries or
// max_retry_age say otherwise); the service stopping ends the waiting with
// an error, and the batch is not committed.
func (ix *Indexer) deliver(ctx context.Context, b *stage.Batch) error {
	recs := b.Records
	if size := recordsBytes(recs); size > ix.inFlightPeak.Load() {
		ix.inFlightPeak.Set(size)
	}
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
	var refused []time.Time // first refusal of each document, when MaxAge is on
	if ix.retry.MaxAge > 0 {
		refused = make([]time.Time, len(recs))
	}
	for round := 1; ; round++ {
		ix.rounds.Add(1)
		results := ix.send(ctx, docs, pending)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("aborted with %d documents in flight: %w", len(pending), err)
		}
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
				ix.deadLetter(b, recs[i], res, stage.Permanent, "")
			default:
				// A whole request that failed says the search engine is
				// down or overloaded, not that this document is bad: it
				// never counts against the limits.
				sample = res
				if res.ErrorType != ErrorTypeRequest {
					attempts[i]++
					ix.itemRetries.Add(1)
					if refused != nil && refused[i].IsZero() {
						refused[i] = time.Now()
					}
				}
				switch max := ix.cfg.Elasticsearch.MaxRetries; {
				case max >= 0 && attempts[i] > max:
					ix.deadLetter(b, recs[i], res, stage.Retryable, fmt.Sprintf("%s: gave up after %d attempts", stage.ReasonExpired, attempts[i]))
				case refused != nil && !refused[i].IsZero() && ix.retry.Expired(refused[i]):
					ix.deadLetter(b, recs[i], res, stage.Retryable, fmt.Sprintf("%s: still refused after %v", stage.ReasonExpired, ix.retry.MaxAge))
				default:
					next = append(next, i)
				}
			}
		}
		if len(next) == 0 {
			ix.backoff.Set(0)
			ix.pendingRetry.Set(0)
			return nil
		}
		pending = next
		ix.retries.Add(1)
		wait := ix.retry.Backoff(round, 0)
		ix.pendingRetry.Set(int64(len(pending)))
		ix.backoff.Set(wait)
		ix.log.Warn("search engine refused documents for now; retrying", "documents", len(pending), "round", round,
			"backoff", wait, "status", sample.Status, "type", sample.ErrorType, "reason", sample.Reason)
		if !stage.Sleep(b.Stopping(), wait) {
			return fmt.Errorf("stopping with %d documents not yet accepted: %w", len(pending), context.Cause(b.Stopping()))
		}
	}
}

// deadLetter sends r to the dead-letter topic with the engine's answer.
func (ix *Indexer) deadLetter(b *stage.Batch, r *kgo.Record, res bulk.Result, class stage.Class, prefix string) {
	reason := res.Reason
	if prefix != "" {
		reason = prefix + ": " + reason
	}
	d := record.NewDeadLetter(record.StageIndexer, class.String(), reason, r)
	d.Status, d.ErrorType = res.Status, res.ErrorType
	b.DeadLetterWith(r, d)
	ix.account(r, telemetry.LinesDeadLettered)
}

func recordsBytes(rs []*kgo.Record) int64 {
	var n int64
	for _, r := range rs {
		n += int64(len(r.Value) + len(r.Key))
	}
	return n
}

// ErrorTypeRequest marks results of a bulk request that failed as a whole.
const ErrorTypeRequest = sink.ErrorTypeRequest

// send splits the pending documents into bulk requests of at most MaxDocs
// documents and MaxBytes bytes and sends up to Concurrency of them at once
// (fewer while the sink's adaptive limit is lower). ctx ends only on an
// abort: on a graceful stop, requests in flight are finished so their
// outcome is known.
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
	sctx := ctx
	sem := make(chan struct{}, ix.cfg.Batch.Concurrency)
	var wg sync.WaitGroup
	for _, c := range chunks {
		// pending is increasing, so a chunk whose ends are as far apart as
		// its length is a run of docs (every chunk of a first round): sent
		// as a subslice rather than a copy.
		var batch []bulk.Doc
		if first, last := pending[c.from], pending[c.to-1]; last-first == c.to-c.from-1 {
			batch = docs[first : last+1]
		} else {
			batch = make([]bulk.Doc, 0, c.to-c.from)
			for _, i := range pending[c.from:c.to] {
				batch = append(batch, docs[i])
			}
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
	// In datastream mode the source also gets the stream's data_stream.* and
	// event.dataset (spliced, copied only when they are missing or differ).
	d.Index, d.Source = ix.router.Route(header, r.Value, r.Timestamp)
	if d.ID == "" {
		// A record without an _id (produced by something else than the
		// parser) gets one from its Kafka coordinates, which are stable.
		d.ID = record.ID("kafka", r.Topic+"/"+strconv.Itoa(int(r.Partition)), r.Offset)
	}
	return d
}

// Stats implements admin.Service. Besides the counters and lag it reports
// the bytes in flight, the adaptive concurrency (bulk_concurrency_limit,
// bulk_requests_in_flight) and the backoff state (retry_backoff_ms,
// documents_pending_retry).
func (ix *Indexer) Stats(ctx context.Context) *adminv1.GetStatsResponse {
	ix.refreshConcurrency()
	resp := ix.Runtime.Stats(ctx)
	resp.InFlightBytes = ix.InFlightBytes()
	return resp
}

// RunningConfig implements admin.ConfigSource. The indexer's configuration
// does not change after New.
func (ix *Indexer) RunningConfig() any { return ix.cfg }

// Reload implements admin.Service. The indexer's settings all shape its
// connections, so a change needs a restart; Reload validates and says so.
func (ix *Indexer) Reload(context.Context, []byte) (string, error) {
	return "", errors.New("the indexer applies configuration changes on restart")
}
