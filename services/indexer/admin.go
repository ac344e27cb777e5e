package indexer

import (
	"context"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sluice-io/sluice/libs/kafka"
	"github.com/sluice-io/sluice/libs/record"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// MaxListDeadLetters bounds one ListDeadLetters call.
const MaxListDeadLetters = 1000

// RegisterAdmin registers sluice.admin.v1.IndexerAdminService on s.
func (ix *Indexer) RegisterAdmin(s *grpc.Server) {
	adminv1.RegisterIndexerAdminServiceServer(s, &adminService{ix: ix})
}

type adminService struct {
	adminv1.UnimplementedIndexerAdminServiceServer
	ix *Indexer
}

func (a *adminService) client(opts ...kgo.Opt) (*kgo.Client, error) {
	base, err := kafka.ClientOpts(a.ix.cfg.Kafka.Kafka)
	if err != nil {
		return nil, err
	}
	return kgo.NewClient(append(base, opts...)...)
}

// ListDeadLetters reads dead letters from the oldest (or given offsets) on.
func (a *adminService) ListDeadLetters(ctx context.Context, req *adminv1.ListDeadLettersRequest) (*adminv1.ListDeadLettersResponse, error) {
	limit := int(req.GetLimit())
	if limit <= 0 || limit > MaxListDeadLetters {
		limit = 100
	}
	topic := a.ix.cfg.Kafka.DLQTopic
	cl, err := a.client()
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "listing %s offsets: %v", topic, err)
	}
	starts := map[int32]kgo.Offset{}
	remaining := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		from := int64(0)
		if f, ok := req.GetFromOffsets()[o.Partition]; ok {
			from = f
		}
		if o.Offset > from {
			starts[o.Partition] = kgo.NewOffset().At(from)
			remaining[o.Partition] = o.Offset
		}
	})
	resp := &adminv1.ListDeadLettersResponse{}
	if len(starts) == 0 {
		return resp, nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts})
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for len(resp.Letters) < limit && len(remaining) > 0 {
		fs := cl.PollRecords(rctx, limit-len(resp.Letters))
		if rctx.Err() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := remaining[r.Partition]; ok && r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
			if len(resp.Letters) < limit {
				resp.Letters = append(resp.Letters, letter(r))
			}
		})
	}
	return resp, nil
}

func letter(r *kgo.Record) *adminv1.DeadLetter {
	l := &adminv1.DeadLetter{Partition: r.Partition, Offset: r.Offset, TimestampUnixNano: r.Timestamp.UnixNano()}
	for _, h := range r.Headers {
		v := string(h.Value)
		switch h.Key {
		case record.HeaderID:
			l.Id = v
		case record.HeaderIndex:
			l.Index = v
		case record.HeaderStatus:
			n, _ := strconv.Atoi(v)
			l.Status = int32(n)
		case record.HeaderErrorType:
			l.ErrorType = v
		case record.HeaderReason:
			l.Reason = v
		case record.HeaderStage:
			l.Stage = v
		}
	}
	if l.Stage == "indexer" && len(r.Value) <= 64<<10 {
		l.DocumentJson = string(r.Value)
	}
	return l
}

// ReplayDeadLetters republishes the indexer's dead letters of one partition
// range to the parsed topic, headers (and so _id and index) intact.
func (a *adminService) ReplayDeadLetters(ctx context.Context, req *adminv1.ReplayDeadLettersRequest) (*adminv1.ReplayDeadLettersResponse, error) {
	topic := a.ix.cfg.Kafka.DLQTopic
	cl, err := a.client()
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "listing %s offsets: %v", topic, err)
	}
	end, ok := ends.Lookup(topic, req.GetPartition())
	if !ok {
		return nil, status.Errorf(codes.NotFound, "%s has no partition %d", topic, req.GetPartition())
	}
	to := end.Offset
	if req.GetToOffset() > 0 && req.GetToOffset() < to {
		to = req.GetToOffset()
	}
	if req.GetFromOffset() >= to {
		return &adminv1.ReplayDeadLettersResponse{}, nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topic: {req.GetPartition(): kgo.NewOffset().At(req.GetFromOffset())}})
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var replayed int64
	for next := req.GetFromOffset(); next < to; {
		fs := cl.PollFetches(rctx)
		if rctx.Err() != nil {
			return nil, status.Errorf(codes.DeadlineExceeded, "replayed %d before the deadline", replayed)
		}
		var out []*kgo.Record
		fs.EachRecord(func(r *kgo.Record) {
			next = r.Offset + 1
			if r.Offset >= to || stage(r) != "indexer" {
				return
			}
			out = append(out, &kgo.Record{Topic: a.ix.cfg.Kafka.Topic, Key: r.Key, Value: r.Value, Headers: keep(r.Headers)})
		})
		if len(out) > 0 {
			if err := cl.ProduceSync(rctx, out...).FirstErr(); err != nil {
				return nil, status.Errorf(codes.Unavailable, "replaying: %v", err)
			}
			replayed += int64(len(out))
		}
	}
	return &adminv1.ReplayDeadLettersResponse{Replayed: replayed}, nil
}

func stage(r *kgo.Record) string {
	for _, h := range r.Headers {
		if h.Key == record.HeaderStage {
			return string(h.Value)
		}
	}
	return ""
}

// keep returns the headers a replayed document needs: _id and index.
func keep(hs []kgo.RecordHeader) []kgo.RecordHeader {
	var out []kgo.RecordHeader
	for _, h := range hs {
		if h.Key == record.HeaderID || h.Key == record.HeaderIndex {
			out = append(out, h)
		}
	}
	return out
}
