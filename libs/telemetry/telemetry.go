package telemetry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Telemetry is one service's metrics and traces.
type Telemetry struct {
	service  string
	scope    string // instrumentation scope of the service's own meter and tracer
	provider *sdkmetric.MeterProvider
	meter    metric.Meter
	registry *prometheus.Registry

	mu             sync.Mutex
	counters       map[string]*Counter
	gauges         map[string]*Gauge
	durations      map[string]*DurationGauge
	lagRegistered  bool
	accounts       map[string]*Accounts
	tracerProvider trace.TracerProvider
	tracer         trace.Tracer
	sdkTracer      *sdktrace.TracerProvider // nil while tracing is off
}

// New creates the service's meter provider with a Prometheus exporter on a
// registry of its own (so tests can run several services in one process).
//
// The registry also carries the Go runtime (go_*) and process (process_*)
// collectors, so memory, GC, goroutines, CPU and open files are on the same
// endpoint; and the resource names the service (service.name
// sluice-<service>, shown on target_info), as the tracer provider does.
func New(service string) (*Telemetry, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithNamespace("sluice_"+service))
	if err != nil {
		return nil, err
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", "sluice-"+service),
		attribute.String("service.namespace", "sluice"),
	))
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res))
	scope := "github.com/sluice-io/sluice/" + service
	tp := noopTracerProvider()
	return &Telemetry{
		service:        service,
		scope:          scope,
		provider:       mp,
		meter:          mp.Meter(scope),
		registry:       reg,
		counters:       map[string]*Counter{},
		gauges:         map[string]*Gauge{},
		durations:      map[string]*DurationGauge{},
		accounts:       map[string]*Accounts{},
		tracerProvider: tp,
		tracer:         tp.Tracer(scope),
	}, nil
}

// Meter is the service's OpenTelemetry meter, for histograms and the like.
func (t *Telemetry) Meter() metric.Meter { return t.meter }

// MeterProvider is the provider, for client plugins such as kotel.
func (t *Telemetry) MeterProvider() metric.MeterProvider { return t.provider }

// Counter is a monotonic count exported as an OpenTelemetry counter and
// readable in-process for the admin API.
type Counter struct{ v atomic.Int64 }

// Add adds n.
func (c *Counter) Add(n int64) { c.v.Add(n) }

// Load returns the current value.
func (c *Counter) Load() int64 { return c.v.Load() }

// Gauge is a value that goes up and down (bytes in flight, lag).
type Gauge struct{ v atomic.Int64 }

// Add adds n (which may be negative).
func (g *Gauge) Add(n int64) { g.v.Add(n) }

// Set sets the value.
func (g *Gauge) Set(n int64) { g.v.Store(n) }

// Load returns the current value.
func (g *Gauge) Load() int64 { return g.v.Load() }

// Counter returns the counter named name, creating and exporting it on first
// use. Names are snake_case; the exported metric is sluice_<service>_<name>_total.
func (t *Telemetry) Counter(name, description string) *Counter {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.counters[name]; ok {
		return c
	}
	c := &Counter{}
	t.counters[name] = c
	_, _ = t.meter.Int64ObservableCounter(name, metric.WithDescription(description),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(c.Load())
			return nil
		}))
	return c
}

// Gauge returns the gauge named name, creating and exporting it on first use.
func (t *Telemetry) Gauge(name, description string) *Gauge {
	t.mu.Lock()
	defer t.mu.Unlock()
	if g, ok := t.gauges[name]; ok {
		return g
	}
	g := &Gauge{}
	t.gauges[name] = g
	_, _ = t.meter.Int64ObservableGauge(name, metric.WithDescription(description),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(g.Load())
			return nil
		}))
	return g
}

// Snapshot returns every counter's and gauge's value by name.
func (t *Telemetry) Snapshot() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int64, len(t.counters)+len(t.gauges))
	for n, c := range t.counters {
		out[n] = c.Load()
	}
	for n, g := range t.gauges {
		out[n] = g.Load()
	}
	for n, g := range t.durations {
		out[n+"_ms"] = g.Load().Milliseconds()
	}
	return out
}

// Names returns the counter names, sorted.
func (t *Telemetry) Names() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	names := make([]string, 0, len(t.counters))
	for n := range t.counters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Handler serves the Prometheus exposition of the service's metrics.
func (t *Telemetry) Handler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{})
}

// ServeOption configures Serve.
type ServeOption func(*serveConfig)

type serveConfig struct{ pprof bool }

// WithPprof serves Go's runtime profiles (net/http/pprof) under
// /debug/pprof/ beside /metrics when on; default off, so the endpoint answers
// 404 there. It is a separate switch rather than always on because a CPU or
// trace profile costs the service CPU while it runs and reveals its code.
func WithPprof(on bool) ServeOption { return func(c *serveConfig) { c.pprof = on } }

// Serve serves /metrics on addr until ctx ends. An empty addr serves nothing.
func (t *Telemetry) Serve(ctx context.Context, addr string, opts ...ServeOption) (net.Addr, error) {
	var cfg serveConfig
	for _, o := range opts {
		o(&cfg)
	}
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", t.Handler())
	if cfg.pprof {
		// Registered on this mux only: importing net/http/pprof also adds
		// its handlers to http.DefaultServeMux, which nothing here serves.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err
		}
	}()
	return ln.Addr(), nil
}

// Shutdown flushes and stops the tracer provider (when tracing is on) and the
// meter provider. Spans are flushed first: they are what a slow exporter
// would lose, while metrics are scraped.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	tp := t.sdkTracer
	t.mu.Unlock()
	var errs []error
	if tp != nil {
		errs = append(errs, tp.Shutdown(ctx))
	}
	errs = append(errs, t.provider.Shutdown(ctx))
	return errors.Join(errs...)
}
