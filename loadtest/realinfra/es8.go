package realinfra

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// ES8 is an Elasticsearch 8 node started by scripts/infra/es8.sh from the
// minimal integ-test distribution (see that script for what it lacks), with
// security on: requests need basic auth as User.
type ES8 struct {
	URL, Version   string
	User, Password string
}

var es8Line = regexp.MustCompile(`(?m)^es8 up on (\S+) \(elasticsearch (\S+), user (\S+), pid \d+\)\s*$`)

// Elasticsearch8 starts Elasticsearch 8 for this test and stops it (removing
// its data) when the test ends. It skips when Java, curl or unzip is
// missing, and fails when the script does.
func Elasticsearch8(tb testing.TB) *ES8 {
	tb.Helper()
	java := os.Getenv("SLUICE_JAVA")
	if java == "" {
		java = "java"
	}
	for _, tool := range []string{java, "curl", "unzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("realinfra: cannot start Elasticsearch 8: %s not found on PATH", tool)
		}
	}
	if os.Getuid() == 0 {
		if _, err := exec.LookPath("setpriv"); err != nil {
			tb.Skip("realinfra: cannot start Elasticsearch 8: it refuses to run as root, and setpriv (to run it as nobody) is not on PATH")
		}
	}
	dir, err := ScriptsDir()
	if err != nil {
		tb.Fatal(err)
	}
	script := filepath.Join(dir, "es8.sh")
	start := time.Now()
	out, err := exec.Command("bash", script, "up").CombinedOutput()
	if err != nil {
		exec.Command("bash", script, "down").Run() //nolint:errcheck // best effort after a failed start
		tb.Fatalf("realinfra: es8.sh up: %v\n%s", err, out)
	}
	tb.Cleanup(func() {
		if out, err := exec.Command("bash", script, "down").CombinedOutput(); err != nil {
			tb.Errorf("realinfra: es8.sh down: %v\n%s", err, out)
		}
	})
	m := es8Line.FindStringSubmatch(string(out))
	if m == nil {
		tb.Fatalf("realinfra: es8.sh up printed no 'es8 up on' line:\n%s", out)
	}
	password := os.Getenv("SLUICE_ES8_PASSWORD")
	if password == "" {
		password = "sluice-es8-secret"
	}
	tb.Logf("Elasticsearch %s up at %s in %v", m[2], m[1], time.Since(start).Round(time.Millisecond))
	return &ES8{URL: m[1], Version: m[2], User: m[3], Password: password}
}

// String names the node for logs.
func (e *ES8) String() string { return fmt.Sprintf("elasticsearch %s at %s", e.Version, e.URL) }
