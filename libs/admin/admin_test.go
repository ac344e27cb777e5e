package admin

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/sluice-io/sluice/libs/config"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// fakeService reloads a small strict config document.
type fakeService struct {
	gate   Gate
	mu     sync.Mutex
	digest string
}

type fakeConfig struct {
	Level string `yaml:"level"`
}

func (c fakeConfig) Validate() error {
	if c.Level != "" && c.Level != "info" && c.Level != "debug" {
		return config.Errorf("level", "unknown level %q", c.Level)
	}
	return nil
}

func (f *fakeService) State() string {
	if f.gate.Paused() {
		return "paused"
	}
	return "running"
}
func (f *fakeService) Stats(context.Context) *adminv1.GetStatsResponse {
	return &adminv1.GetStatsResponse{Counters: map[string]int64{"lines_read": 7}}
}
func (f *fakeService) Pause()  { f.gate.Pause() }
func (f *fakeService) Resume() { f.gate.Resume() }
func (f *fakeService) ConfigDigest() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.digest
}
func (f *fakeService) Reload(_ context.Context, doc []byte) (string, error) {
	if len(doc) == 0 {
		return "", errors.New("empty configuration")
	}
	_, digest, err := config.DecodeValidated(doc, fakeConfig{})
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	f.digest = digest
	f.mu.Unlock()
	return digest, nil
}

type harness struct {
	srv   *Server
	conn  *grpc.ClientConn
	audit *bytes.Buffer
}

func newHarness(tb testing.TB, token string) *harness {
	tb.Helper()
	audit := &bytes.Buffer{}
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, audit}, nil))
	srv, err := New(config.Admin{}, "shipper", "v1", "node-1", &fakeService{digest: "d0"}, log)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		srv.SetToken(token)
	}
	ln := bufconn.Listen(1 << 20)
	srv.ServeListener(ln)
	srv.SetServing(true)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		conn.Close()
		srv.Shutdown(context.Background())
	})
	return &harness{srv: srv, conn: conn, audit: audit}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func withToken(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

func TestAuth(t *testing.T) {
	h := newHarness(t, "s3cret")
	cl := adminv1.NewAdminServiceClient(h.conn)
	tests := []struct {
		name string
		ctx  context.Context
		want codes.Code
	}{
		{"no token", context.Background(), codes.Unauthenticated},
		{"wrong token", withToken("nope"), codes.PermissionDenied},
		{"right token", withToken("s3cret"), codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cl.GetStatus(tt.ctx, &adminv1.GetStatusRequest{})
			if status.Code(err) != tt.want {
				t.Fatalf("GetStatus: %v, want %v", err, tt.want)
			}
			_, err = cl.Pause(tt.ctx, &adminv1.PauseRequest{})
			if status.Code(err) != tt.want {
				t.Fatalf("Pause: %v, want %v", err, tt.want)
			}
		})
	}
	// Probes carry no token and must still work.
	resp, err := healthpb.NewHealthClient(h.conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", resp, err)
	}
	if !strings.Contains(h.audit.String(), "method=/sluice.admin.v1.AdminService/Pause") || !strings.Contains(h.audit.String(), "ok=false") {
		t.Fatalf("no audit line for the refused and accepted Pause calls:\n%s", h.audit.String())
	}
}

func TestRPCs(t *testing.T) {
	h := newHarness(t, "")
	cl := adminv1.NewAdminServiceClient(h.conn)
	ctx := context.Background()
	st, err := cl.GetStatus(ctx, &adminv1.GetStatusRequest{})
	if err != nil || st.Service != "shipper" || st.Version != "v1" || st.State != "running" || st.ConfigDigest != "d0" || st.Node != "node-1" {
		t.Fatalf("GetStatus = %v, %v", st, err)
	}
	stats, err := cl.GetStats(ctx, &adminv1.GetStatsRequest{})
	if err != nil || stats.Counters["lines_read"] != 7 {
		t.Fatalf("GetStats = %v, %v", stats, err)
	}
	if p, err := cl.Pause(ctx, &adminv1.PauseRequest{}); err != nil || p.State != "paused" {
		t.Fatalf("Pause = %v, %v", p, err)
	}
	if r, err := cl.Resume(ctx, &adminv1.ResumeRequest{}); err != nil || r.State != "running" {
		t.Fatalf("Resume = %v, %v", r, err)
	}
	if _, err := cl.ReloadConfig(ctx, &adminv1.ReloadConfigRequest{ConfigYaml: "level: loud"}); status.Code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), "level: unknown level") || !strings.Contains(err.Error(), "previous config still running") {
		t.Fatalf("invalid reload: %v", err)
	}
	if st, _ := cl.GetStatus(ctx, &adminv1.GetStatusRequest{}); st.ConfigDigest != "d0" {
		t.Fatalf("a refused reload changed the digest to %q", st.ConfigDigest)
	}
	r, err := cl.ReloadConfig(ctx, &adminv1.ReloadConfigRequest{ConfigYaml: "level: debug"})
	if err != nil || len(r.ConfigDigest) != 64 {
		t.Fatalf("valid reload: %v, %v", r, err)
	}
	h.srv.SetServing(false)
	hr, err := healthpb.NewHealthClient(h.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "sluice.shipper"})
	if err != nil || hr.Status != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health while draining: %v %v", hr, err)
	}
}

func TestMessageSizeLimit(t *testing.T) {
	h := newHarness(t, "")
	_, err := adminv1.NewAdminServiceClient(h.conn).ReloadConfig(context.Background(),
		&adminv1.ReloadConfigRequest{ConfigYaml: strings.Repeat("x", MaxMessageBytes+1)})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized request: %v, want ResourceExhausted", err)
	}
}

func TestShutdownIdempotent(t *testing.T) {
	srv, err := New(config.Admin{}, "parser", "v1", "", &fakeService{}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(context.Background())
	srv.Shutdown(context.Background())
}

// FuzzReloadConfig sends arbitrary documents to ReloadConfig: the answer is
// a digest or InvalidArgument, never a crash.
func FuzzReloadConfig(f *testing.F) {
	f.Add("level: info")
	f.Add("level: [")
	f.Add("\x00\xff: {{")
	h := newHarness(f, "")
	cl := adminv1.NewAdminServiceClient(h.conn)
	f.Fuzz(func(t *testing.T, doc string) {
		_, err := cl.ReloadConfig(context.Background(), &adminv1.ReloadConfigRequest{ConfigYaml: doc})
		if c := status.Code(err); c != codes.OK && c != codes.InvalidArgument && c != codes.Internal {
			t.Fatalf("ReloadConfig(%q): %v", doc, err)
		}
	})
}
