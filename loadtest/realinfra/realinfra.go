// Package realinfra gives tests a real Apache Kafka broker and a real search
// engine (OpenSearch 2.x by default, Elasticsearch OSS 7.10.2 on request),
// started on loopback by scripts/infra from jars fetched from Maven Central.
//
// Resolution order, for Kafka and the search engine separately:
//
//  1. SLUICE_KAFKA_BROKERS (comma-separated host:port) or SLUICE_SEARCH_URL
//     (with optional SLUICE_SEARCH_FLAVOR) point at something already running;
//     it is used as is.
//  2. If Java (java, and javac for the search engine) or Maven (mvn) is not
//     on PATH, the test is skipped with a message naming what is missing.
//  3. Otherwise scripts/infra/kafka-up.sh or search-up.sh is run once per
//     test binary. Any failure is a test failure carrying the script's
//     output, never a skip.
//
// The servers are left running when the test binary exits, because `go test
// ./...` runs several test binaries at once and they share one broker and one
// search node (the up scripts are idempotent and serialised with flock). Stop
// them with `make infra-down` (scripts/infra/infra-down.sh) when the whole
// run is over. A binary that knows it is alone may call Stop from TestMain.
package realinfra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// ScriptTimeout bounds one run of an up script. A cold Maven cache makes the
// first run download ~100 MB of jars; later runs take a few seconds.
var ScriptTimeout = 10 * time.Minute

type started struct {
	once    sync.Once
	addr    string // "host:port" for Kafka, URL for search
	flavor  string // search only
	out     string
	err     error
	ourself bool // this process started it (not "already running")
}

var (
	kafka  started
	search started
)

// Available reports whether the real infrastructure can be used here: either
// both SLUICE_KAFKA_BROKERS and SLUICE_SEARCH_URL are set, or Java (java and
// javac) and Maven are on PATH. When it cannot, the string says what is
// missing.
func Available() (bool, string) {
	if os.Getenv("SLUICE_KAFKA_BROKERS") != "" && os.Getenv("SLUICE_SEARCH_URL") != "" {
		return true, ""
	}
	if missing := missingTools(true); missing != "" {
		return false, missing
	}
	return true, ""
}

// missingTools names the absent tools among java, javac (when withJavac) and
// mvn, honouring the SLUICE_JAVA / SLUICE_JAVAC / SLUICE_MVN overrides the
// scripts use; "" when all are present.
func missingTools(withJavac bool) string {
	type tool struct{ env, def, what string }
	tools := []tool{{"SLUICE_JAVA", "java", "Java (java)"}}
	if withJavac {
		tools = append(tools, tool{"SLUICE_JAVAC", "javac", "a JDK (javac)"})
	}
	tools = append(tools, tool{"SLUICE_MVN", "mvn", "Maven (mvn)"})
	var missing []string
	for _, t := range tools {
		name := os.Getenv(t.env)
		if name == "" {
			name = t.def
		}
		if _, err := exec.LookPath(name); err != nil {
			missing = append(missing, fmt.Sprintf("%s: %q not found on PATH", t.what, name))
		}
	}
	return strings.Join(missing, "; ")
}

// Kafka returns the bootstrap addresses of a real Kafka broker (see the
// package comment for where it comes from).
func Kafka(tb testing.TB) (brokers []string) {
	tb.Helper()
	if env := os.Getenv("SLUICE_KAFKA_BROKERS"); env != "" {
		for _, b := range strings.Split(env, ",") {
			if b = strings.TrimSpace(b); b != "" {
				brokers = append(brokers, b)
			}
		}
		return brokers
	}
	if missing := missingTools(false); missing != "" {
		tb.Skipf("realinfra: cannot start a real Kafka broker: %s (or set SLUICE_KAFKA_BROKERS)", missing)
	}
	kafka.once.Do(func() { kafka.run("kafka-up.sh", "kafka") })
	if kafka.err != nil {
		tb.Fatalf("realinfra: scripts/infra/kafka-up.sh failed: %v\n%s", kafka.err, kafka.out)
	}
	return []string{kafka.addr}
}

// Search returns the base URL of a real search engine and its flavor,
// "opensearch" or "elasticsearch" (see the package comment).
func Search(tb testing.TB) (url string, flavor string) {
	tb.Helper()
	if env := os.Getenv("SLUICE_SEARCH_URL"); env != "" {
		url = strings.TrimRight(env, "/")
		flavor = os.Getenv("SLUICE_SEARCH_FLAVOR")
		if flavor == "" {
			var err error
			if flavor, err = probeFlavor(url); err != nil {
				tb.Fatalf("realinfra: SLUICE_SEARCH_URL=%s: %v", env, err)
			}
		}
		return url, flavor
	}
	if missing := missingTools(true); missing != "" {
		tb.Skipf("realinfra: cannot start a real search engine: %s (or set SLUICE_SEARCH_URL)", missing)
	}
	search.once.Do(func() { search.run("search-up.sh", "search") })
	if search.err != nil {
		tb.Fatalf("realinfra: scripts/infra/search-up.sh failed: %v\n%s", search.err, search.out)
	}
	return search.addr, search.flavor
}

// Stop runs scripts/infra/infra-down.sh if this process started Kafka or the
// search engine itself. Only call it where no other test binary can be using
// them (see the package comment); it returns the script's error, if any.
func Stop() error {
	if !kafka.ourself && !search.ourself {
		return nil
	}
	dir, err := ScriptsDir()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", filepath.Join(dir, "infra-down.sh")).CombinedOutput()
	if err != nil {
		return fmt.Errorf("infra-down.sh: %v\n%s", err, out)
	}
	kafka.ourself, search.ourself = false, false
	return nil
}

// upLine matches the scripts' success line, e.g.
//
//	kafka up on 127.0.0.1:19092 (pid 123)
//	search already running on http://127.0.0.1:19200 (opensearch 2.19.1, pid 456)
var upLine = regexp.MustCompile(`(?m)^(kafka|search) (up|already running) on (\S+) \((?:(\S+) \S+, )?pid \d+\)\s*$`)

func (s *started) run(script, what string) {
	dir, err := ScriptsDir()
	if err != nil {
		s.err = err
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), ScriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(dir, script))
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	s.out = string(out)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w after %v", ctx.Err(), ScriptTimeout)
		}
		s.err = err
		return
	}
	s.addr, s.flavor, s.ourself, s.err = parseUp(s.out, what)
}

// parseUp extracts the address (and the search flavor) from an up script's
// output.
func parseUp(out, what string) (addr, flavor string, ourself bool, err error) {
	for _, m := range upLine.FindAllStringSubmatch(out, -1) {
		if m[1] == what {
			return m[3], m[4], m[2] == "up", nil
		}
	}
	return "", "", false, errors.New("the script succeeded but printed no '" + what + " up on ...' line")
}

// ScriptsDir locates scripts/infra: $SLUICE_INFRA_DIR, else next to this
// source file, else by walking up from the working directory.
func ScriptsDir() (string, error) {
	if d := os.Getenv("SLUICE_INFRA_DIR"); d != "" {
		return d, nil
	}
	var candidates []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		candidates = append(candidates, filepath.Join(filepath.Dir(file), "..", "..", "scripts", "infra"))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			candidates = append(candidates, filepath.Join(d, "scripts", "infra"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "kafka-up.sh")); err == nil {
			return filepath.Clean(c), nil
		}
	}
	return "", errors.New("cannot find scripts/infra (set SLUICE_INFRA_DIR)")
}

// probeFlavor asks GET / which engine answers at url.
func probeFlavor(url string) (string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var root struct {
		Version struct {
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&root); err != nil {
		return "", fmt.Errorf("GET /: %s: %v", resp.Status, err)
	}
	if root.Version.Distribution == "opensearch" {
		return "opensearch", nil
	}
	return "elasticsearch", nil
}
