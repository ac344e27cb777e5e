package stage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/service"
)

// runTransactional is Run with Config.Transactional: each batch is
// produced and its offsets committed in one transaction. A batch with an
// output the broker refuses for good is aborted once; the next attempt
// dead-letters those inputs and commits the rest.
func (rt *Runtime) runTransactional(ctx context.Context) error {
	id := rt.cfg.TransactionalID
	if id == "" {
		id = defaultTransactionalID(rt.cfg.Group)
	}
	opts := append(append(append([]kgo.Opt{}, rt.cfg.ClientOpts...), rt.groupOpts()...), rt.producerOpts()...)
	sess, err := kgo.NewGroupTransactSession(append(opts,
		kgo.TransactionalID(id),
		kgo.TransactionTimeout(rt.cfg.TransactionTimeout),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { rt.assign(m, false) }),
	)...)
	if err != nil {
		return NewFatal(fmt.Errorf("kafka transactional session: %w", err))
	}
	rt.sess = sess
	rt.producer = sess.Client()
	rt.poll = sess.PollRecords
	rt.lag.Store(sess.Client())
	defer rt.lag.Store(nil)
	closed := false
	defer func() {
		if !closed {
			sess.Close()
		}
	}()
	// One poll per transaction: the session commits every polled offset.
	rt.cfg.Linger, rt.cfg.MaxBatchBytes = 0, 0
	var runErr error
	attempt := 0
	for {
		if err := rt.Controls.Wait(ctx); err != nil {
			break
		}
		recs, err := rt.collect(ctx)
		if rt.fatal != nil {
			rt.log.Error("fatal error", "stage", rt.cfg.Stage, "err", rt.fatal)
			runErr = NewFatal(rt.fatal)
			break
		}
		if err != nil {
			break
		}
		if len(recs) == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			runErr = NewFatal(fmt.Errorf("beginning transaction: %w", err))
			break
		}
		hctx, cancel := abortContext(ctx)
		b, perr := rt.attempt(hctx, ctx, recs, sess.Produce, sess.Client().Flush, true)
		if service.Aborted(ctx) {
			cancel()
			// Neither committed nor aborted: the broker aborts it when the
			// transaction times out or the group moves on, as after a crash.
			return nil
		}
		b.mu.Lock()
		culprits := b.culprits
		if e := b.failed.Load(); e != nil && perr == nil {
			perr = *e
		}
		b.mu.Unlock()
		try := kgo.TryCommit
		if perr != nil || len(culprits) > 0 {
			try = kgo.TryAbort
		}
		ectx, ecancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		// End flushes: produce failures arrive in the promises now.
		committed, err := sess.End(ectx, try)
		ecancel()
		cancel()
		if committed {
			attempt = 0
			clear(rt.skip)
			continue
		}
		rt.txnAborts.Add(1)
		if len(culprits) > 0 {
			// Abort once; the next attempt dead-letters the inputs whose
			// output is too large (the broker refuses a whole batch, so
			// with the limit read again the others go through).
			changed := rt.refreshLimit(ctx)
			if rt.skip == nil {
				rt.skip = map[offsetKey]error{}
			}
			for _, c := range culprits {
				if changed && RecordSize(c.out) <= rt.maxRecordBytes {
					continue
				}
				rt.skip[offsetKey{c.in.Topic, c.in.Partition, c.in.Offset}] = c.err
			}
			rt.log.Warn("transaction aborted: outputs over the size limit; their inputs go to the dead-letter topic on the next attempt", "records", len(culprits))
			continue
		}
		if perr == nil {
			perr = err
		}
		if perr != nil && ClassOf(perr) == Fatal {
			rt.log.Error("fatal error", "stage", rt.cfg.Stage, "err", perr)
			runErr = perr
			break
		}
		attempt++
		wait := rt.cfg.Retry.Backoff(attempt, RetryAfterOf(perr))
		rt.log.Warn("transaction aborted; the batch will be consumed again", "err", perr, "backoff", wait)
		if !Sleep(ctx, wait) {
			break
		}
	}
	rt.Controls.SetDraining()
	sess.Close()
	closed = true
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	rt.leave(lctx)
	return runErr
}

// consumerClient is the group client of the running mode.
func (rt *Runtime) consumerClient() *kgo.Client {
	if rt.sess != nil {
		return rt.sess.Client()
	}
	return rt.consumer
}

func defaultTransactionalID(group string) string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return group + "-" + host + "-" + hex.EncodeToString(b[:])
}
