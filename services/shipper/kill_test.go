package shipper

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/kafkatest"
)

// TestKill9MidBatch (FAULTS row 1) runs the shipper binary, kills it with
// SIGKILL at a random moment while lines are being written and shipped,
// starts it again, and checks that every line reached Kafka: the checkpoint
// only ever held acknowledged offsets, so the restart re-sends at most the
// unacknowledged window and skips nothing.
func TestKill9MidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the shipper binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "shipper")
	build := exec.Command("go", "build", "-o", bin, "./cmd/shipper")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the shipper: %v\n%s", err, out)
	}
	c := kafkatest.New(t, 3, "logs.raw")
	dir := t.TempDir()
	state := filepath.Join(t.TempDir(), "state.json")
	cfgFile := filepath.Join(t.TempDir(), "shipper.yaml")
	cfg := fmt.Sprintf(`node: node-1
kafka: {brokers: [%s], max_buffered_bytes: 256KiB, linger: 20ms}
tail: {include: ['%s/*.log'], roots: ['%s'], poll_interval: 50ms}
state: {path: '%s', interval: 100ms}
admin: {listen: "", metrics_listen: ""}
log: {level: warn}
`, strings.Join(c.Brokers(), ", "), dir, dir, state)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "-config", cfgFile)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}

	const pods, perPod = 3, 3000
	written := make(chan struct{})
	go func() {
		defer close(written)
		for i := 0; i < perPod; i += 100 {
			for p := 0; p < pods; p++ {
				writeCRI(t, filepath.Join(dir, fmt.Sprintf("web-%d_shop_nginx-%s.log", p, containerID)), i, 100)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	cmd := start()
	time.Sleep(time.Duration(500+rand.IntN(2000)) * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	before := len(c.ReadAll("logs.raw", pods*perPod, 500*time.Millisecond))
	t.Logf("killed with SIGKILL after %d lines reached Kafka", before)

	cmd = start()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	<-written
	recs := decodeAll(t, c.ReadAll("logs.raw", pods*perPod, 2*time.Minute))
	time.Sleep(500 * time.Millisecond)
	recs = decodeAll(t, c.ReadAll("logs.raw", len(recs)+1_000_000, 3*time.Second))
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.GetKubernetes().GetPod()+"/"+string(r.GetLine())]++
	}
	dups := len(recs) - len(seen)
	for p := 0; p < pods; p++ {
		for i := 0; i < perPod; i++ {
			if seen[fmt.Sprintf("web-%d/line %d", p, i)] == 0 {
				t.Fatalf("web-%d line %d lost across the kill", p, i)
			}
		}
	}
	t.Logf("%d lines, %d records, %d re-sent from the unacknowledged window", pods*perPod, len(recs), dups)
	// The window is bounded by the producer's buffer (256 KiB ≈ 4,000 of
	// these lines) plus one checkpoint interval of acknowledged lines.
	if dups > 6000 {
		t.Fatalf("%d duplicates: more than the unacknowledged window", dups)
	}
}
