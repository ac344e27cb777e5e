package telemetry_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-io/sluice/libs/kafkatest"
	"github.com/sluice-io/sluice/libs/telemetry"
	"github.com/sluice-io/sluice/libs/telemetrytest"
)

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// TestKafkaTraceContext follows one record across two services: the
// producer's span context travels in the traceparent header kotel injects,
// and the consumer's batch span continues the same trace; the consumer's
// own output then carries the batch span onwards.
func TestKafkaTraceContext(t *testing.T) {
	cluster := kafkatest.New(t, 1, "logs.raw")
	shipper, parser := newTel(t, "shipper"), newTel(t, "parser")
	shipperSpans := telemetrytest.Tracing(t, shipper, 1)
	parserSpans := telemetrytest.Tracing(t, parser, 1)

	producer := cluster.Client(shipper.KafkaOpts()...)
	ctx, line := shipper.StartBatch(context.Background(), "ship", nil)
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := producer.ProduceSync(pctx, &kgo.Record{Topic: "logs.raw", Value: []byte("a line")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	line.End()
	traceID := line.SpanContext().TraceID()

	consumer := cluster.Client(append(parser.KafkaOpts(), kgo.ConsumeTopics("logs.raw"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	var recs []*kgo.Record
	for len(recs) == 0 && pctx.Err() == nil {
		recs = append(recs, consumer.PollFetches(pctx).Records()...)
	}
	if len(recs) != 1 {
		t.Fatalf("consumed %d records", len(recs))
	}
	tp := header(recs[0], "traceparent")
	if !strings.Contains(tp, traceID.String()) {
		t.Fatalf("traceparent header %q does not carry trace %s", tp, traceID)
	}
	bctx, batch := parser.StartBatch(context.Background(), "parse", recs)
	out := &kgo.Record{Topic: "logs.parsed"}
	parser.InjectRecord(bctx, out)
	batch.End()
	if got := batch.SpanContext().TraceID(); got != traceID {
		t.Fatalf("batch span in trace %s, want the producer's %s", got, traceID)
	}
	if tp := header(out, "traceparent"); !strings.Contains(tp, batch.SpanContext().SpanID().String()) {
		t.Errorf("output traceparent %q does not name the batch span %s", tp, batch.SpanContext().SpanID())
	}

	// The shipper side: the line span and kotel's publish span under it.
	names := telemetrytest.Names(shipperSpans.WaitForSpans(2, 5*time.Second))
	if want := []string{"sluice-shipper/logs.raw publish", "sluice-shipper/ship"}; strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("shipper spans %v, want %v", names, want)
	}
	// The parser side: kotel's receive span and the batch span, one trace.
	for _, s := range parserSpans.WaitForSpans(2, 5*time.Second) {
		if s.SpanContext.TraceID() != traceID {
			t.Errorf("parser span %s in trace %s, want %s", s.Name, s.SpanContext.TraceID(), traceID)
		}
	}
}

// record builds a fetched record carrying sc in its traceparent header, as
// a client without kotel would see it.
func record(t *testing.T, tel *telemetry.Telemetry, sc trace.SpanContext) *kgo.Record {
	t.Helper()
	r := &kgo.Record{Topic: "logs.raw"}
	if sc.IsValid() {
		tel.InjectRecord(trace.ContextWithRemoteSpanContext(context.Background(), sc), r)
	}
	return r
}

func spanContext(trace0, span0 byte, sampled bool) trace.SpanContext {
	cfg := trace.SpanContextConfig{TraceID: trace.TraceID{trace0}, SpanID: trace.SpanID{span0}, Remote: true}
	if sampled {
		cfg.TraceFlags = trace.FlagsSampled
	}
	return trace.NewSpanContext(cfg)
}

func TestStartBatchParents(t *testing.T) {
	a, a2, b := spanContext(1, 1, true), spanContext(1, 2, true), spanContext(2, 1, true)
	off := spanContext(3, 1, false)
	none := trace.SpanContext{}
	for _, tc := range []struct {
		name      string
		parents   []trace.SpanContext
		sampled   bool
		wantTrace trace.TraceID // zero: a new trace
		wantLinks []trace.SpanContext
	}{
		{"one parent", []trace.SpanContext{a, a, a}, true, a.TraceID(), nil},
		{"first sampled parent, others linked", []trace.SpanContext{a, b, a2, b}, true, a.TraceID(), []trace.SpanContext{b, a2}},
		{"unsampled records do not decide", []trace.SpanContext{off, none, b}, true, b.TraceID(), nil},
		{"only unsampled parents: not traced", []trace.SpanContext{off, none}, false, off.TraceID(), nil},
		{"no parents: a new trace at the ratio", []trace.SpanContext{none, none}, true, trace.TraceID{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tel := newTel(t, "indexer")
			spans := telemetrytest.Tracing(t, tel, 1)
			var recs []*kgo.Record
			for _, p := range tc.parents {
				recs = append(recs, record(t, tel, p))
			}
			_, span := tel.StartBatch(context.Background(), "index", recs)
			span.End()
			if span.SpanContext().IsSampled() != tc.sampled {
				t.Fatalf("sampled = %v, want %v", span.SpanContext().IsSampled(), tc.sampled)
			}
			got := span.SpanContext().TraceID()
			switch {
			case tc.wantTrace.IsValid() && got != tc.wantTrace:
				t.Errorf("trace %s, want %s", got, tc.wantTrace)
			case !tc.wantTrace.IsValid():
				for _, p := range tc.parents {
					if p.IsValid() && p.TraceID() == got {
						t.Errorf("trace %s should be new", got)
					}
				}
			}
			if !tc.sampled {
				return
			}
			stub := spans.WaitForSpans(1, time.Second)[0]
			var links []trace.SpanContext
			for _, l := range stub.Links {
				links = append(links, l.SpanContext.WithRemote(true))
			}
			if len(links) != len(tc.wantLinks) {
				t.Fatalf("links %v, want %v", links, tc.wantLinks)
			}
			for i := range links {
				if !links[i].Equal(tc.wantLinks[i]) {
					t.Errorf("link %d = %v, want %v", i, links[i], tc.wantLinks[i])
				}
			}
		})
	}
}

func TestStartBatchBoundsLinks(t *testing.T) {
	tel := newTel(t, "indexer")
	spans := telemetrytest.Tracing(t, tel, 1)
	var recs []*kgo.Record
	for i := range 1000 {
		recs = append(recs, record(t, tel, spanContext(byte(i%250+1), byte(i/250+1), true)))
	}
	_, span := tel.StartBatch(context.Background(), "index", recs)
	span.End()
	if n := len(spans.WaitForSpans(1, time.Second)[0].Links); n != 128 {
		t.Fatalf("%d links, want 128", n)
	}
}

// TestTracingOffAddsNoHeaders: a service without an endpoint must not grow
// every record by a traceparent.
func TestTracingOffAddsNoHeaders(t *testing.T) {
	cluster := kafkatest.New(t, 1, "logs.raw")
	tel := newTel(t, "shipper")
	producer := cluster.Client(tel.KafkaOpts()...)
	ctx, span := tel.StartBatch(context.Background(), "ship", nil)
	defer span.End()
	r := &kgo.Record{Topic: "logs.raw", Value: []byte("x")}
	tel.InjectRecord(ctx, r)
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := producer.ProduceSync(pctx, r).FirstErr(); err != nil {
		t.Fatal(err)
	}
	got := cluster.ReadAll("logs.raw", 1, 20*time.Second)
	if len(got) != 1 || len(got[0].Headers) != 0 {
		t.Fatalf("records %v, want one without headers", got)
	}
}
