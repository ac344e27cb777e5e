package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/sluice-io/sluice/libs/config"
)

// ErrTracingSetUp is returned by a second SetupTracing on one Telemetry.
var ErrTracingSetUp = errors.New("telemetry: tracing is already set up")

// TracingOption configures SetupTracing.
type TracingOption func(*tracingConfig)

type tracingConfig struct {
	exporters []sdktrace.SpanExporter
}

// WithSpanExporter adds an exporter that receives every sampled span
// synchronously when it ends, in addition to the OTLP exporter if one is
// configured. It is meant for tests (tracetest.NewInMemoryExporter) and
// in-process collectors: a slow exporter slows the code that ends spans.
func WithSpanExporter(exp sdktrace.SpanExporter) TracingOption {
	return func(c *tracingConfig) { c.exporters = append(c.exporters, exp) }
}

// propagator is W3C trace context: the traceparent/tracestate headers every
// OpenTelemetry SDK and collector understand.
var propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Propagator returns the propagator Sluice uses on record headers (W3C trace
// context), for code that carries context over something other than Kafka.
func Propagator() propagation.TextMapPropagator { return propagator }

// SetupTracing builds the service's tracer provider from cfg:
//
//   - sampling is ParentBased(TraceIDRatioBased(cfg.TraceSampleRatio)): a span
//     that continues a trace follows its parent's decision, so a line sampled
//     at the shipper is traced through every stage and an unsampled one costs
//     only a header; a new trace is sampled at the ratio (0 never, 1 always).
//   - spans carry the resource attribute service.name=sluice-<service>.
//   - with cfg.OTLPEndpoint set, spans are batched and exported over
//     OTLP/gRPC. "host:port" and "http://host:port" connect in plaintext (the
//     usual node-local or in-cluster collector), "https://host:port" with TLS.
//
// Without an endpoint and without WithSpanExporter, tracing stays off: the
// tracer is a no-op and KafkaOpts adds no trace headers to records, so a
// service that calls SetupTracing unconditionally pays nothing until an
// endpoint is configured. SetupTracing may be called once; Shutdown flushes
// the spans still buffered.
func (t *Telemetry) SetupTracing(cfg config.Telemetry, opts ...TracingOption) error {
	if err := cfg.Validate(); err != nil {
		return config.Prefix("telemetry", err)
	}
	var tc tracingConfig
	for _, o := range opts {
		o(&tc)
	}
	var otlpOpts []otlptracegrpc.Option
	if cfg.OTLPEndpoint != "" {
		var err error
		if otlpOpts, err = otlpEndpoint(cfg.OTLPEndpoint); err != nil {
			return config.Prefix("telemetry", err)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sdkTracer != nil {
		return ErrTracingSetUp
	}
	if len(otlpOpts) == 0 && len(tc.exporters) == 0 {
		return nil
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", "sluice-"+t.service),
		attribute.String("service.namespace", "sluice"),
	)
	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.TraceSampleRatio))),
	}
	if len(otlpOpts) > 0 {
		// The gRPC connection is made lazily: a collector that is down at
		// start-up costs dropped spans, never a failed start.
		exp, err := otlptracegrpc.New(context.Background(), otlpOpts...)
		if err != nil {
			return fmt.Errorf("telemetry.otlp_endpoint: %w", err)
		}
		tpOpts = append(tpOpts, sdktrace.WithBatcher(exp))
	}
	for _, exp := range tc.exporters {
		tpOpts = append(tpOpts, sdktrace.WithSyncer(exp))
	}
	tp := sdktrace.NewTracerProvider(tpOpts...)
	t.sdkTracer = tp
	t.tracerProvider = tp
	t.tracer = tp.Tracer(t.scope)
	return nil
}

// otlpEndpoint turns the configured endpoint into exporter options, and
// rejects what the exporter would only fail on at the first export.
func otlpEndpoint(ep string) ([]otlptracegrpc.Option, error) {
	hostPort, secure := ep, false
	if strings.Contains(ep, "://") {
		u, err := url.Parse(ep)
		if err != nil {
			return nil, config.Errorf("otlp_endpoint", "%q is not a URL: %v", ep, err)
		}
		switch u.Scheme {
		case "http":
		case "https":
			secure = true
		default:
			return nil, config.Errorf("otlp_endpoint", "scheme %q: want http or https (OTLP/gRPC)", u.Scheme)
		}
		if u.Path != "" && u.Path != "/" {
			return nil, config.Errorf("otlp_endpoint", "%q has a path; OTLP/gRPC takes host:port only", ep)
		}
		hostPort = u.Host
	}
	if _, port, err := net.SplitHostPort(hostPort); err != nil || port == "" {
		return nil, config.Errorf("otlp_endpoint", "%q is not host:port or http(s)://host:port", ep)
	}
	opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(hostPort)}
	if !secure {
		opts = append(opts, otlptracegrpc.WithInsecure())
	}
	return opts, nil
}

// Tracer is the service's tracer; a no-op one until SetupTracing enabled
// tracing.
func (t *Telemetry) Tracer() trace.Tracer {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tracer
}

// TracerProvider is the service's tracer provider, for client plugins; a
// no-op one until SetupTracing enabled tracing.
func (t *Telemetry) TracerProvider() trace.TracerProvider {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tracerProvider
}

// tracingEnabled says whether spans go anywhere; record headers are only
// worth their bytes then.
func (t *Telemetry) tracingEnabled() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sdkTracer != nil
}

func noopTracerProvider() trace.TracerProvider { return noop.NewTracerProvider() }
