package kafka

import (
	"context"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// GroupLag returns the consumer group's lag per partition of its topics:
// committed offset, end offset and their difference, for the admin API's
// GetStats. It asks the brokers (bounded by two seconds) and returns nil
// when they do not answer in time.
func GroupLag(ctx context.Context, cl *kgo.Client, group string) []*adminv1.PartitionLag {
	if cl == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	lags, err := kadm.NewClient(cl).Lag(ctx, group)
	if err != nil {
		return nil
	}
	var out []*adminv1.PartitionLag
	for _, gl := range lags {
		if gl.Error() != nil {
			continue
		}
		for topic, parts := range gl.Lag {
			for p, l := range parts {
				if l.Err != nil {
					continue
				}
				out = append(out, &adminv1.PartitionLag{
					Topic: topic, Partition: p,
					CommittedOffset: l.Commit.At, EndOffset: l.End.Offset, Lag: l.Lag,
				})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}
