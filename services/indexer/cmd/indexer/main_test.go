package main

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/logging/loggingtest"
	indexercfg "github.com/sluice-io/sluice/services/indexer/config"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestUnreachableEngineServesHealth is FAULTS row 33 for the indexer: with
// the search engine's port closed, the indexer answers health NOT_SERVING
// on its admin address while it waits, and logs each failed attempt with
// the engine's URL and the cause.
func TestUnreachableEngineServesHealth(t *testing.T) {
	cfg := indexercfg.NewDefault()
	cfg.Kafka.Brokers = config.StringList{"127.0.0.1:1"}
	closed := "http://" + freeAddr(t)
	cfg.Elasticsearch.URLs = config.StringList{closed}
	cfg.Elasticsearch.BackoffMin = config.Duration(20 * time.Millisecond)
	cfg.Elasticsearch.BackoffMax = config.Duration(50 * time.Millisecond)
	admin := freeAddr(t)
	cfg.Admin.Listen, cfg.Admin.MetricsListen = admin, ""
	var logs loggingtest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, "test", log, nil) }()

	conn, err := grpc.NewClient(admin, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := hc.Check(cctx, &healthpb.HealthCheckRequest{})
		ccancel()
		if err == nil {
			if resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
				t.Fatalf("health = %v while the engine is unreachable", resp.GetStatus())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no health answer on %s while waiting: %v", admin, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for strings.Count(logs.String(), "search engine not ready") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("failed attempts not logged:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	line := logs.String()
	for _, want := range []string{"level=WARN", "urls=" + closed, "step=connecting", "connection refused"} {
		if !strings.Contains(line, want) {
			t.Errorf("log lacks %q:\n%s", want, line)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stopping during setup: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop during setup")
	}
}
