package telemetry

import (
	"context"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/plugin/kotel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// maxBatchLinks bounds the links of one batch span. The SDK would drop the
// excess anyway (its default limit is 128); stopping early saves collecting
// them from a batch of thousands.
const maxBatchLinks = 128

// KafkaOpts returns the client options that instrument a kgo client with
// franz-go's kotel plugin on the service's providers:
//
//   - metrics: connections, bytes and records produced and fetched
//     (messaging.kafka.*), plus messaging.kafka.request.duration, a
//     histogram of each broker request's round trip by request type, which
//     kotel does not measure.
//   - traces, once SetupTracing enabled them: a publish span per produced
//     record, child of the span in the context given to Produce, whose
//     context kotel injects as the record's traceparent header; and a
//     receive span per fetched record, child of the span in its header,
//     left in the record's Context for StartBatch.
//
// Append them to a client's options; every client of a service may use them.
func (t *Telemetry) KafkaOpts() []kgo.Opt {
	kopts := []kotel.Opt{kotel.WithMeter(kotel.NewMeter(kotel.MeterProvider(t.provider)))}
	if t.tracingEnabled() {
		kopts = append(kopts, kotel.WithTracer(kotel.NewTracer(
			kotel.TracerProvider(t.TracerProvider()),
			kotel.TracerPropagator(propagator),
		)))
	}
	hooks := kotel.NewKotel(kopts...).Hooks()
	if h, err := t.meter.Float64Histogram("messaging.kafka.request.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Round trip of broker requests, from write to response read, by request type."),
		metric.WithExplicitBucketBoundaries(secondsBuckets...),
	); err == nil {
		hooks = append(hooks, requestLatency{h})
	}
	return []kgo.Opt{kgo.WithHooks(hooks...)}
}

// requestLatency records each broker request's end-to-end duration. Fetch
// requests include the broker's long-poll wait (fetch.max.wait), so their
// latency says how idle the topic is as much as how fast the broker is.
type requestLatency struct{ h metric.Float64Histogram }

var _ kgo.HookBrokerE2E = requestLatency{}

func (l requestLatency) OnBrokerE2E(meta kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	outcome := "success"
	if e2e.Err() != nil {
		outcome = "failure"
	}
	l.h.Record(context.Background(), e2e.DurationE2E().Seconds(), metric.WithAttributes(
		attribute.String("request", kmsg.NameForKey(key)),
		attribute.String("node_id", strconv.Itoa(int(meta.NodeID))),
		attribute.String("outcome", outcome),
	))
}

// StartBatch starts the span of one batch at one stage ("parser", "indexer"),
// continuing the traces its records carry, and returns the context to
// produce the batch's output with. The caller ends the span.
//
// A record's trace context is the span kotel left in its Context when it was
// fetched, or else the traceparent in its headers (a client without kotel).
// The batch span's parent is the first sampled context: a batch holding any
// sampled line is traced, and that line's trace runs on through this stage
// into the next, so one trace shows a line from shipper to indexer. Every
// other distinct sampled context becomes a link (up to 128), which is how a
// batch that merged many traces points back at all of them. With no sampled
// context the parent is the first unsampled one, so the upstream decision
// not to trace holds; with none at all the span is a new trace under ctx's
// span, sampled at the configured ratio.
//
// recs may be empty: the shipper starts a span per line that way.
func (t *Telemetry) StartBatch(ctx context.Context, stage string, recs []*kgo.Record) (context.Context, trace.Span) {
	tracer := t.Tracer()
	opts := []trace.SpanStartOption{trace.WithAttributes(
		attribute.String("sluice.stage", stage),
		attribute.Int("messaging.batch.message_count", len(recs)),
	)}
	if len(recs) == 0 {
		return tracer.Start(ctx, stage, opts...)
	}
	opts = append(opts, trace.WithSpanKind(trace.SpanKindConsumer))
	if !t.tracingEnabled() {
		return tracer.Start(ctx, stage, opts...)
	}
	var parent, unsampled trace.SpanContext
	var links []trace.Link
	type spanKey struct {
		trace.TraceID
		trace.SpanID
	}
	seen := make(map[spanKey]struct{})
	for _, r := range recs {
		sc := recordSpanContext(r)
		if !sc.IsValid() {
			continue
		}
		if !sc.IsSampled() {
			if !unsampled.IsValid() {
				unsampled = sc
			}
			continue
		}
		k := spanKey{sc.TraceID(), sc.SpanID()}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		if !parent.IsValid() {
			parent = sc
			continue
		}
		if len(links) < maxBatchLinks {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	if !parent.IsValid() {
		parent = unsampled
	}
	if parent.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, parent)
	}
	if len(links) > 0 {
		opts = append(opts, trace.WithLinks(links...))
	}
	return tracer.Start(ctx, stage, opts...)
}

// recordSpanContext is the trace context a fetched record carries.
func recordSpanContext(r *kgo.Record) trace.SpanContext {
	if r.Context != nil {
		if sc := trace.SpanContextFromContext(r.Context); sc.IsValid() {
			return sc
		}
	}
	for _, h := range r.Headers {
		if h.Key == "traceparent" {
			return trace.SpanContextFromContext(propagator.Extract(context.Background(), kotel.NewRecordCarrier(r)))
		}
	}
	return trace.SpanContext{}
}

// InjectRecord writes the span context of ctx into r's headers
// (traceparent, tracestate), replacing any already there, for records
// produced by a client without KafkaOpts. It does nothing while tracing is
// off or ctx holds no span, so records carry no header then.
func (t *Telemetry) InjectRecord(ctx context.Context, r *kgo.Record) {
	if !t.tracingEnabled() || !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	propagator.Inject(ctx, kotel.NewRecordCarrier(r))
}
