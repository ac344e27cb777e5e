package shipper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/shipper/config"
)

// brokerDefaultCluster starts a kfake cluster left at Apache Kafka's
// default record size (message.max.bytes 1,048,588, no topic override),
// with the given topics seeded, or none.
func brokerDefaultCluster(t testing.TB, topics ...string) *kfake.Cluster {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.BrokerConfigs(map[string]string{"message.max.bytes": "1048588"})}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(3, topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func sizeConfig(t testing.TB, c *kfake.Cluster, dir string) config.Config {
	return tailConfig(t, c.ListenAddrs(), dir, 8<<20)
}

// readRaw consumes topic from the start until want records arrived or the
// timeout passed.
func readRaw(t testing.TB, c *kfake.Cluster, topic string, want int, timeout time.Duration) []*logsv1.RawRecord {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(64<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	return decodeAll(t, recs)
}

// runShipper runs a shipper and returns a channel with Run's result.
func runShipper(t testing.TB, cfg config.Config, opts ...Option) (*Shipper, <-chan error, context.CancelFunc) {
	t.Helper()
	s, err := New(cfg, "test", slog.New(slog.NewTextHandler(testLogWriter(), &slog.HandlerOptions{Level: slog.LevelDebug})), opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() { defer close(finished); done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(30 * time.Second):
			t.Error("Run did not return")
		}
	})
	return s, done, cancel
}

func criAt(i int, tag, msg string) string {
	return fmt.Sprintf("2026-11-24T10:00:00.%09dZ stdout %s %s\n", i, tag, msg)
}

// TestOversizedEvents covers FAULTS row 27 against a broker left at its
// default record size: a 2 MiB line, the same line split by containerd into
// 16 KiB partial lines, and a burst of incompressible lines produced
// without compression. The shipper does not exit, the lines after arrive,
// and the big line arrives cut to what Kafka accepts, tagged truncated with
// its original size.
func TestOversizedEvents(t *testing.T) {
	const big = 2 << 20
	rng := rand.New(rand.NewPCG(1, 2))
	letters := func(n int) string {
		const abc = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
		b := make([]byte, n)
		for i := range b {
			b[i] = abc[rng.IntN(len(abc))]
		}
		return string(b)
	}
	bigMsg := "é" + letters(big-2) // a two-byte rune first: cuts must stay valid UTF-8
	tests := []struct {
		name        string
		compression string
		write       func(b *strings.Builder) (lines int)
		// bigIndex is the record holding the big line, -1 for none.
		bigIndex int
	}{
		{
			name: "one 2MiB line", compression: "snappy", bigIndex: 1,
			write: func(b *strings.Builder) int {
				b.WriteString(criAt(0, "F", "before"))
				b.WriteString(criAt(1, "F", bigMsg))
				b.WriteString(criAt(2, "F", "after"))
				return 3
			},
		},
		{
			name: "2MiB line split in 16KiB partial lines", compression: "snappy", bigIndex: 1,
			write: func(b *strings.Builder) int {
				b.WriteString(criAt(0, "F", "before"))
				const part = 16 << 10
				for off := 0; off < len(bigMsg); off += part {
					tag := "P"
					if off+part >= len(bigMsg) {
						tag = "F"
					}
					b.WriteString(criAt(1, tag, bigMsg[off:min(off+part, len(bigMsg))]))
				}
				b.WriteString(criAt(2, "F", "after"))
				return 3
			},
		},
		{
			name: "burst of 3000 incompressible 600-byte lines", compression: "none", bigIndex: -1,
			write: func(b *strings.Builder) int {
				for i := 0; i < 3000; i++ {
					b.WriteString(criAt(i, "F", letters(600)))
				}
				b.WriteString(criAt(3000, "F", "after"))
				return 3001
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := brokerDefaultCluster(t, "logs.raw")
			dir := t.TempDir()
			cfg := sizeConfig(t, c, dir)
			cfg.Kafka.Compression = tc.compression
			var b strings.Builder
			n := tc.write(&b)
			if err := os.WriteFile(filepath.Join(dir, "web-1_shop_nginx-"+containerID+".log"), []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			s, done, _ := runShipper(t, cfg)
			recs := readRaw(t, c, "logs.raw", n, 30*time.Second)
			select {
			case err := <-done:
				t.Fatalf("shipper exited: %v", err)
			default:
			}
			if len(recs) != n {
				t.Fatalf("%d records, want %d", len(recs), n)
			}
			if got := string(recs[n-1].GetLine()); got != "after" {
				t.Fatalf("last record %q, want the line after the big one", got)
			}
			lim := s.limits()
			if lim.maxMessageBytes != 1048588 {
				t.Errorf("max.message.bytes read as %d (%s), want the broker default 1048588", lim.maxMessageBytes, lim.source)
			}
			if tc.bigIndex < 0 {
				if s.produceErrors.Load() != 0 {
					t.Errorf("%d produce errors", s.produceErrors.Load())
				}
				return
			}
			waitFor(t, 10*time.Second, "every record acknowledged", func() bool { return s.linesAcked.Load() == int64(n) })
			s.flushAccounts()
			var acct map[string]int64
			for _, row := range s.accounts.Snapshot() {
				if row.Namespace == "shop" && row.Pod == "web-1" && row.Container == "nginx" {
					acct = map[string]int64{}
					for f, n := range row.Counts {
						acct[f.String()] = n
					}
				}
			}
			if acct["lines_tailed"] != int64(n) || acct["lines_produced"] != int64(n) || acct["lines_oversized"] != 1 {
				t.Errorf("accounts of shop/web-1/nginx %v, want %d tailed and produced, 1 oversized", acct, n)
			}
			r := recs[tc.bigIndex]
			line := r.GetLine()
			if !slices.Contains(r.GetFlags(), "truncated") {
				t.Fatalf("big record flags %v, want truncated", r.GetFlags())
			}
			if r.GetOriginalSize() < big {
				t.Errorf("original size %d, want at least %d", r.GetOriginalSize(), big)
			}
			if len(line) == 0 || len(line) > int(lim.maxMessageBytes) || !bytes.HasPrefix([]byte(bigMsg), line) {
				t.Errorf("big line cut to %d bytes; want a non-empty prefix of the line below %d", len(line), lim.maxMessageBytes)
			}
			if !utf8.Valid(line) {
				t.Error("the cut split a UTF-8 sequence")
			}
			if len(line) < 512<<10 {
				t.Errorf("big line cut to %d bytes: far more than needed to fit", len(line))
			}
		})
	}
}

// TestRefusedAsTooLargeIsCutAndRetried: a broker that still refuses a
// record for its size (its limit lowered after the shipper read it) gets
// the record cut and produced again; nothing is fatal and the checkpoint
// covers the line only once it is acknowledged.
func TestRefusedAsTooLargeIsCutAndRetried(t *testing.T) {
	c := brokerDefaultCluster(t, "logs.raw")
	dir := t.TempDir()
	cfg := sizeConfig(t, c, dir)
	cfg.Kafka.Compression = "none"
	const limit = 200 << 10 // what the broker now accepts
	var refused, calls atomic.Int64
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		pr := req.(*kmsg.ProduceRequest)
		calls.Add(1)
		tooBig := false
		for _, tp := range pr.Topics {
			for _, p := range tp.Partitions {
				tooBig = tooBig || len(p.Records) > limit
			}
		}
		if !tooBig {
			return nil, nil, false
		}
		refused.Add(1)
		resp := pr.ResponseKind().(*kmsg.ProduceResponse)
		for _, tp := range pr.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = tp.Topic, tp.TopicID
			for _, p := range tp.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = p.Partition
				rp.ErrorCode = kerr.MessageTooLarge.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
	msg := strings.Repeat("x", 700<<10)
	body := criAt(0, "F", msg) + criAt(1, "F", "after")
	if err := os.WriteFile(filepath.Join(dir, "web-1_shop_nginx-"+containerID+".log"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	s, done, _ := runShipper(t, cfg)
	recs := readRaw(t, c, "logs.raw", 2, 30*time.Second)
	select {
	case err := <-done:
		t.Fatalf("shipper exited: %v", err)
	default:
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	var cut *logsv1.RawRecord
	for _, r := range recs {
		if string(r.GetLine()) != "after" {
			cut = r
		}
	}
	if cut == nil || !slices.Contains(cut.GetFlags(), "truncated") || cut.GetOriginalSize() != int64(len(msg)) || len(cut.GetLine()) > limit {
		t.Fatalf("cut record: %d bytes, flags %v, original size %d (produce requests %d, refused %d)", len(cut.GetLine()), cut.GetFlags(), cut.GetOriginalSize(), calls.Load(), refused.Load())
	}
	if refused.Load() == 0 || s.tooLargeRetries.Load() == 0 {
		t.Fatalf("the broker refused %d requests and the shipper retried %d records; the test did not exercise the refusal", refused.Load(), s.tooLargeRetries.Load())
	}
	waitFor(t, 10*time.Second, "the checkpoint past both lines", func() bool {
		for _, f := range s.Tailer().Files() {
			if f.AckedOffset == int64(len(body)) {
				return true
			}
		}
		return false
	})
}

// TestMissingTopic: a topic that does not exist is an error naming it;
// with kafka.create_topics it is created with the configured
// max.message.bytes, which the shipper then reads back.
func TestMissingTopic(t *testing.T) {
	t.Run("error", func(t *testing.T) {
		c := brokerDefaultCluster(t)
		cfg := sizeConfig(t, c, t.TempDir())
		_, done, _ := runShipper(t, cfg)
		select {
		case err := <-done:
			if !errors.Is(err, errMissingTopic) || !strings.Contains(err.Error(), `"logs.raw"`) {
				t.Fatalf("Run: %v; want an error naming the missing topic", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not fail on a missing topic")
		}
	})
	t.Run("create_topics", func(t *testing.T) {
		c := brokerDefaultCluster(t)
		dir := t.TempDir()
		cfg := sizeConfig(t, c, dir)
		cfg.Kafka.CreateTopics.Enabled = true
		cfg.Kafka.CreateTopics.Partitions = 2
		writeCRI(t, filepath.Join(dir, "web-1_shop_nginx-"+containerID+".log"), 0, 5)
		s, _, _ := runShipper(t, cfg)
		if recs := readRaw(t, c, "logs.raw", 5, 20*time.Second); len(recs) != 5 {
			t.Fatalf("%d records, want 5", len(recs))
		}
		if lim := s.limits(); lim.maxMessageBytes != config.DefaultTopicMaxMessageBytes {
			t.Fatalf("max.message.bytes %d (%s), want the created topic's %d", lim.maxMessageBytes, lim.source, config.DefaultTopicMaxMessageBytes)
		}
	})
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCutUTF8(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 3, "hel"},
		{"hello", 10, "hello"},
		{"héllo", 2, "h"},  // é is two bytes at 1..2
		{"héllo", 3, "hé"}, // whole
		{"a€b", 3, "a"},    // € is three bytes at 1..3
		{"a€b", 4, "a€"},
		{"\xff\xfe\xfd", 2, "\xff\xfe"}, // not UTF-8: cut where asked
		{"abc", 0, ""},
	}
	for _, tc := range tests {
		if got := string(cutUTF8([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("cutUTF8(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
