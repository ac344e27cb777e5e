package shipper

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-io/sluice/libs/kafkatest"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
)

// TestNamespaceFairness: one namespace ("batch", ten pods) has 10 MB of
// logs waiting, the other ("web", one pod) writes a line every 100ms
// (well over 100× less), and Kafka is throttled (every produce request
// waits 100ms) so the backlog takes seconds to drain. The read budget is
// shared by namespace, so web's lines do not queue behind batch's backlog:
// each is delivered within 1.5s of being written (fifteen throttled
// produce round trips; 4s under the race detector), while batch lags on
// disk. Nothing is dropped.
func TestNamespaceFairness(t *testing.T) {
	c := kafkatest.New(t, 6, "logs.raw")
	dir := t.TempDir()
	cfg := testConfig(t, c, dir)
	cfg.Kafka.MaxBufferedBytes = 512 << 10
	cfg.Kafka.Compression = "none"
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { time.Sleep(100 * time.Millisecond) })
		return nil, nil, false
	})
	const (
		noisyPods   = 10
		noisyPerPod = 5000 // ~200-byte lines: 1 MB per pod
		quietLines  = 25
	)
	latencyBound := 1500 * time.Millisecond
	if raceEnabled {
		latencyBound = 4 * time.Second // the reader, not Kafka, is the bottleneck then
	}
	pad := strings.Repeat("x", 160)
	for p := 0; p < noisyPods; p++ {
		var b strings.Builder
		for i := 0; i < noisyPerPod; i++ {
			fmt.Fprintf(&b, "2026-11-24T10:00:00.%09dZ stdout F batch %d %s\n", i, i, pad)
		}
		name := fmt.Sprintf("job-%d_batch_worker-%s.log", p, containerID)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	quiet := filepath.Join(dir, "api-0_web_app-"+containerID+".log")
	writeCRI(t, quiet, 0, 0)

	// Consume as the shipper produces.
	cl := c.Client(kgo.ConsumeTopics("logs.raw"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(16<<20))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var noisyGot, quietGot atomic.Int64
	var worst atomic.Int64
	var noisyAtQuietEnd atomic.Int64
	var noisyDone atomic.Int64 // when the last noisy line was consumed
	var lats []time.Duration
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for noisyGot.Load() < noisyPods*noisyPerPod || quietGot.Load() < quietLines {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				return
			}
			now := time.Now()
			fs.EachRecord(func(r *kgo.Record) {
				raw := &logsv1.RawRecord{}
				if err := proto.Unmarshal(r.Value, raw); err != nil {
					t.Error(err)
					return
				}
				if raw.GetKubernetes().GetNamespace() != "web" {
					if noisyGot.Add(1) == noisyPods*noisyPerPod {
						noisyDone.Store(now.UnixNano())
					}
					return
				}
				written, err := strconv.ParseInt(strings.TrimPrefix(string(raw.GetLine()), "written="), 10, 64)
				if err != nil {
					t.Errorf("quiet line %q", raw.GetLine())
					return
				}
				lat := now.Sub(time.Unix(0, written))
				lats = append(lats, lat.Round(time.Millisecond))
				if int64(lat) > worst.Load() {
					worst.Store(int64(lat))
				}
				if quietGot.Add(1) == quietLines {
					noisyAtQuietEnd.Store(noisyGot.Load())
				}
			})
		}
	}()

	started := time.Now()
	startShipper(t, cfg)
	f, err := os.OpenFile(quiet, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	time.Sleep(300 * time.Millisecond) // the backlog is being read and throttled
	for i := 0; i < quietLines; i++ {
		fmt.Fprintf(f, "2026-11-24T10:00:01.%09dZ stdout F written=%d\n", i, time.Now().UnixNano())
		time.Sleep(100 * time.Millisecond)
	}
	<-consumed
	if got := noisyGot.Load(); got != noisyPods*noisyPerPod {
		t.Fatalf("noisy namespace: %d of %d lines delivered", got, noisyPods*noisyPerPod)
	}
	if got := quietGot.Load(); got != quietLines {
		t.Fatalf("quiet namespace: %d of %d lines delivered", got, quietLines)
	}
	if n := noisyAtQuietEnd.Load(); n >= noisyPods*noisyPerPod {
		t.Fatalf("the noisy backlog was delivered before the quiet lines: Kafka was not the bottleneck and the test measured nothing")
	}
	// Without fairness a quiet line waits for the backlog ahead of it, about
	// the whole drain; on a machine slow enough to stretch the drain, the
	// bound stretches with it.
	drain := time.Unix(0, noisyDone.Load()).Sub(started)
	latencyBound = max(latencyBound, drain/3)
	if w := time.Duration(worst.Load()); w > latencyBound {
		t.Logf("quiet latencies %v", lats)
		t.Fatalf("a quiet namespace line took %s to reach Kafka while another namespace had a backlog; bound %s", w, latencyBound)
	} else {
		t.Logf("quiet latencies %v", lats)
		t.Logf("quiet namespace worst latency %s (bound %s); noisy namespace had %d of %d lines delivered when the quiet one finished, all in %s", w, latencyBound, noisyAtQuietEnd.Load(), noisyPods*noisyPerPod, drain.Round(time.Millisecond))
	}
}
