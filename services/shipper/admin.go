package shipper

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
	"github.com/sluice-io/sluice/services/shipper/internal/kube"
)

// RegisterAdmin registers sluice.admin.v1.ShipperAdminService on g.
func (s *Shipper) RegisterAdmin(g *grpc.Server) {
	adminv1.RegisterShipperAdminServiceServer(g, &adminService{s: s})
}

type adminService struct {
	adminv1.UnimplementedShipperAdminServiceServer
	s *Shipper
}

// ListFiles lists the files the tailer tracks.
func (a *adminService) ListFiles(context.Context, *adminv1.ListFilesRequest) (*adminv1.ListFilesResponse, error) {
	t := a.s.tailer
	if t == nil {
		return nil, status.Error(codes.Unavailable, "the shipper has not started tailing yet")
	}
	resp := &adminv1.ListFilesResponse{}
	now := time.Now()
	for _, f := range t.Files() {
		m, _ := kube.FromPath(f.Path)
		tf := &adminv1.TrackedFile{
			Path: f.Path, Namespace: m.Namespace, Pod: m.Pod, Container: m.Container,
			Fingerprint: f.Fingerprint, Size: f.Size, OffsetRead: f.ReadOffset, OffsetAcked: f.AckedOffset,
			BytesBehind: max(f.Size-f.AckedOffset, 0), State: string(f.State),
			SkippedBytes: f.SkippedBytes, RecoveredBytes: f.RecoveredBytes, InFlightBytes: f.InFlightBytes,
		}
		if !f.OldestUnacked.IsZero() {
			tf.OldestUnackedAgeMs = now.Sub(f.OldestUnacked).Milliseconds()
		}
		resp.Files = append(resp.Files, tf)
	}
	return resp, nil
}

// ListAccounts returns the per-container counts.
func (a *adminService) ListAccounts(context.Context, *adminv1.ListAccountsRequest) (*adminv1.ListAccountsResponse, error) {
	a.s.flushAccounts()
	resp := &adminv1.ListAccountsResponse{}
	for _, row := range a.s.accounts.Snapshot() {
		acc := &adminv1.ContainerAccount{Namespace: row.Namespace, Pod: row.Pod, Container: row.Container, Counts: map[string]int64{}}
		for f, n := range row.Counts {
			acc.Counts[f.String()] = n
		}
		resp.Accounts = append(resp.Accounts, acc)
	}
	return resp, nil
}
