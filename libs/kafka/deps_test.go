package kafka

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServiceBinariesHaveNoFakeCluster checks that no service binary links
// franz-go's kfake: the embedded cluster belongs to tests and the local run
// (libs/kafkatest), and a production binary carrying it would be one
// import away from serving a fake Kafka.
func TestServiceBinariesHaveNoFakeCluster(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not on PATH (%v): cannot list the binaries' dependencies", err)
	}
	root := workspaceRoot(t)
	cmds, err := filepath.Glob(filepath.Join(root, "services", "*", "cmd"))
	if err != nil || len(cmds) == 0 {
		t.Fatalf("no services/*/cmd under %s (%v)", root, err)
	}
	args := []string{"list", "-deps", "-f", "{{.ImportPath}}"}
	for _, c := range cmds {
		rel, _ := filepath.Rel(root, c)
		args = append(args, "./"+filepath.ToSlash(rel)+"/...")
	}
	cmd := exec.Command(goTool, args...)
	cmd.Dir = root
	// The check is about the workspace, even when the module is tested on
	// its own (GOWORK=off).
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(root, "go.work"))
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list found only %d packages: %s", len(deps), out)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "github.com/twmb/franz-go/pkg/kfake") || strings.HasSuffix(p, "/libs/kafkatest") {
			t.Errorf("a service binary (%v) depends on %s", cmds, p)
		}
	}
}

// workspaceRoot returns the directory of go.work above this package.
func workspaceRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("not inside the Sluice workspace (no go.work above the package)")
		}
		dir = parent
	}
}
