package parser

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
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
// understates the parser's own per-core rate. doc-B/line is the document
// size, wire-B/line what the parsed topic's batches take compressed.
//
//	go test -run XXX -bench ServicePath -benchtime 200000x
func BenchmarkServicePath(b *testing.B) {
	benchServicePath(b, func(int) string { return testLine }, nil)
}

// BenchmarkServicePathCompression is BenchmarkServicePath with each codec
// the parsed topic can be configured with (kafka.compression), for the CPU
// they cost against the bytes they save on the broker and the network. It
// runs on variedLine: identical documents would compress unrealistically
// well.
//
//	go test -run XXX -bench ServicePathCompression -benchtime 200000x -count 3
func BenchmarkServicePathCompression(b *testing.B) {
	for _, codec := range []string{"none", "snappy", "lz4", "zstd"} {
		b.Run(codec, func(b *testing.B) {
			benchServicePath(b, variedLine, func(cfg *config.Config) {
				cfg.Kafka.Compression = codec
			})
		})
	}
}

// batchBytes counts the produced batches' bytes (a kgo hook).
type batchBytes struct{ raw, wire atomic.Int64 }

func (h *batchBytes) OnProduceBatchWritten(_ kgo.BrokerMetadata, _ string, _ int32, m kgo.ProduceBatchMetrics) {
	h.raw.Add(int64(m.UncompressedBytes))
	h.wire.Add(int64(m.CompressedBytes))
}

// benchBroker "process" runs the benchmarks' Kafka (kfake) in a child
// process, so that cpu-s/Mlines is the parser's CPU alone, as a parser
// measured on a real broker is; by default the brokers run in the
// benchmark's process and their CPU is counted with the parser's.
var benchBroker = flag.String("parser.bench-broker", "", `"process": run the benchmarks' kfake in a child process`)

// kfakeChildEnv makes the test binary a kfake cluster (see TestMain).
const kfakeChildEnv = "SLUICE_PARSER_BENCH_KFAKE"

func TestMain(m *testing.M) {
	if os.Getenv(kfakeChildEnv) != "" {
		runKfakeChild()
		return
	}
	os.Exit(m.Run())
}

// runKfakeChild serves a kfake cluster with the benchmark topics, prints
// its addresses on one line and exits when stdin closes.
func runKfakeChild() {
	e, err := kafkatest.StartEmbedded(1, "", 6, rawTopic, parsedTopic, dlqTopic)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(strings.Join(e.Brokers(), ","))
	_, _ = io.Copy(io.Discard, os.Stdin)
	e.Close()
}

// benchBrokers returns the brokers of a kfake cluster for a benchmark,
// in process or in a child process (benchBroker).
func benchBrokers(b *testing.B) []string {
	if *benchBroker != "process" {
		return kafkatest.New(b, 6, rawTopic, parsedTopic, dlqTopic).Brokers()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), kfakeChildEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	addrs, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("kfake child: %v", err)
	}
	return strings.Split(strings.TrimSpace(addrs), ",")
}

// brokerList is a list of broker addresses, for testConfig.
type brokerList []string

func (l brokerList) Brokers() []string { return l }

// benchServicePath produces b.N raw records with the lines line(i) and
// times one parser replica, configured by edit, through all of them.
func benchServicePath(b *testing.B, line func(i int) string, edit func(*config.Config)) {
	brokers := benchBrokers(b)
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(rawTopic), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
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
	cfg := testConfig(brokerList(brokers))
	cfg.Kafka.MaxPollRecords = 10000
	cfg.Kafka.Compression = "snappy"
	if edit != nil {
		edit(&cfg)
	}
	var bytes batchBytes
	p, err := New(cfg, "bench", quietLog(), WithBuiltins(testBuiltins), withClientOpts(kgo.WithHooks(&bytes)))
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
	b.ReportMetric(float64(p.bytesOut.Load())/float64(b.N), "doc-B/line")
	b.ReportMetric(float64(bytes.wire.Load())/float64(b.N), "wire-B/line")
}

// variedLine is access log line i of a busy site: clients, paths, query
// strings, statuses, sizes, referrers and agents vary from line to line,
// so documents differ in content and in their field sets as in production.
func variedLine(i int) string {
	agents := [...]string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/54.0.2840.59 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/118.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
		"curl/8.4.0",
		"kube-probe/1.29",
	}
	paths := [...]string{"/", "/api/v1/orders/%d", "/static/app.%d.js", "/search?q=item-%d&page=2", "/healthz", "/images/p/%d.jpg"}
	referrers := [...]string{"-", "https://shop.example.com/", "https://www.google.com/search?q=shop"}
	statuses := [...]int{200, 200, 200, 201, 304, 404, 500}
	h := uint32(i) * 2654435761
	path := paths[h%uint32(len(paths))]
	if strings.Contains(path, "%d") {
		path = fmt.Sprintf(path, h%100000)
	}
	return fmt.Sprintf(`%d.%d.%d.%d - - [24/Nov/2026:10:%02d:%02d +0000] "%s %s HTTP/1.1" %d %d "%s" "%s"`,
		10+h%200, h>>8&0xff, h>>16&0xff, 1+h>>24%254, i/60%60, i%60,
		[...]string{"GET", "GET", "GET", "POST"}[h>>3%4], path, statuses[h>>5%uint32(len(statuses))], 200+h%50000,
		referrers[h>>7%uint32(len(referrers))], agents[h>>11%uint32(len(agents))])
}
