// Package telemetry is a service's OpenTelemetry metrics and traces.
//
// Metrics: New creates a meter provider whose Prometheus exporter sits on a
// registry of its own (several services can run in one process, as in the
// local stack), served on /metrics by Serve, beside the Go runtime (go_*)
// and process (process_*) collectors, with the resource attribute
// service.name=sluice-<service> (target_info). Counter and Gauge keep the
// values the admin API's GetStats reports and export the same values;
// DurationGauge exports waits and ages in seconds; ObserveLag exports the
// consumer lag per partition; Histogram adds latency and size distributions
// with buckets suited to their unit, and BulkLatency and Delays are the
// operator's histograms (bulk round trip, end-to-end delay); Accounts counts
// lines and bytes per container, bounded in cardinality, so a line's loss
// can be pinned to a stage and a pod. Every exported value is in base units
// (seconds, bytes), as Prometheus expects.
//
// Traces: SetupTracing builds a tracer provider from the telemetry config
// section (head sampling by ratio, parent-based, exported over OTLP/gRPC).
// One log line's journey is one trace:
//
//	shipper   Produce(ctx)          kotel publish span, traceparent header ─┐
//	parser    poll → kotel receive span per record ◀─────────────────────────┘
//	          StartBatch("parser", recs) → Produce(batchCtx) → traceparent ──┐
//	indexer   poll → kotel receive span ◀───────────────────────────────────┘
//	          StartBatch("indexer", recs) around the bulk requests
//
// KafkaOpts plugs franz-go's kotel hooks into a kgo client: they create the
// per-record publish and receive spans and carry the context in the W3C
// traceparent header, and export the client's metrics. StartBatch starts a
// stage's span for a batch, continuing the first sampled trace among its
// records and linking the others.
//
// Cost: with tracing on, every produced record carries a traceparent header
// (about 70 bytes before compression), sampled or not, because parent-based
// sampling downstream needs the "not sampled" decision too. With no OTLP
// endpoint configured tracing is off: no-op spans and no headers.
//
// Metrics are not pushed over OTLP; the Prometheus endpoint is their only
// export.
package telemetry
