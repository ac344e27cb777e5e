package telemetrytest

import (
	"context"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/telemetry"
)

// Recorder holds the spans a Telemetry ended.
type Recorder struct {
	tb  testing.TB
	exp *tracetest.InMemoryExporter
}

// Tracing sets up tel's tracing with the sample ratio and an in-memory
// exporter, and returns what reads it. Spans are recorded as they end.
func Tracing(tb testing.TB, tel *telemetry.Telemetry, ratio float64) *Recorder {
	tb.Helper()
	return TracingWith(tb, tel, config.Telemetry{TraceSampleRatio: ratio})
}

// TracingWith is Tracing with a whole config section, for a test that also
// exports over OTLP (to a Collector) or checks a service's own settings.
func TracingWith(tb testing.TB, tel *telemetry.Telemetry, cfg config.Telemetry) *Recorder {
	tb.Helper()
	exp := tracetest.NewInMemoryExporter()
	if err := tel.SetupTracing(cfg, telemetry.WithSpanExporter(keep{exp})); err != nil {
		tb.Fatalf("telemetrytest: setting up tracing: %v", err)
	}
	return &Recorder{tb: tb, exp: exp}
}

// keep keeps the spans past the provider's shutdown, which would reset the
// in-memory exporter: tests read spans after the service stopped.
type keep struct{ *tracetest.InMemoryExporter }

func (keep) Shutdown(context.Context) error { return nil }

// Spans returns the spans ended so far.
func (r *Recorder) Spans() tracetest.SpanStubs { return r.exp.GetSpans() }

// WaitForSpans waits until at least n spans ended and returns them; it fails
// the test, naming the spans it saw, if that takes longer than timeout.
func (r *Recorder) WaitForSpans(n int, timeout time.Duration) tracetest.SpanStubs {
	r.tb.Helper()
	return waitForSpans(r.tb, r.Spans, n, timeout)
}

func waitForSpans(tb testing.TB, spans func() tracetest.SpanStubs, n int, timeout time.Duration) tracetest.SpanStubs {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := spans()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			tb.Fatalf("telemetrytest: %d spans after %v, want %d: %v", len(got), timeout, n, Names(got))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Service returns the service.name resource attribute of a span
// ("sluice-parser").
func Service(s tracetest.SpanStub) string {
	if s.Resource == nil {
		return ""
	}
	for _, kv := range s.Resource.Attributes() {
		if kv.Key == "service.name" {
			return kv.Value.AsString()
		}
	}
	return ""
}

// ByTrace groups spans by trace id.
func ByTrace(spans tracetest.SpanStubs) map[trace.TraceID]tracetest.SpanStubs {
	out := map[trace.TraceID]tracetest.SpanStubs{}
	for _, s := range spans {
		id := s.SpanContext.TraceID()
		out[id] = append(out[id], s)
	}
	return out
}

// Names returns "service/name" of each span, sorted, for failure messages.
func Names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = Service(s) + "/" + s.Name
	}
	sort.Strings(out)
	return out
}
