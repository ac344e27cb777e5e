package stage

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/record"
)

// Batch is what the runtime hands a Handler: records from one or more
// partitions, each partition's in offset order, and the ways to give each
// one its outcome. Produce, DeadLetter and Partitions are safe for
// concurrent use by the handler's goroutines; the batch and its records
// belong to the runtime again once Handle returns.
type Batch struct {
	// Records are the batch's records, each partition's in offset order.
	Records []*kgo.Record

	rt      *Runtime
	ctx     context.Context
	stop    context.Context
	produce func(context.Context, *kgo.Record, func(*kgo.Record, error))
	promise func(*kgo.Record, error)

	failed atomic.Pointer[error]

	mu sync.Mutex
	// culprits are records whose output the producer refused for good
	// (over the size limit): they are dead-lettered after the flush, or,
	// in a transaction, on the next attempt.
	culprits []culprit
}

type culprit struct {
	in, out *kgo.Record
	err     error
}

// Partition is one partition's records of a batch, in offset order.
type Partition struct {
	Topic     string
	Partition int32
	Records   []*kgo.Record
}

// Partitions returns the batch's records grouped by partition, partitions
// in the order they first appear.
func (b *Batch) Partitions() []Partition {
	var out []Partition
	idx := map[tp]int{}
	for _, r := range b.Records {
		k := tp{r.Topic, r.Partition}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Partition{Topic: r.Topic, Partition: r.Partition})
		}
		out[i].Records = append(out[i].Records, r)
	}
	return out
}

// Stopping returns a context that ends when the service stops, gracefully
// or not. Handle's own context ends only on an abort, so that a graceful
// stop finishes the batch in hand; a handler waiting to retry should give
// up when Stopping ends and return an error: the batch is then not
// committed and is handled again after the restart.
func (b *Batch) Stopping() context.Context { return b.stop }

// MaxRecordBytes is the largest output record the producer and the output
// topic accept (see Config.OutputTopic), 0 when unknown.
func (b *Batch) MaxRecordBytes() int { return b.rt.maxRecordBytes }

// Produce hands out to the producer. The runtime waits for its
// acknowledgement before it commits the batch. out should carry its input
// record as an Origin (SetOrigin): a record over MaxRecordBytes, or one the
// broker refuses as too large, is then not produced and its input is
// dead-lettered with reason too_large, the rest of the batch going on.
// Without an origin such a failure is retried like any produce failure.
func (b *Batch) Produce(out *kgo.Record) {
	in := OriginOf(out)
	if in != nil {
		if len(b.rt.skip) > 0 {
			if err, ok := b.rt.skip[offsetKey{in.Topic, in.Partition, in.Offset}]; ok {
				b.DeadLetter(in, err)
				return
			}
		}
		if max := b.rt.maxRecordBytes; max > 0 {
			if n := RecordSize(out); n > max {
				b.DeadLetter(in, NewPermanent(ReasonTooLarge, sizeError(n, max)))
				return
			}
		}
	}
	if o, ok := out.Context.(*Origin); ok {
		o.values = b.ctx
	}
	b.produce(b.ctx, out, b.promise)
}

// DeadLetter sends in to the dead-letter topic because of err (its class
// and reason go into the letter). The runtime waits for the letter's
// acknowledgement before it commits the batch.
func (b *Batch) DeadLetter(in *kgo.Record, err error) {
	// A retryable class here means the item's retries expired.
	b.DeadLetterWith(in, record.NewDeadLetter(b.rt.cfg.Stage, ClassOf(err).String(), describe(err), in))
}

// DeadLetterWith sends in to the dead-letter topic with the letter d (for
// a stage that has more to say, such as an HTTP status).
func (b *Batch) DeadLetterWith(in *kgo.Record, d record.DeadLetter) {
	if d.Stage == "" {
		d.Stage = b.rt.cfg.Stage
	}
	b.rt.log.Warn("dead-lettering record", "stage", d.Stage, "topic", in.Topic, "partition", in.Partition,
		"offset", in.Offset, "class", d.Class, "status", d.Status, "reason", truncate(d.Reason, 512))
	b.produce(b.ctx, d.Record(b.rt.cfg.DeadLetterTopic, in), b.promise)
}

func (b *Batch) onProduced(r *kgo.Record, err error) {
	rt := b.rt
	if err == nil {
		if r.Topic == rt.cfg.DeadLetterTopic {
			rt.deadLetters.Add(1)
		} else if rt.cfg.Acked != nil {
			rt.cfg.Acked(r)
		}
		return
	}
	rt.produceErrors.Add(1)
	if ClassOf(err) == Permanent {
		in := OriginOf(r)
		if r.Topic == rt.cfg.DeadLetterTopic && r.Value != nil && r.Context == nil {
			// The letter itself is over the dead-letter topic's limit: it
			// goes again without the value, so the record is still
			// accounted for.
			in = r
		}
		if in != nil {
			b.mu.Lock()
			b.culprits = append(b.culprits, culprit{in, r, err})
			b.mu.Unlock()
			return
		}
	}
	b.failed.CompareAndSwap(nil, &err)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// redeliver handles the culprits of an attempt. The broker refuses a
// whole produce batch when it is over max.message.bytes, so a refused
// output is not necessarily too large itself: with the limit read again
// (limitChanged), an output within it is produced again and only one over
// it has its input dead-lettered. A letter refused itself goes again
// without its value.
func (b *Batch) redeliver(cs []culprit, limitChanged bool) {
	for _, c := range cs {
		switch {
		case c.out.Topic == b.rt.cfg.DeadLetterTopic:
			l := *c.out
			l.Value, l.Context = nil, nil
			l.Headers = append(l.Headers[:len(l.Headers):len(l.Headers)],
				kgo.RecordHeader{Key: record.HeaderReason + "-value", Value: []byte("value dropped: " + describe(c.err))})
			b.rt.log.Warn("dead letter over the dead-letter topic's limit; sending it without its value", "err", c.err)
			b.produce(b.ctx, &l, b.promise)
		case limitChanged && RecordSize(c.out) <= b.rt.maxRecordBytes:
			b.produce(b.ctx, c.out, b.promise)
		default:
			b.DeadLetter(c.in, c.err)
		}
	}
}

// Origin ties an output record to the input record it was made from, so
// that a produce failure of the output dead-letters the input. It is a
// context.Context (set as the output's Context by SetOrigin) whose values
// are the batch's (its trace span, so the produce hooks continue the
// batch's trace) but never its cancellation: a produced record is not
// failed by a graceful stop. Allocate Origins in chunks to keep the hot
// path free of allocations.
type Origin struct {
	in     *kgo.Record
	values context.Context
}

type originKey struct{}

// SetOrigin makes in the origin of out, using o as the carrier.
func SetOrigin(o *Origin, out, in *kgo.Record) {
	o.in, o.values = in, nil
	out.Context = o
}

// OriginOf returns out's input record, nil when it has none.
func OriginOf(out *kgo.Record) *kgo.Record {
	if out.Context == nil {
		return nil
	}
	if o, ok := out.Context.(*Origin); ok {
		return o.in
	}
	// Produce hooks (kotel) may have derived a context from it.
	if o, ok := out.Context.Value(originKey{}).(*Origin); ok {
		return o.in
	}
	return nil
}

// Deadline implements context.Context.
func (*Origin) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context.
func (*Origin) Done() <-chan struct{} { return nil }

// Err implements context.Context.
func (*Origin) Err() error { return nil }

// Value implements context.Context.
func (o *Origin) Value(key any) any {
	if key == (originKey{}) {
		return o
	}
	if o.values != nil {
		return o.values.Value(key)
	}
	return nil
}

// RecordSize estimates what a record weighs against a broker's
// max.message.bytes: its key, value and headers plus the record and batch
// overhead, rounded up.
func RecordSize(r *kgo.Record) int {
	n := len(r.Key) + len(r.Value) + recordOverhead
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value) + 10
	}
	return n
}

// recordOverhead bounds a record's varints and attributes and the v2 batch
// header (61 bytes) around a single record.
const recordOverhead = 128
