package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sluice-io/sluice/libs/telemetrytest"
	"github.com/sluice-io/sluice/loadtest/stack"
	indexercfg "github.com/sluice-io/sluice/services/indexer/config"
	parsercfg "github.com/sluice-io/sluice/services/parser/config"
	shippercfg "github.com/sluice-io/sluice/services/shipper/config"
)

// Services as their spans name them (resource attribute service.name).
const (
	shipperService = "sluice-shipper"
	parserService  = "sluice-parser"
	indexerService = "sluice-indexer"
)

// TestOneTraceAcrossServices checks that a line's journey is one trace: the
// stack's services export every span (ratio 1) over OTLP to an in-process
// collector, and some trace must hold spans of the shipper, the parser and
// the indexer.
//
// The services are configured only through their telemetry config section,
// as in production, so the test needs no hook in the stack. It skips while
// no shipper span arrives, which is the state until the services call
// SetupTracing and use KafkaOpts and StartBatch.
func TestOneTraceAcrossServices(t *testing.T) {
	// Spans are exported in batches; flush them every 100 ms instead of 5 s
	// so they arrive while the stack runs (its services are not shut down
	// through the path that flushes them).
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
	col := telemetrytest.NewCollector(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := stack.Start(ctx, stack.Options{
		Dir:     dir,
		Parsers: 1,
		TuneShipper: func(c *shippercfg.Config) {
			c.Telemetry.OTLPEndpoint, c.Telemetry.TraceSampleRatio = col.Endpoint(), 1
		},
		TuneParser: func(c *parsercfg.Config) {
			c.Telemetry.OTLPEndpoint, c.Telemetry.TraceSampleRatio = col.Endpoint(), 1
		},
		TuneIndexer: func(c *indexercfg.Config) {
			c.Telemetry.OTLPEndpoint, c.Telemetry.TraceSampleRatio = col.Endpoint(), 1
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	pods := newPods(t, st.LogDir(), 2)
	writeAll(t, pods, 20, 10)
	want := total(pods)
	waitFor(t, "documents in the file sink", time.Minute, func() (int, bool) {
		b, _ := os.ReadFile(st.SinkPath())
		n := bytes.Count(b, []byte("\n"))
		return n, n >= want
	})

	// Every line is indexed: whatever spans the services ended for them are
	// exported within a few schedule delays.
	// Every line is indexed, so the spans of their journeys have ended and
	// arrive within a few schedule delays; a shipper that sent nothing by
	// then is not traced at all.
	start := time.Now()
	var full map[string]string
	perService := map[string]int{}
	waitUntil(15*time.Second, func() bool {
		full = fullTraces(col)
		clear(perService)
		for _, s := range col.Spans() {
			perService[telemetrytest.Service(s)]++
		}
		return len(full) > 0 || (perService[shipperService] == 0 && time.Since(start) > 3*time.Second)
	})
	if perService[shipperService] == 0 {
		t.Skipf("services not yet wired to telemetry tracing: see libs/telemetry SetupTracing "+
			"(no span from the shipper; spans per service: %v)", perService)
	}
	if len(full) == 0 {
		var longest []string
		for _, ss := range telemetrytest.ByTrace(col.Spans()) {
			if len(ss) > len(longest) {
				longest = telemetrytest.Names(ss)
			}
		}
		t.Fatalf("no trace holds a %s span and the parse and index batch spans of %s and %s; "+
			"spans per service %v; the longest trace: %s",
			shipperService, parserService, indexerService, perService, summary(longest))
	}
	for id, names := range full {
		t.Logf("%d traces cross all three services, e.g. %s: %s", len(full), id, names)
		break
	}
}

// fullTraces returns, by trace id, a summary of the traces that hold a
// shipper span and the batch spans (StartBatch, attribute sluice.stage) of
// the parser and the indexer.
func fullTraces(col *telemetrytest.Collector) map[string]string {
	out := map[string]string{}
	for id, ss := range telemetrytest.ByTrace(col.Spans()) {
		shipper, parser, indexer := false, false, false
		for _, s := range ss {
			stage := false
			for _, a := range s.Attributes {
				stage = stage || a.Key == "sluice.stage"
			}
			switch telemetrytest.Service(s) {
			case shipperService:
				shipper = true
			case parserService:
				parser = parser || stage
			case indexerService:
				indexer = indexer || stage
			}
		}
		if shipper && parser && indexer {
			out[id.String()] = summary(telemetrytest.Names(ss))
		}
	}
	return out
}

// summary counts sorted names: "a ×2, b".
func summary(names []string) string {
	var b strings.Builder
	for i := 0; i < len(names); {
		j := i
		for j < len(names) && names[j] == names[i] {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(names[i])
		if j-i > 1 {
			fmt.Fprintf(&b, " ×%d", j-i)
		}
		i = j
	}
	return b.String()
}
