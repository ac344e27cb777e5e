package service

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/logging/loggingtest"
	"github.com/sluice-io/sluice/libs/telemetry"
	adminv1 "github.com/sluice-io/sluice/proto/sluice/admin/v1"
)

// fakeRunner runs until its context ends, or fails with err at once.
type fakeRunner struct {
	tel *telemetry.Telemetry
	err error
}

func newFake(t *testing.T, err error) *fakeRunner {
	tel, terr := telemetry.New("fake")
	if terr != nil {
		t.Fatal(terr)
	}
	return &fakeRunner{tel: tel, err: err}
}

func (f *fakeRunner) Run(ctx context.Context) error {
	if f.err != nil {
		return f.err
	}
	<-ctx.Done()
	return nil
}
func (f *fakeRunner) Telemetry() *telemetry.Telemetry { return f.tel }
func (f *fakeRunner) State() string                   { return "running" }
func (f *fakeRunner) Stats(context.Context) *adminv1.GetStatsResponse {
	return &adminv1.GetStatsResponse{Lag: []*adminv1.PartitionLag{{Topic: "t", Partition: 1, Lag: 5}}}
}
func (f *fakeRunner) Pause()                                         {}
func (f *fakeRunner) Resume()                                        {}
func (f *fakeRunner) Reload(context.Context, []byte) (string, error) { return "", nil }
func (f *fakeRunner) ConfigDigest() string                           { return "d" }

func testLog() (*slog.Logger, *loggingtest.Buffer) {
	var buf loggingtest.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

// TestListenErrorNamesAddressAndKey is FAULTS row 33, first half: a port
// already in use stops the service with a log line naming the address and
// the key to change, never silently.
func TestListenErrorNamesAddressAndKey(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	tests := []struct {
		name  string
		admin config.Admin
		key   string
	}{
		{"admin", config.Admin{Listen: addr}, "admin.listen"},
		{"metrics", config.Admin{Listen: "127.0.0.1:0", MetricsListen: addr}, "admin.metrics_listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := testLog()
			err := Run(context.Background(), newFake(t, nil), Options{Name: "fake", Admin: tt.admin, Log: log})
			var le *ListenError
			if !errors.As(err, &le) || le.Key != tt.key || le.Addr != addr {
				t.Fatalf("err = %v, want a ListenError for %s on %s", err, tt.key, addr)
			}
			for _, want := range []string{"level=ERROR", "address=" + addr, "key=" + tt.key, "address already in use"} {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("log %q lacks %q", buf, want)
				}
			}
		})
	}
}

func TestRunLogsRunError(t *testing.T) {
	log, buf := testLog()
	boom := errors.New("kafka: authentication failed for user sluice")
	err := Run(context.Background(), newFake(t, boom), Options{Name: "fake", Admin: config.Admin{Listen: "127.0.0.1:0"}, Log: log})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(buf.String(), "authentication failed") {
		t.Fatalf("the cause is not logged: %s", buf)
	}
}

func healthStatus(t *testing.T, addr string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("health check on %s: %v", addr, err)
	}
	return resp.GetStatus()
}

// TestRunSetupServesHealthWhileWaiting is FAULTS row 33, second half: while
// setup waits (the indexer for its search engine), the admin address
// answers NOT_SERVING; once setup is done, the same address answers SERVING.
func TestRunSetupServesHealthWhileWaiting(t *testing.T) {
	log, _ := testLog()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	started := make(chan net.Addr, 2)
	inSetup := make(chan struct{})
	done := make(chan error, 1)
	// A free port, reserved and released, so the test knows the address
	// before setup reports anything.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	go func() {
		done <- RunSetup(ctx, func(ctx context.Context) (Runner, error) {
			close(inSetup)
			<-release
			return newFake(t, nil), nil
		}, Options{Name: "fake", Admin: config.Admin{Listen: addr}, Log: log,
			Started: func(a, _ net.Addr) { started <- a }})
	}()
	select {
	case <-inSetup:
	case err := <-done:
		t.Fatalf("RunSetup returned %v before setup", err)
	}
	if got := healthStatus(t, addr); got != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("health while setting up = %v, want NOT_SERVING", got)
	}
	close(release)
	select {
	case a := <-started:
		if a.String() != addr {
			t.Fatalf("served on %v after setup, want the same address %s", a, addr)
		}
	case err := <-done:
		t.Fatalf("RunSetup returned %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for healthStatus(t, addr) != healthpb.HealthCheckResponse_SERVING {
		if time.Now().After(deadline) {
			t.Fatal("never SERVING after setup")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRunSetupLogsSetupFailure(t *testing.T) {
	log, buf := testLog()
	err := RunSetup(context.Background(), func(context.Context) (Runner, error) {
		return nil, errors.New("elasticsearch: connecting: gave up after elasticsearch.setup_timeout (2m0s): dial tcp 10.0.0.1:9200: connection refused")
	}, Options{Name: "fake", Admin: config.Admin{Listen: "127.0.0.1:0"}, Log: log})
	if err == nil || !strings.Contains(buf.String(), "10.0.0.1:9200") || !strings.Contains(buf.String(), "setup failed") {
		t.Fatalf("err %v, log %s", err, buf)
	}
}

func TestValidateSubcommand(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Validate("svc", "/etc/x.yaml", nil, &out, &errOut, func(file string) (string, error) {
		return "", config.Errors{config.Errorf("a.b", "bad"), config.Errorf("c", "worse")}
	})
	if code != ExitInvalid || errOut.String() != "svc: /etc/x.yaml: 2 problems\n  a.b: bad\n  c: worse\n" {
		t.Fatalf("exit %d, stderr %q", code, &errOut)
	}
	out.Reset()
	code = Validate("svc", "/etc/x.yaml", []string{"-config", "f.yaml"}, &out, &errOut, func(file string) (string, error) {
		return "fine (" + file + ")", nil
	})
	if code != ExitValid || out.String() != "svc: f.yaml: ok: fine (f.yaml)\n" {
		t.Fatalf("exit %d, stdout %q", code, &out)
	}
}

// TestPprofOffByDefault checks admin.pprof end to end through Run: the
// metrics listener answers 404 on /debug/pprof/ unless the key is on, and
// serves the profile index and a heap profile when it is.
func TestPprofOffByDefault(t *testing.T) {
	tests := []struct {
		name  string
		pprof bool
		want  int
	}{
		{"default off", false, http.StatusNotFound},
		{"on", true, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			metrics := make(chan net.Addr, 1)
			done := make(chan error, 1)
			go func() {
				done <- Run(ctx, newFake(t, nil), Options{
					Name:    "fake",
					Admin:   config.Admin{Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0", Pprof: tt.pprof},
					Started: func(_, m net.Addr) { metrics <- m },
				})
			}()
			t.Cleanup(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
			})
			addr := (<-metrics).String()
			for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap"} {
				resp, err := http.Get("http://" + addr + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, tt.want)
				}
			}
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET /metrics = %d, want 200 either way", resp.StatusCode)
			}
		})
	}
}
