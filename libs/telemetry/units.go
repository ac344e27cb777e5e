package telemetry

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// DurationGauge is a wait or an age that goes up and down (the current
// retry backoff, the oldest unacknowledged record), exported in seconds,
// the base unit Prometheus expects, whatever unit the code counts in.
type DurationGauge struct{ v atomic.Int64 }

// Set sets the value.
func (g *DurationGauge) Set(d time.Duration) { g.v.Store(int64(d)) }

// Load returns the current value.
func (g *DurationGauge) Load() time.Duration { return time.Duration(g.v.Load()) }

// DurationGauge returns the duration gauge named name, creating and
// exporting it on first use, in seconds: DurationGauge("retry.backoff", …)
// is sluice_<service>_retry_backoff_seconds. Snapshot reports it in
// milliseconds under name + "_ms", for the admin API's integer counters.
func (t *Telemetry) DurationGauge(name, description string) *DurationGauge {
	t.mu.Lock()
	defer t.mu.Unlock()
	if g, ok := t.durations[name]; ok {
		return g
	}
	g := &DurationGauge{}
	t.durations[name] = g
	_, _ = t.meter.Float64ObservableGauge(name, metric.WithUnit("s"), metric.WithDescription(description),
		metric.WithFloat64Callback(func(_ context.Context, o metric.Float64Observer) error {
			o.Observe(g.Load().Seconds())
			return nil
		}))
	return g
}

// PartitionLag is a consumer group's lag on one partition: records between
// the committed offset and the end of the partition.
type PartitionLag struct {
	Topic     string
	Partition int32
	Lag       int64
}

// lagCacheTTL bounds how often a scrape asks the brokers for the lag: two
// Prometheus servers scraping every 5 s cost one request, not two.
const lagCacheTTL = 5 * time.Second

// ObserveLag exports the consumer lag per partition as the gauge
// sluice_<service>_consumer_lag{topic,partition}, read from lag (which asks
// the brokers) when scraped, at most every five seconds. A service that
// consumes nothing returns no partitions and exports no series. Only the
// first call registers; later ones are ignored, so a restarted runner on
// the same Telemetry does not register twice.
func (t *Telemetry) ObserveLag(lag func(context.Context) []PartitionLag) {
	t.mu.Lock()
	if t.lagRegistered {
		t.mu.Unlock()
		return
	}
	t.lagRegistered = true
	t.mu.Unlock()
	var (
		mu     sync.Mutex
		cached []PartitionLag
		at     time.Time
	)
	_, _ = t.meter.Int64ObservableGauge("consumer.lag",
		metric.WithDescription("Records in the partition after the consumer group's committed offset."),
		metric.WithInt64Callback(func(ctx context.Context, o metric.Int64Observer) error {
			mu.Lock()
			defer mu.Unlock()
			if time.Since(at) >= lagCacheTTL {
				cached, at = lag(ctx), time.Now()
			}
			for _, l := range cached {
				o.Observe(l.Lag, metric.WithAttributes(
					attribute.String("topic", l.Topic),
					attribute.String("partition", strconv.Itoa(int(l.Partition))),
				))
			}
			return nil
		}))
}

// Delays are the end-to-end delay histograms, recorded when the search
// engine accepted a document:
//
//   - event delay, index time − the event's @timestamp: what a user waiting
//     for a line in Kibana sees (includes the application's own clock and
//     any buffering before the line reached its log file);
//   - pipeline delay, index time − the time the shipper read the line: the
//     time Sluice itself took (Kafka lag included).
//
// Exported as sluice_<service>_event_delay_seconds and
// sluice_<service>_pipeline_delay_seconds, with buckets from 0.5 ms to 60 s
// (+Inf above: a backlog of hours shows as the share of +Inf).
type Delays struct {
	event, pipeline metric.Float64Histogram
}

// Delays returns the service's end-to-end delay histograms.
func (t *Telemetry) Delays() *Delays {
	return &Delays{
		event:    t.Histogram("event.delay", "s", "Index time minus the event's @timestamp."),
		pipeline: t.Histogram("pipeline.delay", "s", "Index time minus the time the shipper read the line."),
	}
}

// Observe records one document indexed at indexed; a zero event or read
// time (unknown) is skipped. Negative delays (clock skew between nodes)
// are recorded as zero: the histogram says how late, not how early.
func (d *Delays) Observe(ctx context.Context, indexed, event, read time.Time) {
	if !event.IsZero() {
		d.event.Record(ctx, max(indexed.Sub(event), 0).Seconds())
	}
	if !read.IsZero() {
		d.pipeline.Record(ctx, max(indexed.Sub(read), 0).Seconds())
	}
}

// BulkLatency returns the histogram of bulk request round trips,
// sluice_<service>_bulk_request_duration_seconds, with the outcome as an
// attribute ("ok", "partial" when some items were refused, "error").
func (t *Telemetry) BulkLatency() *Latency {
	return &Latency{h: t.Histogram("bulk.request.duration", "s", "Round trip of one bulk request to the search engine.")}
}

// Latency is a duration histogram with an outcome attribute.
type Latency struct{ h metric.Float64Histogram }

var outcomeSets = map[string]metric.MeasurementOption{}

func init() {
	for _, o := range []string{"ok", "partial", "error"} {
		outcomeSets[o] = metric.WithAttributeSet(attribute.NewSet(attribute.String("outcome", o)))
	}
}

// Observe records one request of duration d with its outcome.
func (l *Latency) Observe(ctx context.Context, d time.Duration, outcome string) {
	opt, ok := outcomeSets[outcome]
	if !ok {
		opt = outcomeSets["error"]
	}
	l.h.Record(ctx, d.Seconds(), opt)
}
