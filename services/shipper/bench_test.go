package shipper

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/kafkatest"
)

// nginxLine is a typical ~200-byte access line.
const nginxLine = `10.0.12.7 - - [24/Nov/2026:10:00:00 +0000] "GET /api/v1/items/12345?page=2 HTTP/1.1" 200 5120 "-" "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"`

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkShipperPath measures tail → decode → produce to an in-process
// Kafka cluster with snappy compression and Kubernetes metadata, for 8 pods'
// CRI files. It reports lines/s, MB/s and lines per CPU-second (the CPU of
// the whole process, the embedded brokers included).
func BenchmarkShipperPath(b *testing.B) {
	const pods = 8
	lines := b.N
	if lines < 20000 {
		lines = 20000
	}
	c := kafkatest.New(b, 6, "logs.raw")
	dir := b.TempDir()
	var bytes int64
	for p := 0; p < pods; p++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("web-%d_shop_nginx-%s.log", p, containerID)))
		if err != nil {
			b.Fatal(err)
		}
		var sb strings.Builder
		for i := 0; i < lines/pods; i++ {
			fmt.Fprintf(&sb, "2026-11-24T10:00:00.%09dZ stdout F %s\n", i, nginxLine)
		}
		bytes += int64(sb.Len())
		if _, err := f.WriteString(sb.String()); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	cfg := testConfig(b, c, dir)
	cfg.Kafka.MaxBufferedBytes = 32 << 20
	s, err := New(cfg, "bench", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	total := int64(lines / pods * pods)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, start := cpuTime(), time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for s.linesAcked.Load() < total {
		time.Sleep(2 * time.Millisecond)
	}
	wall, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	cancel()
	<-done
	b.ReportMetric(float64(total)/wall.Seconds(), "lines/s")
	b.ReportMetric(float64(total)/cpu.Seconds(), "lines/cpu-s")
	b.ReportMetric(float64(bytes)/wall.Seconds()/1e6, "MB/s")
}
