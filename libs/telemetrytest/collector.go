package telemetrytest

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
)

// Collector is an OTLP/gRPC trace receiver on a loopback port, for tests of
// code configured by endpoint (config.Telemetry.OTLPEndpoint) rather than
// handed an exporter. It stops at cleanup.
type Collector struct {
	collectorpb.UnimplementedTraceServiceServer
	tb   testing.TB
	addr string

	mu    sync.Mutex
	spans tracetest.SpanStubs
}

// NewCollector starts a collector.
func NewCollector(tb testing.TB) *Collector {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("telemetrytest: collector listen: %v", err)
	}
	c := &Collector{tb: tb, addr: ln.Addr().String()}
	srv := grpc.NewServer()
	collectorpb.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(srv.Stop)
	return c
}

// Endpoint is the collector's host:port, for OTLPEndpoint.
func (c *Collector) Endpoint() string { return c.addr }

// Spans returns the spans received so far.
func (c *Collector) Spans() tracetest.SpanStubs {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append(tracetest.SpanStubs(nil), c.spans...)
}

// WaitForSpans waits until at least n spans arrived and returns them; it
// fails the test if that takes longer than timeout. Exporters batch: a
// service flushes on Shutdown, or every OTEL_BSP_SCHEDULE_DELAY
// milliseconds (5000 by default).
func (c *Collector) WaitForSpans(n int, timeout time.Duration) tracetest.SpanStubs {
	c.tb.Helper()
	return waitForSpans(c.tb, c.Spans, n, timeout)
}

// Export implements the OTLP trace service.
func (c *Collector) Export(_ context.Context, req *collectorpb.ExportTraceServiceRequest) (*collectorpb.ExportTraceServiceResponse, error) {
	var got tracetest.SpanStubs
	for _, rs := range req.GetResourceSpans() {
		res := resource.NewSchemaless(attrs(rs.GetResource().GetAttributes())...)
		for _, ss := range rs.GetScopeSpans() {
			scope := instrumentation.Scope{Name: ss.GetScope().GetName(), Version: ss.GetScope().GetVersion()}
			for _, s := range ss.GetSpans() {
				got = append(got, stub(s, res, scope))
			}
		}
	}
	c.mu.Lock()
	c.spans = append(c.spans, got...)
	c.mu.Unlock()
	return &collectorpb.ExportTraceServiceResponse{}, nil
}

// stub converts the fields tests read: names, ids, parent, kind, times,
// scalar attributes and links.
func stub(s *tracepb.Span, res *resource.Resource, scope instrumentation.Scope) tracetest.SpanStub {
	tid := trace.TraceID(s.GetTraceId())
	st := tracetest.SpanStub{
		Name: s.GetName(),
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: tid, SpanID: trace.SpanID(s.GetSpanId()), TraceFlags: trace.FlagsSampled,
		}),
		SpanKind:             trace.SpanKind(s.GetKind()),
		StartTime:            time.Unix(0, int64(s.GetStartTimeUnixNano())),
		EndTime:              time.Unix(0, int64(s.GetEndTimeUnixNano())),
		Attributes:           attrs(s.GetAttributes()),
		Resource:             res,
		InstrumentationScope: scope,
	}
	if p := s.GetParentSpanId(); len(p) == 8 {
		st.Parent = trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID(p)})
	}
	for _, l := range s.GetLinks() {
		st.Links = append(st.Links, sdktrace.Link{
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: trace.TraceID(l.GetTraceId()), SpanID: trace.SpanID(l.GetSpanId()),
			}),
			Attributes: attrs(l.GetAttributes()),
		})
	}
	return st
}

func attrs(kvs []*commonpb.KeyValue) []attribute.KeyValue {
	out := make([]attribute.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out = append(out, attribute.String(kv.GetKey(), v.StringValue))
		case *commonpb.AnyValue_IntValue:
			out = append(out, attribute.Int64(kv.GetKey(), v.IntValue))
		case *commonpb.AnyValue_BoolValue:
			out = append(out, attribute.Bool(kv.GetKey(), v.BoolValue))
		case *commonpb.AnyValue_DoubleValue:
			out = append(out, attribute.Float64(kv.GetKey(), v.DoubleValue))
		}
	}
	return out
}
