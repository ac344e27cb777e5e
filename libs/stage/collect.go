package stage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func recordBytes(r *kgo.Record) int64 { return int64(len(r.Value) + len(r.Key)) }

func recordsBytes(rs []*kgo.Record) int64 {
	var n int64
	for _, r := range rs {
		n += recordBytes(r)
	}
	return n
}

// collect gathers a batch: up to MaxBatchRecords records and MaxBatchBytes
// bytes, polling for at most Linger after the first record. It starts with
// the records carried over from the last batch and carries over what a
// poll returned beyond the bounds (keeping each partition's order). It
// returns an error only when ctx ended before anything was fetched.
func (rt *Runtime) collect(ctx context.Context) ([]*kgo.Record, error) {
	limit, maxBytes := rt.cfg.MaxBatchRecords, rt.cfg.MaxBatchBytes
	if maxBytes <= 0 {
		maxBytes = 1<<63 - 1
	}
	rt.mu.Lock()
	var recs []*kgo.Record
	for _, r := range rt.carry {
		if rt.owned[tp{r.Topic, r.Partition}] {
			recs = append(recs, r)
		}
	}
	rt.carry = nil
	rt.mu.Unlock()
	var size int64
	var over []*kgo.Record
	for i, r := range recs {
		if i > 0 && (i >= limit || size+recordBytes(r) > maxBytes) {
			over = recs[i:]
			recs = recs[:i]
			break
		}
		size += recordBytes(r)
	}
	pollCtx, endPoll := context.WithCancel(ctx)
	defer endPoll()
	var flush *time.Timer
	startLinger := func() {
		if flush == nil && len(recs) > 0 {
			flush = time.AfterFunc(rt.cfg.Linger, endPoll)
		}
	}
	defer func() {
		if flush != nil {
			flush.Stop()
		}
	}()
	if rt.cfg.Linger > 0 {
		startLinger()
	}
	full := len(over) > 0
	for !full && len(recs) < limit && size < maxBytes {
		pctx, endIdle := pollCtx, context.CancelFunc(func() {})
		if len(recs) == 0 {
			// A rebalance waits for a poll in progress to return (with
			// BlockRebalanceOnPoll), and no records come during one: an
			// idle poll gives up now and then to let it through.
			pctx, endIdle = context.WithTimeout(pollCtx, max(rt.cfg.Linger, time.Second))
		}
		fetches := rt.poll(pctx, limit-len(recs))
		endIdle()
		if fetches.IsClientClosed() {
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return
			}
			if ClassOf(err) == Fatal && rt.fatal == nil {
				rt.fatal = fmt.Errorf("consuming %s/%d from brokers %v: %w", t, p, rt.consumerClient().OptValue(kgo.SeedBrokers), err)
				return
			}
			rt.log.Warn("fetch error", "topic", t, "partition", p, "err", err)
		})
		if rt.fatal != nil {
			break
		}
		fetches.EachRecord(func(r *kgo.Record) {
			n := recordBytes(r)
			// Once one record is carried, every later one is too, so no
			// partition's records are handled out of order.
			if full || len(recs) >= limit || (len(recs) > 0 && size+n > maxBytes) {
				full = true
				over = append(over, r)
				return
			}
			recs = append(recs, r)
			size += n
		})
		if rt.cfg.Linger <= 0 && len(recs) > 0 {
			break
		}
		if pollCtx.Err() != nil || len(recs) == 0 {
			break
		}
		startLinger()
	}
	if len(over) > 0 {
		rt.mu.Lock()
		rt.carry = append(over, rt.carry...)
		rt.carried.Set(recordsBytes(rt.carry))
		rt.mu.Unlock()
	} else {
		rt.carried.Set(0)
	}
	if len(recs) == 0 && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rt.inFlight.Set(size)
	return recs, nil
}
