package telemetrytest_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/telemetry"
	"github.com/sluice-io/sluice/libs/telemetrytest"
)

// TestCollectorMatchesRecorder sends the same spans to the in-memory
// recorder and, over OTLP/gRPC, to the collector: checks written against
// one must hold against the other.
func TestCollectorMatchesRecorder(t *testing.T) {
	col := telemetrytest.NewCollector(t)
	tel, err := telemetry.New("parser")
	if err != nil {
		t.Fatal(err)
	}
	rec := telemetrytest.TracingWith(t, tel, config.Telemetry{OTLPEndpoint: col.Endpoint(), TraceSampleRatio: 1})

	link := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{9}, SpanID: trace.SpanID{9}, TraceFlags: trace.FlagsSampled})
	ctx, parent := tel.Tracer().Start(context.Background(), "parse")
	_, child := tel.Tracer().Start(ctx, "child", trace.WithLinks(trace.Link{SpanContext: link}),
		trace.WithAttributes(attribute.String("s", "v"), attribute.Int("i", 3), attribute.Bool("b", true)),
		trace.WithSpanKind(trace.SpanKindConsumer))
	child.End()
	parent.End()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}

	want := rec.WaitForSpans(2, time.Second)
	got := col.WaitForSpans(2, 5*time.Second)
	byName := map[string]int{}
	for i, s := range got {
		byName[s.Name] = i
	}
	for _, w := range want {
		g := got[byName[w.Name]]
		if g.Name != w.Name || !g.SpanContext.Equal(w.SpanContext) || g.Parent.SpanID() != w.Parent.SpanID() ||
			g.SpanKind != w.SpanKind || telemetrytest.Service(g) != telemetrytest.Service(w) ||
			len(g.Links) != len(w.Links) || len(g.Attributes) != len(w.Attributes) {
			t.Errorf("collector span\n%+v\nrecorder span\n%+v", g, w)
		}
	}
	if n := len(telemetrytest.ByTrace(got)); n != 1 {
		t.Errorf("%d traces, want 1", n)
	}
}
