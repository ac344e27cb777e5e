// Package indexer is the indexer service: a Kafka consumer group on the
// parsed topic that writes documents to Elasticsearch or OpenSearch with the
// bulk API.
//
// Documents arrive as their final JSON _source with _id and index in record
// headers, so a bulk body is built by concatenation, never by re-encoding.
// Every document is written with op_type=create and its deterministic _id: a
// replay after a crash is answered 409 and counted as already indexed.
//
// Offsets are marked only for records the search engine accepted (created or
// already there) or the dead-letter topic acknowledged; a batch with any
// record in neither state is retried, and the partition does not move past
// it. While the search engine is slow, the loop does not fetch: Kafka holds
// the backlog, and memory stays within Concurrency × MaxBytes.
package indexer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
	"github.com/sluice-io/sluice/services/indexer/config"
	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
	"github.com/sluice-io/sluice/services/indexer/internal/sink"
)

// Version is set at build time.
var Version = "dev"

// Sink writes documents and reports each one's outcome, in order.
type Sink interface {
	Index(ctx context.Context, docs []bulk.Doc) []bulk.Result
}

// Indexer is one indexer replica.
type Indexer struct {
	cfg    config.Config
	digest string
	log    *slog.Logger
	tel    *telemetry.Telemetry
	gate   admin.Gate
	sink   Sink

	consumer *kgo.Client
	producer *kgo.Client
	draining atomic.Bool

	consumed, indexed, exists, deadLetters, retries, bulkRequests *telemetry.Counter
	inFlight                                                      *telemetry.Gauge
}

// New builds an indexer writing to sink.
func New(cfg config.Config, digest string, sink Sink, log *slog.Logger) (*Indexer, error) {
	tel, err := telemetry.New("indexer")
	if err != nil {
		return nil, err
	}
	ix := &Indexer{cfg: cfg, digest: digest, log: log, tel: tel, sink: sink}
	ix.consumed = tel.Counter("records_consumed", "Parsed records consumed.")
	ix.indexed = tel.Counter("documents_indexed", "Documents the search engine created.")
	ix.exists = tel.Counter("documents_already_indexed", "Documents answered 409: indexed before (a replay).")
	ix.deadLetters = tel.Counter("dead_letters", "Documents sent to the dead-letter topic.")
	ix.retries = tel.Counter("batch_retries", "Batches retried because some documents were not yet accepted.")
	ix.bulkRequests = tel.Counter("bulk_rounds", "Rounds of bulk requests sent.")
	ix.inFlight = tel.Gauge("in_flight_bytes", "Bytes of documents fetched and not yet committed.")
	return ix, nil
}

// Telemetry returns the indexer's metrics.
func (ix *Indexer) Telemetry() *telemetry.Telemetry { return ix.tel }

// Run consumes until ctx ends, then finishes the round in hand, commits and
// leaves the group.
func (ix *Indexer) Run(ctx context.Context) error {
	cfg := ix.cfg
	base, err := kafka.ClientOpts(cfg.Kafka.Kafka)
	if err != nil {
		return err
	}
	ix.producer, err = kgo.NewClient(append(base, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedBytes(64<<20))...)
	if err != nil {
		return fmt.Errorf("kafka producer: %w", err)
	}
	defer ix.producer.Close()
	maxBytes := int32(cfg.Batch.MaxBytes) * int32(cfg.Batch.Concurrency)
	if maxBytes < 1<<20 {
		maxBytes = 1 << 20
	}
	ix.consumer, err = kgo.NewClient(append(base,
		kgo.ConsumerGroup(cfg.Kafka.Group),
		kgo.ConsumeTopics(cfg.Kafka.Topic),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(time.Second),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchMaxBytes(maxBytes),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
			if err := cl.CommitMarkedOffsets(ctx); err != nil {
				ix.log.Warn("commit on revoke failed", "err", err)
			}
		}),
	)...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	defer ix.consumer.Close()

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
		ix.consumer.MarkCommitRecords(recs...)
		ix.inFlight.Set(0)
		ix.consumer.AllowRebalance()
	}
}

// collect fetches up to limit records, waiting at most FlushInterval after
// the first one for a round to fill. It returns an error only when ctx ended
// before anything was fetched.
func (ix *Indexer) collect(ctx context.Context, limit int) ([]*kgo.Record, error) {
	maxBytes := int64(ix.cfg.Batch.MaxBytes) * int64(ix.cfg.Batch.Concurrency)
	var recs []*kgo.Record
	var size int64
	var deadline context.Context
	var cancel context.CancelFunc = func() {}
	defer func() { cancel() }()
	pollCtx := ctx
	for len(recs) < limit && size < maxBytes {
		fetches := ix.consumer.PollRecords(pollCtx, limit-len(recs))
		if fetches.IsClientClosed() {
			return recs, nil
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				ix.log.Warn("fetch error", "topic", t, "partition", p, "err", err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			recs = append(recs, r)
			size += int64(len(r.Value))
		})
		if ctx.Err() != nil {
			if len(recs) == 0 {
				return nil, ctx.Err()
			}
			return recs, nil
		}
		if deadline == nil && len(recs) > 0 {
			deadline, cancel = context.WithTimeout(ctx, ix.cfg.Batch.FlushInterval.D())
			pollCtx = deadline
		}
		if deadline != nil && deadline.Err() != nil {
			break
		}
	}
	ix.inFlight.Set(size)
	return recs, nil
}

// deliver writes recs until every one is accepted or dead-lettered. Whole
// rounds are retried with backoff while the search engine refuses some
// documents for a retryable reason; ctx ending stops the retries and returns
// an error (the offsets stay uncommitted).
func (ix *Indexer) deliver(ctx context.Context, recs []*kgo.Record) error {
	docs := make([]bulk.Doc, len(recs))
	for i, r := range recs {
		docs[i] = toDoc(r)
		ix.consumed.Add(1)
	}
	pending := make([]int, len(recs)) // indexes into recs still to deliver
	for i := range pending {
		pending[i] = i
	}
	attempts := make([]int, len(recs))
	backoff := 100 * time.Millisecond
	for round := 1; ; round++ {
		ix.bulkRequests.Add(1)
		results := ix.send(ctx, docs, pending)
		var dlq []*kgo.Record
		next := pending[:0:0]
		for k, i := range pending {
			res := results[k]
			switch res.Outcome {
			case bulk.Created:
				ix.indexed.Add(1)
			case bulk.Exists:
				ix.exists.Add(1)
			case bulk.Permanent:
				dlq = append(dlq, ix.deadLetter(recs[i], res))
			default:
				// A whole request that failed says the search engine is
				// down or overloaded, not that this document is bad: it is
				// retried until it succeeds or the service stops, while
				// Kafka holds the backlog. A document refused on its own
				// counts against MaxRetries.
				if res.ErrorType != ErrorTypeRequest {
					attempts[i]++
				}
				if max := ix.cfg.Elasticsearch.MaxRetries; max >= 0 && attempts[i] > max {
					res.Reason = fmt.Sprintf("gave up after %d attempts: %s", attempts[i], res.Reason)
					dlq = append(dlq, ix.deadLetter(recs[i], res))
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
			return nil
		}
		pending = next
		ix.retries.Add(1)
		ix.log.Warn("search engine refused documents for now; retrying", "documents", len(pending), "round", round,
			"backoff", backoff, "status", results[0].Status, "reason", results[0].Reason)
		select {
		case <-time.After(jitter(backoff)):
		case <-ctx.Done():
			return fmt.Errorf("stopping with %d documents not yet accepted: %w", len(pending), ctx.Err())
		}
		if backoff *= 2; backoff > maxBackoff {
			backoff = maxBackoff
		}
	}
}

const maxBackoff = 30 * time.Second

// ErrorTypeRequest marks results of a bulk request that failed as a whole.
const ErrorTypeRequest = sink.ErrorTypeRequest

// jitter spreads retries of several indexers over [d/2, d).
func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// send splits the pending documents into bulk requests of at most MaxDocs
// documents and MaxBytes bytes and sends up to Concurrency of them at once.
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
	sem := make(chan struct{}, ix.cfg.Batch.Concurrency)
	var wg sync.WaitGroup
	sctx := context.WithoutCancel(ctx)
	for _, c := range chunks {
		batch := make([]bulk.Doc, 0, c.to-c.from)
		for _, i := range pending[c.from:c.to] {
			batch = append(batch, docs[i])
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(c chunk, batch []bulk.Doc) {
			defer func() { <-sem; wg.Done() }()
			copy(results[c.from:c.to], ix.sink.Index(sctx, batch))
		}(c, batch)
	}
	wg.Wait()
	return results
}

func toDoc(r *kgo.Record) bulk.Doc {
	d := bulk.Doc{Source: r.Value}
	for _, h := range r.Headers {
		switch h.Key {
		case record.HeaderID:
			d.ID = string(h.Value)
		case record.HeaderIndex:
			d.Index = string(h.Value)
		}
	}
	if d.Index == "" {
		d.Index = "logs-" + time.Now().UTC().Format("2006.01.02")
	}
	if d.ID == "" {
		// A record without an _id (produced by something else than the
		// parser) gets one from its Kafka coordinates, which are stable.
		d.ID = record.ID("kafka", r.Topic+"/"+strconv.Itoa(int(r.Partition)), r.Offset)
	}
	return d
}

func (ix *Indexer) deadLetter(r *kgo.Record, res bulk.Result) *kgo.Record {
	ix.log.Warn("dead-lettering document", "partition", r.Partition, "offset", r.Offset,
		"status", res.Status, "type", res.ErrorType, "reason", res.Reason)
	h := append([]kgo.RecordHeader(nil), r.Headers...)
	h = append(h,
		kgo.RecordHeader{Key: record.HeaderStage, Value: []byte("indexer")},
		kgo.RecordHeader{Key: record.HeaderStatus, Value: []byte(strconv.Itoa(res.Status))},
		kgo.RecordHeader{Key: record.HeaderErrorType, Value: []byte(res.ErrorType)},
		kgo.RecordHeader{Key: record.HeaderReason, Value: []byte(res.Reason)},
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

// Stats implements admin.Service.
func (ix *Indexer) Stats(context.Context) *adminv1.GetStatsResponse {
	return &adminv1.GetStatsResponse{Counters: ix.tel.Snapshot(), InFlightBytes: ix.inFlight.Load()}
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
