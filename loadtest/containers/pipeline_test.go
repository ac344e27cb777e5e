//go:build containers

package containers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/logging/loggingtest"
	"github.com/sluice-io/sluice/loadtest/stack"
)

// startKafka runs the sluice/kafka image with its client port published on
// a fixed loopback port, because a Kafka client dials the address the
// broker advertises, and that must be the published one. It runs on its own
// goroutine, so it returns errors rather than failing t; t.Cleanup (safe
// from any goroutine) removes the container.
func startKafka(ctx context.Context, t *testing.T) (testcontainers.Container, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        kafkaImage,
			Labels:       runLabels(),
			ExposedPorts: []string{"9092/tcp"},
			Env: map[string]string{
				"KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://" + addr,
				"KAFKA_HEAP_OPTS":            "-Xms128m -Xmx384m",
			},
			HostConfigModifier: func(hc *container.HostConfig) {
				hc.PortBindings = network.PortMap{
					network.MustParsePort("9092/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(port)}},
				}
			},
			WaitingFor: wait.ForLog("Kafka Server started").WithStartupTimeout(3 * time.Minute),
		},
		Started: true,
	})
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		return nil, "", fmt.Errorf("starting %s: %w", kafkaImage, err)
	}
	return c, addr, nil
}

// startSearch runs the sluice/opensearch image on an ephemeral published
// port and waits for a yellow or green cluster (see startKafka for errors
// and cleanup).
func startSearch(ctx context.Context, t *testing.T) (string, error) {
	return startSearchWith(ctx, t, nil)
}

// startSearchWith is startSearch with the request edited by modify (nil: as is).
func startSearchWith(ctx context.Context, t *testing.T, modify func(*testcontainers.ContainerRequest)) (string, error) {
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:        searchImage,
			Labels:       runLabels(),
			ExposedPorts: []string{"9200/tcp"},
			Env:          map[string]string{"SEARCH_HEAP": "512m"},
			WaitingFor: wait.ForAll(
				wait.ForLog("SLUICE_SEARCH_READY"),
				wait.ForHTTP("/_cluster/health").WithPort("9200/tcp").
					WithResponseMatcher(func(body io.Reader) bool {
						b, _ := io.ReadAll(body)
						return bytes.Contains(b, []byte(`"status":"green"`)) || bytes.Contains(b, []byte(`"status":"yellow"`))
					}),
			).WithDeadline(4 * time.Minute),
		},
		Started: true,
	}
	if modify != nil {
		modify(&req.ContainerRequest)
	}
	c, err := testcontainers.GenericContainer(ctx, req)
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		return "", fmt.Errorf("starting %s: %w", searchImage, err)
	}
	ep, err := c.PortEndpoint(ctx, "9200/tcp", "http")
	if err != nil {
		return "", fmt.Errorf("%s: published port: %w", searchImage, err)
	}
	return ep, nil
}

// runLabels marks every container with the make target's run id, so its
// trap can remove what a killed test binary left behind.
func runLabels() map[string]string {
	run := os.Getenv("SLUICE_CONTAINERS_RUN")
	if run == "" {
		run = "adhoc"
	}
	return map[string]string{"io.sluice.run": run}
}

// waitBroker polls the broker until it answers a metadata request.
func waitBroker(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	for {
		err := cl.Ping(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer from %s within %v: %w", addr, timeout, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// TestContainerPipeline starts Kafka and OpenSearch as containers, runs the
// three services against them, stops and restarts the Kafka container
// mid-stream (its log survives in the container), and checks every line
// written is indexed exactly once with its Kubernetes and parsed fields.
func TestContainerPipeline(t *testing.T) {
	requireEngine(t, kafkaImage, searchImage)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	began := time.Now()
	var (
		wg          sync.WaitGroup
		kafkaC      testcontainers.Container
		broker, url string
		kErr, sErr  error
	)
	// The two engines start at once.
	wg.Add(2)
	go func() {
		defer wg.Done()
		kafkaC, broker, kErr = startKafka(ctx, t)
	}()
	go func() {
		defer wg.Done()
		url, sErr = startSearch(ctx, t)
	}()
	wg.Wait()
	if err := errors.Join(kErr, sErr); err != nil {
		t.Fatal(err)
	}
	t.Logf("containers up in %v: kafka %s (%s), opensearch %s (%s)",
		time.Since(began).Round(time.Millisecond), broker, kafkaImage, url, searchImage)

	run := strconv.FormatInt(time.Now().UnixNano(), 10)
	index := "sluice-containers-" + run
	logs := &loggingtest.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service logs:\n%s", logs.String())
		}
	})
	st, err := stack.Start(ctx, stack.Options{
		Dir: t.TempDir(), Brokers: []string{broker}, SearchURL: url, SearchFlavor: "opensearch",
		Prefix: "tc-" + run + ".", Index: index, Partitions: 3,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()

	pods := newPods(t, st.LogDir(), 3)
	writeAll(t, pods, 200, 50)

	// Take the broker away mid-stream and bring the same container back:
	// lines written meanwhile wait in the files, records in flight are
	// retried, and nothing may be lost or doubled.
	stopTimeout := 20 * time.Second
	if err := kafkaC.Stop(ctx, &stopTimeout); err != nil {
		t.Fatalf("stopping the kafka container: %v", err)
	}
	writeAll(t, pods, 100, 50)
	restart := time.Now()
	if err := kafkaC.Start(ctx); err != nil {
		t.Fatalf("restarting the kafka container: %v", err)
	}
	// The container's log still holds the first start's "Kafka Server
	// started", so readiness is asked of the broker itself.
	if err := waitBroker(ctx, broker, 2*time.Minute); err != nil {
		t.Fatalf("kafka after the container restart: %v", err)
	}
	t.Logf("kafka container restarted and answering in %v", time.Since(restart).Round(time.Millisecond))
	writeAll(t, pods, 100, 50)

	want := total(pods)
	var docs map[string]json.RawMessage
	deadline := time.Now().Add(3 * time.Minute)
	for {
		docs = searchAll(t, url, index)
		if len(docs) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	// Anything late (a duplicate would be) has a moment to show up.
	time.Sleep(time.Second)
	docs = searchAll(t, url, index)
	if len(docs) != want {
		t.Errorf("%d documents in %s, want %d", len(docs), index, want)
	}
	dup := tally(t, docs, pods)
	t.Logf("%d lines written, %d documents indexed, %d duplicated, in %v from the first container start",
		want, len(docs), dup, time.Since(began).Round(time.Millisecond))
}
