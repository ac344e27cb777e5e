package realinfra

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Cluster is a three-broker Kafka cluster started by
// scripts/infra/kafka-cluster.sh: KRaft, replication factor 3 and
// min.insync.replicas=2 by default, with a PLAINTEXT and a SASL_SSL
// (SCRAM-SHA-512) listener on every broker.
type Cluster struct {
	// Plain and SASL are the brokers' addresses on each listener, broker 1
	// first: Plain[i] and SASL[i] are broker i+1.
	Plain, SASL []string
	// CAFile is the CA that signed the brokers' certificate;
	// UntrustedCAFile is another CA, which signed nothing they present.
	CAFile, UntrustedCAFile string
	// User and Password are the SCRAM-SHA-512 credentials the script created.
	User, Password string
	script         string
}

// clusterLine matches kafka-cluster.sh's success line.
var clusterLine = regexp.MustCompile(`(?m)^kafka-cluster up: plaintext (\S+) sasl_ssl (\S+) ca (\S+) user (\S+)\s*$`)

// KafkaCluster starts the three-broker cluster for this test and stops it
// (removing its data) when the test ends: it costs three JVMs, so only the
// tests that need it have it. It skips when Java or Maven is missing, and
// fails when the script does.
func KafkaCluster(tb testing.TB) *Cluster {
	tb.Helper()
	if missing := missingTools(false); missing != "" {
		tb.Skipf("realinfra: cannot start a three-broker Kafka cluster: %s", missing)
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		tb.Skip("realinfra: cannot start a three-broker Kafka cluster: openssl (for its TLS certificates) not found on PATH")
	}
	dir, err := ScriptsDir()
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{script: filepath.Join(dir, "kafka-cluster.sh"), Password: "sluice-secret"}
	start := time.Now()
	out, err := c.run("up")
	if err != nil {
		c.run("down") //nolint:errcheck // best effort after a failed start
		tb.Fatalf("realinfra: kafka-cluster.sh up: %v\n%s", err, out)
	}
	tb.Cleanup(func() {
		if out, err := c.run("down"); err != nil {
			tb.Errorf("realinfra: kafka-cluster.sh down: %v\n%s", err, out)
		}
	})
	m := clusterLine.FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("realinfra: kafka-cluster.sh up printed no 'kafka-cluster up:' line:\n%s", out)
	}
	c.Plain, c.SASL = strings.Split(m[1], ","), strings.Split(m[2], ",")
	c.CAFile, c.User = m[3], m[4]
	c.UntrustedCAFile = filepath.Join(filepath.Dir(c.CAFile), "untrusted-ca.crt")
	tb.Logf("three-broker Kafka cluster up in %v: plaintext %v, sasl_ssl %v", time.Since(start).Round(time.Millisecond), c.Plain, c.SASL)
	return c
}

// Kill kills broker id (1..3) with SIGKILL; its log dir stays.
func (c *Cluster) Kill(tb testing.TB, id int32) {
	tb.Helper()
	if out, err := c.run("kill", fmt.Sprint(id)); err != nil {
		tb.Fatalf("realinfra: kafka-cluster.sh kill %d: %v\n%s", id, err, out)
	}
}

// Start starts broker id again on its log dir and waits until it answers.
func (c *Cluster) Start(tb testing.TB, id int32) {
	tb.Helper()
	if out, err := c.run("start", fmt.Sprint(id)); err != nil {
		tb.Fatalf("realinfra: kafka-cluster.sh start %d: %v\n%s", id, err, out)
	}
}

func (c *Cluster) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ScriptTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{c.script}, args...)...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}
