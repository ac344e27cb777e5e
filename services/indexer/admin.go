package indexer

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/libs/stage"
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

// ListDeadLetters reads dead letters from the oldest (or given offsets) on.
func (a *adminService) ListDeadLetters(ctx context.Context, req *adminv1.ListDeadLettersRequest) (*adminv1.ListDeadLettersResponse, error) {
	limit := int(req.GetLimit())
	if limit <= 0 || limit > MaxListDeadLetters {
		limit = 100
	}
	recs, err := stage.List(ctx, a.ix.clientOpts, a.ix.cfg.Kafka.DLQTopic, req.GetFromOffsets(), limit)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	resp := &adminv1.ListDeadLettersResponse{}
	for _, r := range recs {
		resp.Letters = append(resp.Letters, letter(r))
	}
	return resp, nil
}

func letter(r *kgo.Record) *adminv1.DeadLetter {
	d := record.ParseDeadLetter(r)
	l := &adminv1.DeadLetter{Partition: r.Partition, Offset: r.Offset, TimestampUnixNano: r.Timestamp.UnixNano(),
		Status: int32(d.Status), ErrorType: d.ErrorType, Reason: d.Reason, Stage: d.Stage}
	for _, h := range r.Headers {
		switch h.Key {
		case record.HeaderID:
			l.Id = string(h.Value)
		case record.HeaderIndex:
			l.Index = string(h.Value)
		}
	}
	if l.Stage == record.StageIndexer && len(r.Value) <= 64<<10 {
		l.DocumentJson = string(r.Value)
	}
	return l
}

// ReplayDeadLetters republishes the dead letters of one partition range
// where their stage reads: a parser letter to the raw topic, an indexer
// letter to the parsed topic, with their original headers (and so _id,
// index and trace context) intact.
func (a *adminService) ReplayDeadLetters(ctx context.Context, req *adminv1.ReplayDeadLettersRequest) (*adminv1.ReplayDeadLettersResponse, error) {
	k := a.ix.cfg.Kafka
	res, err := stage.Replay(ctx, a.ix.clientOpts, stage.ReplayOptions{
		Topic: k.DLQTopic, Partition: req.GetPartition(), From: req.GetFromOffset(), To: req.GetToOffset(),
		Targets: map[string]string{record.StageParser: k.RawTopic, record.StageIndexer: k.Topic},
		DryRun:  req.GetDryRun(),
	})
	switch {
	case errors.Is(err, stage.ErrNoPartition):
		return nil, status.Error(codes.NotFound, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return nil, status.Error(codes.DeadlineExceeded, err.Error())
	case err != nil:
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	resp := &adminv1.ReplayDeadLettersResponse{Replayed: res.Replayed, Skipped: res.Skipped}
	for _, l := range res.Letters {
		d := l.Letter
		resp.Letters = append(resp.Letters, &adminv1.ReplayedLetter{TargetTopic: l.Target, Letter: &adminv1.DeadLetter{
			Partition: req.GetPartition(), Offset: l.Offset, Stage: d.Stage, Reason: d.Reason, Status: int32(d.Status), ErrorType: d.ErrorType,
		}})
	}
	return resp, nil
}
