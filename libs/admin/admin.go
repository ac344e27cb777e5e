// Package admin serves a Sluice service's gRPC admin API: grpc.health.v1,
// reflection, and sluice.admin.v1.AdminService backed by the service, with
// bearer-token and mTLS authentication, an audit log line per mutating call,
// and limits on streams and message sizes.
//
// Health probes are exempt from authentication so that kubelet gRPC probes,
// which cannot carry a token, keep working.
package admin

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/tlsconfig"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// Service is what a service exposes through AdminService. Implementations
// must be safe for concurrent use.
type Service interface {
	// State is "running", "paused" or "draining".
	State() string
	// Stats returns the service's counters, in-flight bytes and lag.
	Stats(ctx context.Context) *adminv1.GetStatsResponse
	// Pause stops intake; Resume restarts it.
	Pause()
	Resume()
	// Reload validates and applies a configuration document (empty: re-read
	// the file). It returns the new config digest, or the validation error
	// with the running configuration untouched.
	Reload(ctx context.Context, doc []byte) (digest string, err error)
	// ConfigDigest is the running configuration's digest.
	ConfigDigest() string
}

// Limits on the admin API; admin calls are small.
const (
	MaxMessageBytes      = 4 << 20
	MaxConcurrentStreams = 64
)

// mutating lists the methods that change a service and are audit-logged.
var mutating = map[string]bool{
	"/sluice.admin.v1.AdminService/Pause":                    true,
	"/sluice.admin.v1.AdminService/Resume":                   true,
	"/sluice.admin.v1.AdminService/ReloadConfig":             true,
	"/sluice.admin.v1.IndexerAdminService/ReplayDeadLetters": true,
}

// Server is the admin gRPC server of one service.
type Server struct {
	name, version, node string
	svc                 Service
	cfg                 config.Admin
	log                 *slog.Logger
	started             time.Time

	grpc   *grpc.Server
	health *health.Server
	token  []byte

	mu sync.Mutex
	ln net.Listener
}

// New builds the server; services register their own admin services on
// GRPC() before Serve.
func New(cfg config.Admin, name, version, node string, svc Service, log *slog.Logger) (*Server, error) {
	s := &Server{name: name, version: version, node: node, svc: svc, cfg: cfg, log: log, started: time.Now()}
	if cfg.TokenFile != "" {
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("admin.token_file: %w", err)
		}
		s.token = []byte(strings.TrimSpace(string(b)))
		if len(s.token) == 0 {
			return nil, errors.New("admin.token_file: the token is empty")
		}
	}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
		grpc.MaxConcurrentStreams(MaxConcurrentStreams),
		grpc.ChainUnaryInterceptor(s.unaryAuth),
		grpc.ChainStreamInterceptor(s.streamAuth),
	}
	if cfg.TLS.CertFile != "" {
		tc, err := serverTLS(cfg)
		if err != nil {
			return nil, fmt.Errorf("admin.tls: %w", err)
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(tc)))
	}
	s.grpc = grpc.NewServer(opts...)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	adminv1.RegisterAdminServiceServer(s.grpc, &adminService{s: s})
	reflection.Register(s.grpc)
	s.SetServing(false)
	return s, nil
}

// SetToken sets the bearer token (tests use it instead of a file).
func (s *Server) SetToken(token string) { s.token = []byte(token) }

// GRPC is the underlying server, for registering service-specific APIs.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// SetServing flips health between SERVING and NOT_SERVING, for the overall
// health and the service's own name.
func (s *Server) SetServing(ok bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus("sluice."+s.name, st)
}

// Listen binds the configured address (an empty address binds nothing) and
// serves in the background. It returns the bound address.
func (s *Server) Listen() (net.Addr, error) {
	if s.cfg.Listen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("admin.listen: %w", err)
	}
	s.ServeListener(ln)
	return ln.Addr(), nil
}

// ServeListener serves on ln in the background (bufconn in tests).
func (s *Server) ServeListener(ln net.Listener) {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	go func() {
		if err := s.grpc.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.log.Error("admin server stopped", "err", err)
		}
	}()
}

// Shutdown stops the server gracefully, forcing it after the context ends.
// It is safe to call more than once and without Listen.
func (s *Server) Shutdown(ctx context.Context) {
	s.health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.grpc.Stop()
	}
}

func (s *Server) authorize(ctx context.Context, method string) error {
	if strings.HasPrefix(method, "/grpc.health.v1.Health/") {
		return nil
	}
	if len(s.token) > 0 {
		md, _ := metadata.FromIncomingContext(ctx)
		var got string
		if v := md.Get("authorization"); len(v) > 0 {
			got = strings.TrimPrefix(v[0], "Bearer ")
		}
		if got == "" {
			return status.Error(codes.Unauthenticated, "admin: bearer token required")
		}
		if subtle.ConstantTimeCompare([]byte(got), s.token) != 1 {
			return status.Error(codes.PermissionDenied, "admin: invalid token")
		}
	}
	return nil
}

func (s *Server) audit(ctx context.Context, method string, err error) {
	if !mutating[method] {
		return
	}
	who := "unknown"
	if p, ok := peer.FromContext(ctx); ok {
		who = p.Addr.String()
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.PeerCertificates) > 0 {
			who = ti.State.PeerCertificates[0].Subject.CommonName + "@" + who
		}
	}
	s.log.Info("admin audit", "method", method, "peer", who, "ok", err == nil, "err", err)
}

func (s *Server) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.authorize(ctx, info.FullMethod); err != nil {
		s.audit(ctx, info.FullMethod, err)
		return nil, err
	}
	resp, err := h(ctx, req)
	s.audit(ctx, info.FullMethod, err)
	return resp, err
}

func (s *Server) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := s.authorize(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return h(srv, ss)
}

// serverTLS is the admin listener's TLS: client certificates are verified
// against the client CA file alone (see libs/tlsconfig).
func serverTLS(cfg config.Admin) (*tls.Config, error) {
	return tlsconfig.Server{CertFile: cfg.TLS.CertFile, KeyFile: cfg.TLS.KeyFile, ClientCAFile: cfg.ClientCAFile}.Config()
}

type adminService struct {
	adminv1.UnimplementedAdminServiceServer
	s *Server
}

// StateReasoner is implemented by a Service that can say why it is in its
// state (for "degraded": what it waits for).
type StateReasoner interface{ StateReason() string }

func (a *adminService) GetStatus(context.Context, *adminv1.GetStatusRequest) (*adminv1.GetStatusResponse, error) {
	resp := &adminv1.GetStatusResponse{
		Service:       a.s.name,
		Version:       a.s.version,
		ConfigDigest:  a.s.svc.ConfigDigest(),
		UptimeSeconds: int64(time.Since(a.s.started).Seconds()),
		State:         a.s.svc.State(),
		Node:          a.s.node,
	}
	if r, ok := a.s.svc.(StateReasoner); ok {
		resp.Reason = r.StateReason()
	}
	return resp, nil
}

// ConfigSource is implemented by a Service that can show its running
// configuration (GetConfig).
type ConfigSource interface {
	// RunningConfig returns the configuration in effect, as the service's
	// configuration struct; GetConfig redacts its secrets.
	RunningConfig() any
}

// GetConfig returns the running configuration as YAML with every secret
// redacted (config.RedactedYAML).
func (a *adminService) GetConfig(context.Context, *adminv1.GetConfigRequest) (*adminv1.GetConfigResponse, error) {
	src, ok := a.s.svc.(ConfigSource)
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "%s does not show its configuration", a.s.name)
	}
	doc, err := config.RedactedYAML(src.RunningConfig())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &adminv1.GetConfigResponse{ConfigYaml: string(doc)}, nil
}

func (a *adminService) GetStats(ctx context.Context, _ *adminv1.GetStatsRequest) (*adminv1.GetStatsResponse, error) {
	return a.s.svc.Stats(ctx), nil
}

func (a *adminService) Pause(context.Context, *adminv1.PauseRequest) (*adminv1.PauseResponse, error) {
	a.s.svc.Pause()
	return &adminv1.PauseResponse{State: a.s.svc.State()}, nil
}

func (a *adminService) Resume(context.Context, *adminv1.ResumeRequest) (*adminv1.ResumeResponse, error) {
	a.s.svc.Resume()
	return &adminv1.ResumeResponse{State: a.s.svc.State()}, nil
}

func (a *adminService) ReloadConfig(ctx context.Context, req *adminv1.ReloadConfigRequest) (*adminv1.ReloadConfigResponse, error) {
	digest, err := a.s.svc.Reload(ctx, []byte(req.GetConfigYaml()))
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "config refused, previous config still running: %v", err)
	}
	return &adminv1.ReloadConfigResponse{ConfigDigest: digest}, nil
}
