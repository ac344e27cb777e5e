package stage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/record"
)

// ErrNoPartition is returned for a dead-letter partition that does not exist.
var ErrNoPartition = errors.New("no such partition")

// ReplayOptions says which dead letters to replay and where to.
type ReplayOptions struct {
	// Topic is the dead-letter topic; Partition one of its partitions.
	Topic     string
	Partition int32
	// From is the first offset; To the end, exclusive (0: the partition's
	// end when the replay starts).
	From, To int64
	// Targets maps a letter's stage to the topic it goes back to: a
	// parser letter to the raw topic, an indexer letter to the parsed
	// topic. Letters of a stage not listed are skipped and counted.
	Targets map[string]string
	// DryRun lists what would be replayed and produces nothing.
	DryRun bool
	// MaxListed bounds ReplayResult.Letters; default 1000.
	MaxListed int
	// Timeout bounds the replay; default one minute.
	Timeout time.Duration
}

// ReplayResult is what a replay did, or would do with DryRun.
type ReplayResult struct {
	// Replayed counts the letters produced (would be, with DryRun).
	Replayed int64
	// Skipped counts the letters of a stage with no target.
	Skipped int64
	// Letters are the replayed letters, at most MaxListed.
	Letters []ReplayedLetter
}

// ReplayedLetter is one letter a replay produced (or would).
type ReplayedLetter struct {
	Offset int64
	Target string
	Letter record.DeadLetter
}

// Replay republishes dead letters to the topics their stages read: the
// original key, value and headers (the _id, index and trace context) go
// back, the dead-letter headers do not. It reads up to the partition's end
// offset as it was when the replay started, and ends when the consumed
// position reaches it — also when the last records are transaction
// markers, which a consumer never sees as records.
func Replay(ctx context.Context, clientOpts []kgo.Opt, o ReplayOptions) (ReplayResult, error) {
	var res ReplayResult
	if o.MaxListed <= 0 {
		o.MaxListed = 1000
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cl, err := readClient(clientOpts)
	if err != nil {
		return res, err
	}
	defer cl.Close()
	end, err := endOffset(ctx, cl, o.Topic, o.Partition)
	if err != nil {
		return res, err
	}
	to := end
	if o.To > 0 && o.To < to {
		to = o.To
	}
	if o.From >= to {
		return res, nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{o.Topic: {o.Partition: kgo.NewOffset().At(o.From)}})
	for next := o.From; next < to; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return res, fmt.Errorf("replayed %d of %s/%d before the deadline, at offset %d of %d: %w", res.Replayed, o.Topic, o.Partition, next, to, ctx.Err())
		}
		var out []*kgo.Record
		var ferr error
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if p.Err != nil && ferr == nil {
				ferr = p.Err
			}
			for _, r := range p.Records {
				// Control records (transaction markers) advance the
				// position like any other.
				next = max(next, r.Offset+1)
				if r.Attrs.IsControl() || r.Offset >= to {
					continue
				}
				d := record.ParseDeadLetter(r)
				target, ok := o.Targets[d.Stage]
				if !ok {
					res.Skipped++
					continue
				}
				res.Replayed++
				if len(res.Letters) < o.MaxListed {
					res.Letters = append(res.Letters, ReplayedLetter{Offset: r.Offset, Target: target, Letter: d})
				}
				if !o.DryRun {
					out = append(out, &kgo.Record{Topic: target, Key: r.Key, Value: r.Value, Headers: record.OriginalHeaders(r.Headers)})
				}
			}
		})
		if ferr != nil && ClassOf(ferr) == Fatal {
			return res, ferr
		}
		if len(out) > 0 {
			if err := cl.ProduceSync(ctx, out...).FirstErr(); err != nil {
				return res, fmt.Errorf("replaying to %s: %w", out[0].Topic, err)
			}
		}
	}
	return res, nil
}

// List reads up to limit dead letters of topic, from the oldest or the
// given offsets per partition, stopping at each partition's end offset as
// it was when the listing started (transaction markers included). With
// partitions given, only those are read.
func List(ctx context.Context, clientOpts []kgo.Opt, topic string, from map[int32]int64, limit int, partitions ...int32) ([]*kgo.Record, error) {
	cl, err := readClient(clientOpts)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("listing %s offsets: %w", topic, err)
	}
	starts := map[int32]kgo.Offset{}
	remaining := map[int32]int64{}
	next := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if len(partitions) > 0 && !slices.Contains(partitions, o.Partition) {
			return
		}
		f := from[o.Partition]
		if o.Offset > f {
			starts[o.Partition] = kgo.NewOffset().At(f)
			remaining[o.Partition] = o.Offset
			next[o.Partition] = f
		}
	})
	var out []*kgo.Record
	if len(starts) == 0 {
		return out, nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts})
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for len(out) < limit && len(remaining) > 0 {
		fs := cl.PollFetches(rctx)
		if rctx.Err() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) {
			next[r.Partition] = max(next[r.Partition], r.Offset+1)
			if end, ok := remaining[r.Partition]; ok && next[r.Partition] >= end {
				delete(remaining, r.Partition)
			}
			if !r.Attrs.IsControl() && len(out) < limit && r.Offset < ends[topic][r.Partition].Offset {
				out = append(out, r)
			}
		})
	}
	return out, nil
}

// readClient is a direct consumer that sees transaction markers (to know
// its position) but no aborted records.
func readClient(opts []kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	)...)
	if err != nil {
		return nil, NewFatal(fmt.Errorf("kafka: %w", err))
	}
	return cl, nil
}

func endOffset(ctx context.Context, cl *kgo.Client, topic string, partition int32) (int64, error) {
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("listing %s offsets: %w", topic, err)
	}
	end, ok := ends.Lookup(topic, partition)
	if !ok {
		return 0, fmt.Errorf("%s/%d: %w", topic, partition, ErrNoPartition)
	}
	if end.Err != nil {
		return 0, fmt.Errorf("%s/%d: %w", topic, partition, end.Err)
	}
	return end.Offset, nil
}
