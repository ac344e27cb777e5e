package stage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/admin"
	"github.com/sluice-io/sluice/libs/service"
	"github.com/sluice-io/sluice/libs/telemetry"
)

// Handler is what a service supplies: the work on one batch.
//
// Handle gives every record of b an outcome — an output handed to
// b.Produce, a dead letter (b.DeadLetter), or nothing to emit — and
// returns once it has. It may work on several partitions at once but must
// keep each partition's records in order. An error it returns is of the
// whole batch: a Fatal one ends Run, any other makes the runtime wait
// (Policy) and hand it the same batch again. Handle must stop promptly
// when ctx ends with the service's abort.
type Handler interface {
	Handle(ctx context.Context, b *Batch) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, b *Batch) error

// Handle implements Handler.
func (f HandlerFunc) Handle(ctx context.Context, b *Batch) error { return f(ctx, b) }

// Config configures a Runtime. Zero values take the defaults given.
type Config struct {
	// Stage names the service in dead letters ("parser", "indexer").
	Stage string
	// Group is the consumer group; Topics are consumed from their start
	// when the group has no offset.
	Group  string
	Topics []string
	// DeadLetterTopic receives the dead letters.
	DeadLetterTopic string
	// OutputTopic, when set, is the topic the handler produces to: its
	// max.message.bytes is read at start and bounds the output records
	// (Batch.MaxRecordBytes) and the producer's batches.
	OutputTopic string

	// ClientOpts connect to the cluster (seed brokers, TLS, SASL, hooks).
	ClientOpts []kgo.Opt
	// ConsumerOpts and ProducerOpts are added to the consumer's and the
	// producer's options (fetch sizes, compression, buffering).
	ConsumerOpts, ProducerOpts []kgo.Opt

	// InstanceID makes this replica a static member of the group
	// (group.instance.id): a replica restarted with the same ID (a
	// container restart in the same pod) gets its partitions back at once
	// instead of after the session timeout. Default: $POD_NAME, or in a
	// Kubernetes pod its hostname (the pod name); "none" disables. A
	// graceful stop leaves the group (the pod is going away); an abort (a
	// crash) does not, so the restart is quick.
	InstanceID string

	// MaxBatchRecords and MaxBatchBytes bound a batch (defaults 10000 and
	// unbounded). Linger is how long to keep polling for more after the
	// first record arrived (default 0: a batch is one poll). Records
	// polled beyond the bounds wait for the next batch, each partition's
	// order kept. A transactional stage always takes one poll.
	MaxBatchRecords int
	MaxBatchBytes   int64
	Linger          time.Duration

	// Transactional produces each batch and commits its input offsets in
	// one Kafka transaction (exactly once for read_committed readers).
	Transactional bool
	// TransactionalID defaults to "<group>-<hostname>-<random>".
	TransactionalID string
	// TransactionTimeout defaults to 30s.
	TransactionTimeout time.Duration

	// Retry is the backoff for retryable batch and produce failures.
	Retry Policy

	// Acked, when set, is called for each acknowledged output record
	// (not for dead letters), from the producer's goroutines.
	Acked func(*kgo.Record)

	Log       *slog.Logger
	Telemetry *telemetry.Telemetry
	// Digest is the configuration digest admin GetStatus reports.
	Digest string
}

// Runtime runs one Kafka consumer stage. Build it with New, run it with
// Run (once); its Controls answer the admin API meanwhile.
type Runtime struct {
	admin.Controls

	cfg     Config
	handler Handler
	log     *slog.Logger
	tel     *telemetry.Telemetry
	// lag is the group client while Run owns one, for Stats' lag queries.
	lag atomic.Pointer[kgo.Client]

	consumer *kgo.Client
	producer *kgo.Client
	sess     *kgo.GroupTransactSession
	poll     func(context.Context, int) kgo.Fetches

	maxRecordBytes, producerMaxBytes int

	// fatal is a fatal fetch error (authentication, authorization): Run
	// ends with it. Only the loop goroutine touches it.
	fatal error

	// skip holds the inputs a transaction was aborted for: on the next
	// attempt their outputs are dead-lettered instead. Only the loop
	// goroutine writes it, between batches.
	skip map[offsetKey]error

	// mu guards owned and carry, which the rebalance callbacks change
	// from the client's goroutine.
	mu    sync.Mutex
	owned map[tp]bool
	carry []*kgo.Record

	deadLetters, produceErrors, txnAborts, batchRetries *telemetry.Counter
	inFlight, carried                                   *telemetry.Gauge
}

type tp struct {
	topic     string
	partition int32
}

type offsetKey struct {
	topic     string
	partition int32
	offset    int64
}

// New builds a runtime for handler.
func New(cfg Config, handler Handler) (*Runtime, error) {
	if cfg.Group == "" || len(cfg.Topics) == 0 || cfg.DeadLetterTopic == "" || cfg.Stage == "" {
		return nil, errors.New("stage: Stage, Group, Topics and DeadLetterTopic are required")
	}
	if cfg.MaxBatchRecords <= 0 {
		cfg.MaxBatchRecords = 10000
	}
	if cfg.TransactionTimeout <= 0 {
		cfg.TransactionTimeout = 30 * time.Second
	}
	cfg.Retry = cfg.Retry.withDefaults()
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	tel := cfg.Telemetry
	if tel == nil {
		var err error
		if tel, err = telemetry.New(cfg.Stage); err != nil {
			return nil, err
		}
	}
	rt := &Runtime{cfg: cfg, handler: handler, log: cfg.Log, tel: tel, owned: map[tp]bool{}}
	rt.wireControls()
	rt.deadLetters = tel.Counter("dead_letters", "Records sent to the dead-letter topic.")
	rt.produceErrors = tel.Counter("produce_errors", "Produce failures (retried, or dead-lettered when permanent).")
	rt.txnAborts = tel.Counter("transactions_aborted", "Transactions aborted (the batch is consumed again).")
	rt.batchRetries = tel.Counter("stage_batch_retries", "Batches handed to the handler again after a retryable failure.")
	rt.inFlight = tel.Gauge("in_flight_bytes", "Bytes of records fetched and not yet committed.")
	rt.carried = tel.Gauge("carried_bytes", "Bytes fetched past a batch's budget, waiting for the next batch.")
	return rt, nil
}

// InstanceID returns the group.instance.id the runtime uses, "" for none.
func (rt *Runtime) InstanceID() string { return instanceID(rt.cfg.InstanceID) }

func instanceID(configured string) string {
	switch configured {
	case "none":
		return ""
	case "":
		if id := os.Getenv("POD_NAME"); id != "" {
			return id
		}
		// In a pod the hostname is the pod name, stable across container
		// restarts; elsewhere (a laptop, tests running several replicas in
		// one process) it would be shared, so it is not used.
		if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
			if h, err := os.Hostname(); err == nil {
				return h
			}
		}
		return ""
	}
	return configured
}

// Assigned returns the number of partitions the runtime holds.
func (rt *Runtime) Assigned() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.owned)
}

// Owned returns the partitions the runtime holds, by topic.
func (rt *Runtime) Owned() map[string][]int32 {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	m := map[string][]int32{}
	for k := range rt.owned {
		m[k.topic] = append(m[k.topic], k.partition)
	}
	return m
}

// InFlightBytes returns the bytes fetched and not yet committed.
func (rt *Runtime) InFlightBytes() int64 { return rt.inFlight.Load() + rt.carried.Load() }

func (rt *Runtime) groupOpts() []kgo.Opt {
	opts := []kgo.Opt{
		kgo.ConsumerGroup(rt.cfg.Group),
		kgo.ConsumeTopics(rt.cfg.Topics...),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { rt.assign(m, true) }),
		// Lost partitions may already be someone else's: drop what was
		// fetched for them and commit nothing.
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { rt.assign(m, false) }),
	}
	if id := rt.InstanceID(); id != "" {
		opts = append(opts, kgo.InstanceID(id))
	}
	return append(opts, rt.cfg.ConsumerOpts...)
}

func (rt *Runtime) producerOpts() []kgo.Opt {
	opts := []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}
	if rt.producerMaxBytes > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(int32(rt.producerMaxBytes)))
	}
	return append(opts, rt.cfg.ProducerOpts...)
}

// Run consumes until ctx ends, then drains: the batch in hand is finished
// and committed, and the group left. It returns nil on a clean stop and
// the error on a fatal one. A ctx cancelled with cause service.ErrAbort
// stops at once, as a crash would: the batch in hand is neither finished
// nor committed, and a static member stays in the group.
func (rt *Runtime) Run(ctx context.Context) error {
	if err := rt.readLimits(ctx); err != nil {
		return err
	}
	if rt.cfg.Transactional {
		return rt.runTransactional(ctx)
	}
	var err error
	rt.producer, err = kgo.NewClient(append(append([]kgo.Opt{}, rt.cfg.ClientOpts...), rt.producerOpts()...)...)
	if err != nil {
		return NewFatal(fmt.Errorf("kafka producer: %w", err))
	}
	defer rt.producer.Close()
	rt.consumer, err = kgo.NewClient(append(append(append([]kgo.Opt{}, rt.cfg.ClientOpts...), rt.groupOpts()...),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(time.Second),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
			rt.assign(m, false)
			if err := cl.CommitMarkedOffsets(ctx); err != nil {
				rt.log.Warn("commit on revoke failed", "err", err)
			}
		}),
	)...)
	if err != nil {
		return NewFatal(fmt.Errorf("kafka consumer: %w", err))
	}
	defer rt.consumer.Close()
	rt.poll = rt.consumer.PollRecords
	rt.lag.Store(rt.consumer)
	defer rt.lag.Store(nil)

	runErr := rt.loop(ctx)
	rt.Controls.SetDraining()
	if service.Aborted(ctx) {
		// No final commit and no leave: what was committed stays, the
		// rest is consumed again, by this replica when it restarts.
		rt.consumer.CloseAllowingRebalance()
		return runErr
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := rt.consumer.CommitMarkedOffsets(cctx); err != nil {
		rt.log.Warn("final commit failed; records since the last commit will be handled again", "err", err)
	}
	rt.consumer.CloseAllowingRebalance()
	rt.leave(cctx)
	return runErr
}

// leave removes a static member from the group on a graceful stop, which
// a closing static member does not do by itself: its partitions go to the
// other replicas now rather than after the session timeout.
func (rt *Runtime) leave(ctx context.Context) {
	id := rt.InstanceID()
	if id == "" {
		return
	}
	cl, err := kgo.NewClient(rt.cfg.ClientOpts...)
	if err != nil {
		return
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).LeaveGroup(ctx, kadm.LeaveGroup(rt.cfg.Group).InstanceIDs(id).Reason("graceful shutdown"))
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		rt.log.Warn("leaving the group as a static member failed; the partitions move after the session timeout", "instance_id", id, "err", err)
	}
}

// readLimits reads the output topic's max.message.bytes.
func (rt *Runtime) readLimits(ctx context.Context) error {
	if rt.cfg.OutputTopic == "" {
		return nil
	}
	cl, err := kgo.NewClient(rt.cfg.ClientOpts...)
	if err != nil {
		return NewFatal(fmt.Errorf("kafka: %w", err))
	}
	defer cl.Close()
	n, err := TopicMaxMessageBytes(ctx, cl, rt.cfg.OutputTopic)
	if err != nil {
		rt.log.Warn("could not read the output topic's max.message.bytes; using the producer's default", "topic", rt.cfg.OutputTopic, "err", err)
		n = defaultMaxRecordBytes
	}
	rt.maxRecordBytes = n
	// The producer's own limit is per client: the larger of the two
	// topics', so that a dead letter of a record the output topic refused
	// can still carry its value. The output limit is checked per record.
	rt.producerMaxBytes = n
	if d, err := TopicMaxMessageBytes(ctx, cl, rt.cfg.DeadLetterTopic); err == nil && d > n {
		rt.producerMaxBytes = d
	}
	return nil
}

// refreshLimit reads the output topic's max.message.bytes again after the
// broker refused an output as too large, and reports whether it changed.
// Called between attempts only (no handler running).
func (rt *Runtime) refreshLimit(ctx context.Context) bool {
	if rt.cfg.OutputTopic == "" {
		return false
	}
	cl, err := kgo.NewClient(rt.cfg.ClientOpts...)
	if err != nil {
		return false
	}
	defer cl.Close()
	n, err := TopicMaxMessageBytes(ctx, cl, rt.cfg.OutputTopic)
	if err != nil || n == rt.maxRecordBytes {
		return false
	}
	rt.log.Warn("the output topic's max.message.bytes changed", "topic", rt.cfg.OutputTopic, "was", rt.maxRecordBytes, "now", n)
	rt.maxRecordBytes = n
	return true
}

// defaultMaxRecordBytes is franz-go's and Kafka's default record limit.
const defaultMaxRecordBytes = 1000012

// TopicMaxMessageBytes returns topic's effective max.message.bytes.
func TopicMaxMessageBytes(ctx context.Context, cl *kgo.Client, topic string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return 0, err
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		return 0, err
	}
	if rc.Err != nil {
		return 0, rc.Err
	}
	for _, c := range rc.Configs {
		if c.Key == "max.message.bytes" && c.Value != nil {
			return strconv.Atoi(*c.Value)
		}
	}
	return 0, fmt.Errorf("%s: no max.message.bytes", topic)
}

// assign records partitions gained or given up; giving one up drops its
// carried records, which its next owner fetches again.
func (rt *Runtime) assign(m map[string][]int32, add bool) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for t, ps := range m {
		for _, p := range ps {
			if add {
				rt.owned[tp{t, p}] = true
			} else {
				delete(rt.owned, tp{t, p})
			}
		}
	}
	if add || len(rt.carry) == 0 {
		return
	}
	kept := rt.carry[:0]
	for _, r := range rt.carry {
		if rt.owned[tp{r.Topic, r.Partition}] {
			kept = append(kept, r)
		}
	}
	clear(rt.carry[len(kept):])
	rt.carry = kept
	rt.carried.Set(recordsBytes(kept))
}

func (rt *Runtime) loop(ctx context.Context) error {
	for {
		if err := rt.Controls.Wait(ctx); err != nil {
			return nil
		}
		recs, err := rt.collect(ctx)
		if rt.fatal != nil {
			rt.consumer.AllowRebalance()
			rt.log.Error("fatal error", "stage", rt.cfg.Stage, "err", rt.fatal)
			return NewFatal(rt.fatal)
		}
		if err != nil {
			rt.consumer.AllowRebalance()
			return nil
		}
		if len(recs) == 0 {
			rt.consumer.AllowRebalance()
			continue
		}
		err = rt.handle(ctx, recs)
		if err != nil || service.Aborted(ctx) {
			rt.consumer.AllowRebalance()
			if errors.Is(err, errStopped) || service.Aborted(ctx) {
				return nil
			}
			return err
		}
		rt.mark(recs)
		rt.inFlight.Set(0)
		rt.consumer.AllowRebalance()
	}
}

// errStopped ends handling a batch because the service stops.
var errStopped = errors.New("stage: stopped before the batch was done")

// handle runs the handler on recs until every record has an outcome that
// the producer acknowledged, retrying retryable failures with backoff. It
// finishes the batch when ctx ends (so its offsets can be committed)
// unless ctx was aborted.
func (rt *Runtime) handle(ctx context.Context, recs []*kgo.Record) error {
	hctx, cancel := abortContext(ctx)
	defer cancel()
	since := time.Now()
	for attempt := 1; ; attempt++ {
		_, err := rt.attempt(hctx, ctx, recs, rt.producer.Produce, rt.producer.Flush, false)
		if err == nil {
			return nil
		}
		if hctx.Err() != nil {
			return errStopped
		}
		if ClassOf(err) == Fatal {
			rt.log.Error("fatal error", "stage", rt.cfg.Stage, "err", err)
			return err
		}
		rt.batchRetries.Add(1)
		wait := rt.cfg.Retry.Backoff(attempt, RetryAfterOf(err))
		rt.log.Warn("batch failed; retrying", "records", len(recs), "attempt", attempt, "since", since, "backoff", wait, "err", err)
		// A graceful stop ends the waiting: what is not acknowledged is
		// not committed and is handled again after the restart.
		if !Sleep(ctx, wait) {
			return errStopped
		}
	}
}

// attempt runs the handler once and waits for the producer. Unless in a
// transaction (txn), outputs it refused for good have their inputs
// dead-lettered, and any other produce failure is the attempt's error; in
// a transaction the caller looks at the batch's culprits and failure.
func (rt *Runtime) attempt(ctx, stop context.Context, recs []*kgo.Record, produce func(context.Context, *kgo.Record, func(*kgo.Record, error)), flush func(context.Context) error, txn bool) (*Batch, error) {
	// The batch span comes first: what the handler produces carries it in
	// its traceparent header, so the next stage continues the same trace.
	ctx, span := rt.tel.StartBatch(ctx, rt.cfg.Stage, recs)
	defer span.End()
	b := &Batch{Records: recs, rt: rt, ctx: ctx, stop: stop, produce: produce}
	b.promise = b.onProduced
	if err := rt.handler.Handle(ctx, b); err != nil {
		return b, err
	}
	if ctx.Err() != nil {
		return b, ctx.Err()
	}
	if err := flush(ctx); err != nil {
		return b, fmt.Errorf("flushing: %w", err)
	}
	if txn {
		// A transaction commits even when the broker refused some of its
		// records: the caller must look before it ends the transaction.
		return b, nil
	}
	for i := 0; len(b.culprits) > 0 && i < 3; i++ {
		cs := b.culprits
		b.culprits = nil
		b.redeliver(cs, i == 0 && rt.refreshLimit(ctx))
		if err := flush(ctx); err != nil {
			return b, fmt.Errorf("flushing dead letters: %w", err)
		}
	}
	if e := b.failed.Load(); e != nil {
		return b, fmt.Errorf("producing: %w", *e)
	}
	return b, nil
}

// mark marks the batch's records for commit, except those of partitions
// given up meanwhile: their next owner reads them again, and an offset
// committed for a partition this replica no longer owns could move its
// owner's position.
func (rt *Runtime) mark(recs []*kgo.Record) {
	rt.mu.Lock()
	ok := recs
	for i, r := range recs {
		if !rt.owned[tp{r.Topic, r.Partition}] {
			ok = make([]*kgo.Record, 0, len(recs))
			ok = append(ok, recs[:i]...)
			for _, r := range recs[i+1:] {
				if rt.owned[tp{r.Topic, r.Partition}] {
					ok = append(ok, r)
				}
			}
			break
		}
	}
	rt.mu.Unlock()
	rt.consumer.MarkCommitRecords(ok...)
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
