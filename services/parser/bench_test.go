package parser

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-io/sluice/libs/kafkatest"
	"github.com/sluice-io/sluice/services/parser/config"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServicePath times the whole service path on kfake: b.N raw
// nginx records are produced beforehand, then one parser replica consumes,
// parses and produces them (snappy, acks=all) until every document is
// acknowledged. lines/cpu-s divides by the CPU time of the whole process,
// which includes the in-process Kafka brokers serving both sides, so it
// understates the parser's own per-core rate.
//
//	go test -run XXX -bench ServicePath -benchtime 200000x
func BenchmarkServicePath(b *testing.B) {
	benchServicePath(b, func(int) string { return testLine }, nil)
}

// benchServicePath produces b.N raw records with the lines line(i) and
// times one parser replica, configured by edit, through all of them.
func benchServicePath(b *testing.B, line func(i int) string, edit func(*config.Config)) {
	c := kafkatest.New(b, 6, rawTopic, parsedTopic, dlqTopic)
	prod := c.Client(kgo.DefaultProduceTopic(rawTopic), kgo.ProducerLinger(5*time.Millisecond))
	batch := make([]*kgo.Record, 0, 1000)
	for i := 0; i < b.N; i++ {
		batch = append(batch, rawRecord(i, "", line(i)))
		if len(batch) == cap(batch) || i == b.N-1 {
			if err := prod.ProduceSync(context.Background(), batch...).FirstErr(); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	cfg := testConfig(c)
	cfg.Kafka.MaxPollRecords = 10000
	cfg.Kafka.Compression = "snappy"
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(cfg, "bench", quietLog(), WithBuiltins(testBuiltins))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, t0 := cpuTime(), time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for p.docsOut.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	wall, cpu := time.Since(t0), cpuTime()-cpu0
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/wall.Seconds(), "lines/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "lines/cpu-s")
	b.ReportMetric(cpu.Seconds()*1e6/float64(b.N), "cpu-s/Mlines")
}
