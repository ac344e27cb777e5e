package telemetry

import (
	"strings"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Bucket boundaries by unit. The SDK's default (0, 5, 10, 25 … 10000) suits
// milliseconds only; a latency in seconds would land in its first bucket.
var (
	// secondsBuckets span a fast broker round trip to a bulk request retried
	// for a minute.
	secondsBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	// bytesBuckets span one short line to a 64 MiB fetch, by powers of four.
	bytesBuckets = []float64{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20}
	// countBuckets span a batch of one to the largest poll.
	countBuckets = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000}
)

// Histogram returns a histogram on the service's meter, for latencies and
// batch sizes. unit is UCUM as OpenTelemetry wants it, and picks the
// buckets: "s" from 0.5 ms to 60 s, "ms" the SDK's default, "By" from 64 B
// to 64 MiB, anything else (a count such as "{record}" or "1") from 1 to
// 25000. Prometheus exposes it as sluice_<service>_<name>_<unit>, e.g.
// Histogram("bulk.duration", "s", …) as sluice_indexer_bulk_duration_seconds.
// Asking twice for one name returns the same instrument; a name the SDK
// refuses gives a no-op histogram rather than an error a caller would only
// log.
func (t *Telemetry) Histogram(name, unit, description string) metric.Float64Histogram {
	opts := []metric.Float64HistogramOption{metric.WithUnit(unit), metric.WithDescription(description)}
	switch {
	case unit == "s":
		opts = append(opts, metric.WithExplicitBucketBoundaries(secondsBuckets...))
	case unit == "ms":
	case unit == "By":
		opts = append(opts, metric.WithExplicitBucketBoundaries(bytesBuckets...))
	case unit == "1" || strings.HasPrefix(unit, "{"):
		opts = append(opts, metric.WithExplicitBucketBoundaries(countBuckets...))
	}
	h, err := t.meter.Float64Histogram(name, opts...)
	if err != nil {
		return noop.Float64Histogram{}
	}
	return h
}
