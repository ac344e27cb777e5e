//go:build containers

package containers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// The project's own images, built from services/*/Dockerfile and
// loadtest/Dockerfile by scripts/infra/engine-images.sh (the names
// docker-compose.yml gives them).
var (
	shipperImage = envOr("SLUICE_SHIPPER_IMAGE", "sluice-local/shipper:dev")
	parserImage  = envOr("SLUICE_PARSER_IMAGE", "sluice-local/parser:dev")
	indexerImage = envOr("SLUICE_INDEXER_IMAGE", "sluice-local/indexer:dev")
)

// nameSuffix makes this run's container names unique.
var nameSuffix = strconv.FormatInt(time.Now().UnixNano(), 36)

// repoFile is a path in the repository (the test runs in loadtest/containers).
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// serviceRequest is a container of one of the project's images, run the way
// docker-compose.yml runs it: on the stack's network, read-only root
// filesystem, every capability dropped, no privilege escalation, a tmpfs
// /tmp, and its configuration file from deploy/helm/sluice/files.
func serviceRequest(t *testing.T, nw, name, image, config string, env map[string]string, binds ...string) testcontainers.GenericContainerRequest {
	return serviceRequestWith(t, nw, name, image, config, repoFile(t, "deploy/helm/sluice/files/"+config), env, binds...)
}

// serviceRequestWith is serviceRequest with the configuration file from hostConfig.
func serviceRequestWith(t *testing.T, nw, name, image, config, hostConfig string, env map[string]string, binds ...string) testcontainers.GenericContainerRequest {
	binds = append(binds, hostConfig+":/etc/sluice/"+config+":ro")
	return testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Name:           fmt.Sprintf("sluice-%s-%s", name, nameSuffix),
			Image:          image,
			Labels:         runLabels(),
			Env:            env,
			Cmd:            []string{"-config", "/etc/sluice/" + config},
			Networks:       []string{nw},
			NetworkAliases: map[string][]string{nw: {name}},
			Tmpfs:          map[string]string{"/tmp": "rw"},
			HostConfigModifier: func(hc *container.HostConfig) {
				hc.Binds = append(hc.Binds, binds...)
				hc.ReadonlyRootfs = true
				hc.CapDrop = []string{"ALL"}
				hc.SecurityOpt = []string{"no-new-privileges:true"}
			},
			// libs/service logs this once setup (Kafka, the search engine) is done.
			WaitingFor: wait.ForLog(`"msg":"started"`).WithStartupTimeout(3 * time.Minute),
		},
		Started: true,
	}
}

func startContainer(ctx context.Context, t *testing.T, req testcontainers.GenericContainerRequest) (testcontainers.Container, error) {
	c, err := testcontainers.GenericContainer(ctx, req)
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w%s", req.Name, req.Image, err, containerLogTail(ctx, c))
	}
	return c, nil
}

// containerLogTail is the end of a container's log, for error messages.
func containerLogTail(ctx context.Context, c testcontainers.Container) string {
	if c == nil {
		return ""
	}
	rc, err := c.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\n\tlog: " + strings.Join(lines, "\n\t     ")
}

// TestContainerImages runs the pipeline from the project's own images, built
// from its Dockerfiles: Kafka and OpenSearch containers with the shipper,
// two parsers and the indexer as containers beside them on one network,
// configured as docker-compose.yml configures them. The test writes
// kubelet-style logs into a host folder the shipper container mounts
// read-only as /var/log/containers, stops the indexer container mid-stream
// (SIGTERM to the binary as PID 1: it must drain and exit 0) and starts it
// again, and checks every line is indexed exactly once with its Kubernetes
// and parsed fields.
func TestContainerImages(t *testing.T) {
	requireEngine(t, kafkaImage, searchImage, shipperImage, parserImage, indexerImage)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	began := time.Now()

	nw, err := tcnetwork.New(ctx, tcnetwork.WithLabels(runLabels()))
	testcontainers.CleanupNetwork(t, nw)
	if err != nil {
		t.Fatalf("creating a network: %v", err)
	}

	// Kafka and the search engine, at once. Inside the network they are
	// kafka:9092 and search:9200, as in docker-compose.yml; only the search
	// port is published (on a free port), for the test to read documents.
	var (
		wg         sync.WaitGroup
		kafkaC     testcontainers.Container
		url        string
		kErr, sErr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		kafkaC, kErr = startContainer(ctx, t, testcontainers.GenericContainerRequest{
			ContainerRequest: testcontainers.ContainerRequest{
				Image:          kafkaImage,
				Labels:         runLabels(),
				Networks:       []string{nw.Name},
				NetworkAliases: map[string][]string{nw.Name: {"kafka"}},
				Env: map[string]string{
					"KAFKA_ADVERTISED_LISTENERS":      "PLAINTEXT://kafka:9092",
					"KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
					"KAFKA_HEAP_OPTS":                 "-Xms128m -Xmx384m",
				},
				WaitingFor: wait.ForLog("Kafka Server started").WithStartupTimeout(3 * time.Minute),
			},
			Started: true,
		})
	}()
	go func() {
		defer wg.Done()
		url, sErr = startSearchOn(ctx, t, nw.Name)
	}()
	wg.Wait()
	if err := errors.Join(kErr, sErr); err != nil {
		t.Fatal(err)
	}
	t.Logf("kafka and opensearch up in %v (search on %s)", time.Since(began).Round(time.Millisecond), url)

	// The topics, as docker-compose.yml's one-shot topics job makes them.
	for _, spec := range []string{"logs.raw:6", "logs.parsed:6", "logs.dlq:1"} {
		name, parts, _ := strings.Cut(spec, ":")
		code, out, err := kafkaC.Exec(ctx, []string{"/opt/kafka/bin/kafka-topics.sh",
			"--bootstrap-server", "kafka:9092", "--create", "--if-not-exists", "--topic", name,
			"--partitions", parts, "--replication-factor", "1", "--config", "max.message.bytes=8388608"})
		if err != nil || code != 0 {
			var b []byte
			if out != nil {
				b, _ = io.ReadAll(out)
			}
			t.Fatalf("creating topic %s: exit %d, %v: %s", name, code, err, b)
		}
	}

	// Host folders the shipper tails, as the node's /var/log/{pods,containers}.
	logs := t.TempDir()
	podsDir, containersDir := filepath.Join(logs, "pods"), filepath.Join(logs, "containers")
	for _, d := range []string{podsDir, containersDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	state := t.TempDir()
	kafkaEnv := map[string]string{"SLUICE_KAFKA_BROKERS": "kafka:9092"}
	// The chart's parser configuration picks the nginx rule by the pod's
	// sluice.io/parser annotation; with no Kubernetes API here the test adds
	// one rule that picks it by container name.
	chartParser, err := os.ReadFile(repoFile(t, "deploy/helm/sluice/files/parser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	parserYAML := string(chartParser)
	if i := strings.Index(parserYAML, "\nrules:\n"); i < 0 {
		t.Fatalf("deploy/helm/sluice/files/parser.yaml has no rules: section")
	} else {
		at := i + len("\nrules:\n")
		parserYAML = parserYAML[:at] + "  - name: nginx-containers\n    match: {containers: [nginx]}\n    builtin: nginx\n" + parserYAML[at:]
	}
	parserConfig := filepath.Join(t.TempDir(), "parser.yaml")
	if err := os.WriteFile(parserConfig, []byte(parserYAML), 0o644); err != nil {
		t.Fatal(err)
	}

	started := time.Now()
	indexerReq := serviceRequest(t, nw.Name, "indexer", indexerImage, "indexer.yaml", map[string]string{
		"SLUICE_KAFKA_BROKERS": "kafka:9092", "ES_URL": "http://search:9200", "SLUICE_ES_FLAVOR": "opensearch",
	})
	var svcs []testcontainers.Container
	var svcErrs []error
	var mu sync.Mutex
	reqs := []testcontainers.GenericContainerRequest{
		indexerReq,
		serviceRequestWith(t, nw.Name, "parser-0", parserImage, "parser.yaml", parserConfig, kafkaEnv),
		serviceRequestWith(t, nw.Name, "parser-1", parserImage, "parser.yaml", parserConfig, kafkaEnv),
		// uid 0 with every capability dropped, as in docker-compose.yml.
		func() testcontainers.GenericContainerRequest {
			r := serviceRequest(t, nw.Name, "shipper", shipperImage, "shipper.yaml", map[string]string{
				"NODE_NAME": "containers-node", "SLUICE_KAFKA_BROKERS": "kafka:9092",
				"SLUICE_STATE_DIR": "/var/lib/sluice", "SLUICE_KUBERNETES": "false",
			}, podsDir+":/var/log/pods:ro", containersDir+":/var/log/containers:ro", state+":/var/lib/sluice")
			r.User = "0:0"
			return r
		}(),
	}
	svcs = make([]testcontainers.Container, len(reqs))
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := startContainer(ctx, t, r)
			mu.Lock()
			defer mu.Unlock()
			svcs[i] = c
			svcErrs = append(svcErrs, err)
		}()
	}
	wg.Wait()
	if err := errors.Join(svcErrs...); err != nil {
		t.Fatal(err)
	}
	indexerC := svcs[0]
	t.Cleanup(func() {
		if t.Failed() {
			for i, c := range svcs {
				t.Logf("%s:%s", reqs[i].Name, containerLogTail(context.Background(), c))
			}
		}
	})
	t.Logf("shipper, 2 parsers and indexer containers (%s, %s, %s) started in %v",
		shipperImage, parserImage, indexerImage, time.Since(started).Round(time.Millisecond))

	pods := newPods(t, containersDir, 3)
	writeAll(t, pods, 200, 50)
	// Documents flowing, so the indexer is stopped mid-stream.
	for flowing := time.Now().Add(time.Minute); len(searchAll(t, url, "logs-*")) == 0; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(flowing) {
			t.Fatal("no document indexed within a minute of the first lines")
		}
	}

	// SIGTERM to the indexer binary (PID 1 in a distroless-style image, no
	// init): it must drain, commit and exit 0 within the grace period.
	stopTimeout := 30 * time.Second
	stopAt := time.Now()
	if err := indexerC.Stop(ctx, &stopTimeout); err != nil {
		t.Fatalf("stopping the indexer container: %v", err)
	}
	st, err := indexerC.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ExitCode != 0 {
		t.Errorf("the indexer exited %d on SIGTERM, want 0 (stopped after %v)%s", st.ExitCode, time.Since(stopAt).Round(time.Millisecond), containerLogTail(ctx, indexerC))
	} else {
		t.Logf("indexer container stopped on SIGTERM in %v, exit 0", time.Since(stopAt).Round(time.Millisecond))
	}
	writeAll(t, pods, 100, 50)
	if err := indexerC.Start(ctx); err != nil {
		t.Fatalf("starting the indexer container again: %v", err)
	}
	writeAll(t, pods, 100, 50)

	want := total(pods)
	var docs map[string]json.RawMessage
	deadline := time.Now().Add(3 * time.Minute)
	for {
		docs = searchAll(t, url, "logs-*")
		if len(docs) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	docs = searchAll(t, url, "logs-*")
	if len(docs) != want {
		t.Errorf("%d documents in logs-*, want %d", len(docs), want)
	}
	dup := tally(t, docs, pods)
	t.Logf("%d lines written, %d documents indexed, %d duplicated, in %v from the first container start",
		want, len(docs), dup, time.Since(began).Round(time.Millisecond))
}

// startSearchOn is startSearch on a network, with the alias "search".
func startSearchOn(ctx context.Context, t *testing.T, nw string) (string, error) {
	return startSearchWith(ctx, t, func(r *testcontainers.ContainerRequest) {
		r.Networks = []string{nw}
		r.NetworkAliases = map[string][]string{nw: {"search"}}
	})
}
