package indexer

import (
	"context"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-io/sluice/libs/admin"
	"github.com/sluice-io/sluice/libs/record"
	"github.com/sluice-io/sluice/libs/stage"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
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
	from := req.GetFromOffsets()
	var only []int32
	if req.Partition != nil {
		only = []int32{req.GetPartition()}
	}
	recs, err := stage.List(ctx, a.ix.clientOpts, a.ix.cfg.Kafka.DLQTopic, from, limit, only...)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	resp := &adminv1.ListDeadLettersResponse{}
	for _, r := range recs {
		resp.Letters = append(resp.Letters, letter(r))
	}
	return resp, nil
}

// Bounds of what a listed letter carries: the start of the original line,
// and the value shown whole.
const (
	maxLetterLine  = 4 << 10
	maxLetterValue = 64 << 10
)

func letter(r *kgo.Record) *adminv1.DeadLetter {
	d := record.ParseDeadLetter(r)
	l := &adminv1.DeadLetter{Partition: r.Partition, Offset: r.Offset, TimestampUnixNano: r.Timestamp.UnixNano(),
		Status: int32(d.Status), ErrorType: d.ErrorType, Reason: d.Reason, Stage: d.Stage, Class: d.Class,
		Namespace: d.Namespace, Pod: d.Pod, Container: d.Container}
	if l.Namespace == "" && l.Pod == "" && l.Container == "" {
		l.Namespace, l.Pod, l.Container = record.SplitKey(r.Key)
	}
	for _, h := range r.Headers {
		l.Headers = append(l.Headers, &adminv1.Header{Key: h.Key, Value: string(h.Value)})
		switch h.Key {
		case record.HeaderID:
			l.Id = string(h.Value)
		case record.HeaderIndex:
			l.Index = string(h.Value)
		}
	}
	var line string
	switch l.Stage {
	case record.StageIndexer:
		if len(r.Value) <= maxLetterValue {
			l.DocumentJson = string(r.Value)
			l.ValueJson = l.DocumentJson
		}
		line = documentLine(r.Value)
	case record.StageParser:
		var raw logsv1.RawRecord
		if proto.Unmarshal(r.Value, &raw) == nil {
			line = string(raw.GetLine())
			if len(r.Value) <= maxLetterValue {
				if b, err := protojson.Marshal(&raw); err == nil {
					l.ValueJson = string(b)
				}
			}
		}
	}
	l.Line = truncateUTF8(line, maxLetterLine)
	return l
}

// documentLine is what dlq list shows of a document as its line: the
// original line where the rule kept it (event.original), else the message,
// else the document itself, since a parsed access log keeps neither by
// default and the operator still needs to recognise the record.
func documentLine(value []byte) string {
	var doc struct {
		Message json.RawMessage `json:"message"`
		Event   struct {
			Original json.RawMessage `json:"original"`
		} `json:"event"`
	}
	if json.Unmarshal(value, &doc) != nil {
		return string(value)
	}
	for _, v := range []json.RawMessage{doc.Event.Original, doc.Message} {
		if len(v) == 0 {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return string(v)
	}
	return string(value)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
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

// ListAccounts returns the per-container counts of lines indexed (created
// or already present) and dead-lettered.
func (a *adminService) ListAccounts(context.Context, *adminv1.IndexerAdminServiceListAccountsRequest) (*adminv1.IndexerAdminServiceListAccountsResponse, error) {
	return &adminv1.IndexerAdminServiceListAccountsResponse{Accounts: admin.ContainerAccounts(a.ix.accounts)}, nil
}
