package telemetry_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-io/sluice/libs/config"
	"github.com/sluice-io/sluice/libs/telemetry"
	"github.com/sluice-io/sluice/libs/telemetrytest"
)

func newTel(t *testing.T, service string) *telemetry.Telemetry {
	t.Helper()
	tel, err := telemetry.New(service)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = tel.Shutdown(ctx)
	})
	return tel
}

func remoteParent(sampled bool) trace.SpanContext {
	cfg := trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, Remote: true}
	if sampled {
		cfg.TraceFlags = trace.FlagsSampled
	}
	return trace.NewSpanContext(cfg)
}

func TestSamplingRatio(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ratio  float64
		parent trace.SpanContext
		want   bool
	}{
		{"ratio 0 never starts a trace", 0, trace.SpanContext{}, false},
		{"ratio 1 always starts a trace", 1, trace.SpanContext{}, true},
		{"ratio 0 follows a sampled parent", 0, remoteParent(true), true},
		{"ratio 1 follows an unsampled parent", 1, remoteParent(false), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel := newTel(t, "parser")
			rec := telemetrytest.Tracing(t, tel, tc.ratio)
			ctx := context.Background()
			if tc.parent.IsValid() {
				ctx = trace.ContextWithRemoteSpanContext(ctx, tc.parent)
			}
			for range 20 {
				_, span := tel.Tracer().Start(ctx, "work")
				span.End()
			}
			spans := rec.Spans()
			if got := len(spans) > 0; got != tc.want {
				t.Fatalf("%d spans exported, want sampled=%v", len(spans), tc.want)
			}
			if !tc.want {
				return
			}
			if len(spans) != 20 {
				t.Errorf("%d of 20 spans exported", len(spans))
			}
			if got := telemetrytest.Service(spans[0]); got != "sluice-parser" {
				t.Errorf("service.name = %q, want sluice-parser", got)
			}
			if tc.parent.IsValid() && spans[0].SpanContext.TraceID() != tc.parent.TraceID() {
				t.Errorf("span did not continue its parent's trace")
			}
		})
	}
}

func TestSetupTracingConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     config.Telemetry
		wantErr string // substring; empty for success
	}{
		{"off", config.Telemetry{TraceSampleRatio: 0.01}, ""},
		{"host:port", config.Telemetry{OTLPEndpoint: "otel-collector:4317", TraceSampleRatio: 0.01}, ""},
		{"http url", config.Telemetry{OTLPEndpoint: "http://otel-collector:4317"}, ""},
		{"https url", config.Telemetry{OTLPEndpoint: "https://otel-collector.monitoring.svc:4317", TraceSampleRatio: 1}, ""},
		{"no port", config.Telemetry{OTLPEndpoint: "otel-collector"}, "telemetry.otlp_endpoint"},
		{"url without port", config.Telemetry{OTLPEndpoint: "http://otel-collector"}, "telemetry.otlp_endpoint"},
		{"http path", config.Telemetry{OTLPEndpoint: "http://otel-collector:4318/v1/traces"}, "telemetry.otlp_endpoint: \"http://otel-collector:4318/v1/traces\" has a path"},
		{"other scheme", config.Telemetry{OTLPEndpoint: "grpc://otel-collector:4317"}, "telemetry.otlp_endpoint: scheme \"grpc\""},
		{"ratio above 1", config.Telemetry{OTLPEndpoint: "localhost:4317", TraceSampleRatio: 1.5}, "telemetry.trace_sample_ratio"},
		{"negative ratio", config.Telemetry{TraceSampleRatio: -0.1}, "telemetry.trace_sample_ratio"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel := newTel(t, "indexer")
			err := tel.SetupTracing(tc.cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("SetupTracing: %v", err)
				}
				// The span is left unended: ended, Shutdown would try to
				// export it to a collector that does not exist.
				_, span := tel.Tracer().Start(context.Background(), "x")
				if on := tc.cfg.OTLPEndpoint != ""; span.IsRecording() != on && tc.cfg.TraceSampleRatio == 1 {
					t.Errorf("recording = %v with endpoint %q", span.IsRecording(), tc.cfg.OTLPEndpoint)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("SetupTracing error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestTracingOffByDefault(t *testing.T) {
	tel := newTel(t, "shipper")
	if err := tel.SetupTracing(config.Telemetry{TraceSampleRatio: 1}); err != nil {
		t.Fatal(err)
	}
	_, span := tel.Tracer().Start(context.Background(), "x")
	defer span.End()
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Fatal("without an endpoint or exporter, spans should be no-ops")
	}
}

func TestSetupTracingTwice(t *testing.T) {
	tel := newTel(t, "shipper")
	telemetrytest.Tracing(t, tel, 1)
	if err := tel.SetupTracing(config.Telemetry{OTLPEndpoint: "localhost:4317"}); !errors.Is(err, telemetry.ErrTracingSetUp) {
		t.Fatalf("second SetupTracing = %v, want ErrTracingSetUp", err)
	}
}

// TestShutdownFlushesOTLP exports through the batching OTLP/gRPC exporter:
// spans still buffered when the service stops must reach the collector.
func TestShutdownFlushesOTLP(t *testing.T) {
	col := telemetrytest.NewCollector(t)
	tel, err := telemetry.New("indexer")
	if err != nil {
		t.Fatal(err)
	}
	if err := tel.SetupTracing(config.Telemetry{OTLPEndpoint: col.Endpoint(), TraceSampleRatio: 1}); err != nil {
		t.Fatal(err)
	}
	_, span := tel.Tracer().Start(context.Background(), "bulk")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	spans := col.WaitForSpans(1, 5*time.Second)
	if spans[0].Name != "bulk" || telemetrytest.Service(spans[0]) != "sluice-indexer" {
		t.Fatalf("collector got %v", telemetrytest.Names(spans))
	}
}
