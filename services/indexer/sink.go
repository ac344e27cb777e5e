package indexer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluice-io/sluice/libs/telemetry"
	"github.com/sluice-io/sluice/services/indexer/config"
	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
	"github.com/sluice-io/sluice/services/indexer/internal/ecs"
	"github.com/sluice-io/sluice/services/indexer/internal/indexname"
	"github.com/sluice-io/sluice/services/indexer/internal/sink"
)

// NewSink builds the output cfg names: the search engine's bulk API, or the
// NDJSON file. The file sink is an io.Closer.
//
// For the search engine it checks the connection (product, credentials)
// and installs the ILM policy and the built-in index template when
// configured, retrying while the engine is unreachable or answers 5xx, up
// to elasticsearch.setup_timeout; an answer that names a setting to fix
// (401, 403, a rejected template, the wrong flavor) fails at once with what
// to fix.
func NewSink(ctx context.Context, cfg config.Config, opts ...SinkOption) (Sink, error) {
	var so sinkOptions
	for _, o := range opts {
		o(&so)
	}
	switch cfg.Output {
	case "file":
		return sink.OpenFile(cfg.File.Path)
	default:
		es := cfg.Elasticsearch
		bc := bulk.DefaultConfig()
		bc.URLs = es.URLs
		bc.Username, bc.Password, bc.APIKey, bc.BearerToken = es.Username, es.Password, es.APIKey, es.BearerToken
		bc.CACertFile = es.CAFile
		bc.Flavor = es.Flavor
		bc.Gzip = es.Gzip
		bc.Timeout = es.Timeout.D()
		if err := bc.Validate(); err != nil {
			return nil, fmt.Errorf("elasticsearch: %w", err)
		}
		lim := newLimiter(cfg.Batch)
		cl, err := bulk.New(bc, bulk.WithLimiter(lim))
		if err != nil {
			return nil, fmt.Errorf("elasticsearch: %w", err)
		}
		if err := setup(ctx, cl, cfg, so.log); err != nil {
			return nil, err
		}
		return sink.Search{Client: cl, Limiter: lim}, nil
	}
}

// appMapping chooses how the template maps app, the object holding the
// applications' own JSON fields, from the version and build the engine
// reports: flattened or flat_object where the engine has it, else an
// unindexed object (see ecs.AppMapping). An engine that will not say (the
// user lacks the monitor privilege) gets the unindexed object, which every
// engine accepts; only an unreachable engine is an error, to retry.
func appMapping(ctx context.Context, cl *bulk.Client, flavor string, urls []string, log *slog.Logger) (ecs.AppMapping, error) {
	info, err := cl.Info(ctx)
	if err != nil {
		if !errors.Is(err, bulk.ErrPermanent) {
			return "", err
		}
		app := ecs.AppUnindexed
		log.Warn("cannot tell the search engine's version; application JSON fields (app.*) are kept in _source but not searchable",
			"urls", strings.Join(urls, ","), "app_mapping", app.String(), "err", err)
		return app, nil
	}
	if (flavor == ecs.FlavorOpenSearch) != (info.Distribution == "opensearch") {
		// The engine is not the configured flavor (Ping only checks that
		// an elasticsearch flavor is Elasticsearch): its version number
		// says nothing of the types the flavor's template would use.
		app := ecs.AppUnindexed
		log.Warn("the search engine is not the configured indexer.elasticsearch.flavor; application JSON fields (app.*) are kept in _source but not searchable",
			"urls", strings.Join(urls, ","), "flavor", flavor, "distribution", info.Distribution, "version", info.Version, "app_mapping", app.String())
		return app, nil
	}
	app := ecs.AppMappingFor(flavor, info.Version, info.BuildFlavor)
	log.Info("index template maps application JSON fields (app.*)", "app_mapping", app.String(),
		"engine", flavor, "version", info.Version, "build_flavor", info.BuildFlavor, "build_type", info.BuildType)
	return app, nil
}

// newLimiter bounds bulk requests in flight between min_concurrency and
// concurrency, starting at concurrency: the operator's choice is the
// ceiling, and 429s or slow answers bring it down.
func newLimiter(b config.Batch) *bulk.Limiter {
	return bulk.NewLimiter(b.MinConcurrency, b.Concurrency,
		bulk.WithInitialLimit(b.Concurrency), bulk.WithTargetLatency(b.TargetLatency.D()))
}

// SinkOption configures NewSink.
type SinkOption func(*sinkOptions)

type sinkOptions struct{ log *slog.Logger }

// WithSetupLog logs every failed attempt of the start-up checks (warn,
// with the engine's URLs, the step and the cause), so an indexer waiting
// for an unreachable engine says so at once instead of after
// elasticsearch.setup_timeout. Default: no log.
func WithSetupLog(log *slog.Logger) SinkOption { return func(o *sinkOptions) { o.log = log } }

// setup pings the engine and installs the ILM policy and index template.
func setup(ctx context.Context, cl *bulk.Client, cfg config.Config, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	es := cfg.Elasticsearch
	type step struct {
		what string
		do   func(context.Context) error
	}
	steps := []step{{"connecting", cl.Ping}}
	patterns := es.TemplatePatterns
	if len(patterns) == 0 {
		patterns = templatePatterns(cfg.Index)
	}
	if es.ILM.Policy != "" {
		rollover := cfg.Index.DataStream()
		if es.Flavor == ecs.FlavorOpenSearch {
			body, err := ecs.ISMPolicy(ecs.ISMOptions{
				Patterns: patterns, Priority: es.TemplatePriority,
				Rollover: rollover, RolloverMaxAge: es.ILM.RolloverMaxAge.D(),
				RolloverMaxPrimaryShardSize: es.ILM.RolloverMaxPrimaryShardSize,
				DeleteAfter:                 es.ILM.DeleteAfter.D(),
			})
			if err != nil {
				return fmt.Errorf("elasticsearch.ilm: %w", err)
			}
			steps = append(steps, step{"installing the ISM policy", func(ctx context.Context) error {
				err := cl.EnsureISMPolicy(ctx, es.ILM.Policy, body)
				if errors.Is(err, bulk.ErrNoISM) {
					// Retention is the operator's comfort, not a condition of
					// indexing: say so and go on.
					log.Warn("no retention policy installed: the search engine has no ISM API (index-management plugin); indices are kept until deleted",
						"urls", strings.Join(es.URLs, ","), "policy", es.ILM.Policy)
					return nil
				}
				return err
			}})
		} else {
			body, err := ecs.Policy(ecs.PolicyOptions{
				Rollover:                    rollover,
				RolloverMaxAge:              es.ILM.RolloverMaxAge.D(),
				RolloverMaxPrimaryShardSize: es.ILM.RolloverMaxPrimaryShardSize,
				DeleteAfter:                 es.ILM.DeleteAfter.D(),
			})
			if err != nil {
				return fmt.Errorf("elasticsearch.ilm: %w", err)
			}
			steps = append(steps, step{"installing the ILM policy", func(ctx context.Context) error { return cl.EnsureILMPolicy(ctx, es.ILM.Policy, body) }})
		}
	}
	if es.Template {
		ilmPolicy := es.ILM.Policy
		if es.Flavor == ecs.FlavorOpenSearch {
			ilmPolicy = "" // ISM attaches itself through its ism_template
		}
		opts := ecs.Options{
			Patterns: patterns, Priority: es.TemplatePriority, DataStream: cfg.Index.DataStream(),
			Flavor: es.Flavor, ILMPolicy: ilmPolicy,
		}
		// A setting the template cannot express fails before any request.
		if _, err := ecs.Template(opts); err != nil {
			return fmt.Errorf("elasticsearch.template: %w", err)
		}
		steps = append(steps, step{"installing the index template", func(ctx context.Context) error {
			app, err := appMapping(ctx, cl, es.Flavor, es.URLs, log)
			if err != nil {
				return err
			}
			opts.App = app
			body, err := ecs.Template(opts)
			if err != nil {
				return fmt.Errorf("elasticsearch.template: %w: %w", err, bulk.ErrPermanent)
			}
			return cl.EnsureTemplate(ctx, es.TemplateName, body)
		}})
	}
	sctx, cancel := context.WithTimeout(ctx, es.SetupTimeout.D())
	defer cancel()
	for _, st := range steps {
		backoff := es.BackoffMin.D()
		for attempt := 1; ; attempt++ {
			err := st.do(sctx)
			if err == nil {
				if attempt > 1 {
					log.Info("search engine setup step succeeded", "step", st.what, "urls", strings.Join(es.URLs, ","), "attempts", attempt)
				}
				break
			}
			// A refusal that names a setting will not change by waiting.
			if errors.Is(err, bulk.ErrPermanent) {
				return fmt.Errorf("elasticsearch: %s: %w", st.what, err)
			}
			wait := setupJitter(backoff)
			log.Warn("search engine not ready; retrying", "step", st.what, "urls", strings.Join(es.URLs, ","),
				"attempt", attempt, "retry_in", wait.Round(time.Millisecond).String(), "gives_up_after", es.SetupTimeout.D().String(), "err", err)
			select {
			case <-sctx.Done():
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("elasticsearch: %s: gave up after elasticsearch.setup_timeout (%v): %w", st.what, es.SetupTimeout.D(), err)
			case <-time.After(wait):
			}
			backoff = min(2*backoff, es.BackoffMax.D())
		}
	}
	return nil
}

// setupJitter spreads retries of the start-up checks over [d/2, d), so
// replicas started together do not knock on the engine at once.
func setupJitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// MeasuredSink wraps a Sink with the operator's histograms: the latency of
// every bulk request by outcome (sluice_indexer_bulk_request_duration_seconds)
// and, for every document the engine created, the end-to-end delays
// (sluice_indexer_event_delay_seconds from its @timestamp,
// sluice_indexer_pipeline_delay_seconds from event.ingested, when the
// shipper read the line). A 409 (already indexed, a replay) is not a delay
// and is not recorded.
//
// The histograms live on the indexer's Telemetry, which exists only once
// the indexer does: wrap the sink, build the indexer with it, then Attach
// the indexer's Telemetry before Run. Until then Index only forwards.
type MeasuredSink struct {
	Sink
	m atomic.Pointer[sinkMetrics]
}

type sinkMetrics struct {
	latency *telemetry.Latency
	delays  *telemetry.Delays
}

// Measure wraps s.
func Measure(s Sink) *MeasuredSink { return &MeasuredSink{Sink: s} }

// Attach starts recording on tel.
func (m *MeasuredSink) Attach(tel *telemetry.Telemetry) {
	m.m.Store(&sinkMetrics{latency: tel.BulkLatency(), delays: tel.Delays()})
}

// Index implements Sink.
func (m *MeasuredSink) Index(ctx context.Context, docs []bulk.Doc) []bulk.Result {
	sm := m.m.Load()
	if sm == nil {
		return m.Sink.Index(ctx, docs)
	}
	start := time.Now()
	res := m.Sink.Index(ctx, docs)
	now := time.Now()
	ok := 0
	for i, r := range res {
		if r.OK() {
			ok++
		}
		if r.Outcome == bulk.Created && i < len(docs) {
			event, read := docTimes(docs[i].Source)
			sm.delays.Observe(ctx, now, event, read)
		}
	}
	outcome := "partial"
	switch ok {
	case len(res):
		outcome = "ok"
	case 0:
		outcome = "error"
	}
	sm.latency.Observe(ctx, now.Sub(start), outcome)
	return res
}

// Concurrency forwards the wrapped sink's adaptive limit, if it has one.
func (m *MeasuredSink) Concurrency() (limit, inFlight int) {
	if c, ok := m.Sink.(interface{ Concurrency() (int, int) }); ok {
		return c.Concurrency()
	}
	return 0, 0
}

// Close closes the wrapped sink if it is an io.Closer.
func (m *MeasuredSink) Close() error {
	if c, ok := m.Sink.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

var (
	timestampKey = []byte(`"@timestamp":"`)
	ingestedKey  = []byte(`ingested":"`) // event.ingested, nested or dotted
)

// docTimes finds a document's @timestamp and event.ingested by scanning
// its JSON for the keys rather than decoding it: this runs for every
// document indexed. A missing or unparsable value is the zero time.
func docTimes(src []byte) (event, read time.Time) {
	return jsonTime(src, timestampKey), jsonTime(src, ingestedKey)
}

func jsonTime(src, key []byte) time.Time {
	i := bytes.Index(src, key)
	if i < 0 {
		return time.Time{}
	}
	v := src[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, string(v[:j]))
	if err != nil {
		return time.Time{}
	}
	return t
}

// templatePatterns derives the template's index patterns from the index
// section: the name patterns the indexer writes, or the data streams'
// datasets (see ecs.Patterns).
func templatePatterns(ix indexname.Config) []string {
	if ix.DataStream() {
		var datasets []string
		if len(ix.Allow) > 0 {
			datasets = append(append(datasets, ix.Allow...), ix.Dataset)
		}
		return ecs.Patterns(nil, true, datasets)
	}
	switch ix.Mode {
	case indexname.ModeFixed:
		return ecs.Patterns([]string{ix.Name}, false, nil)
	case indexname.ModeHeader:
		return ecs.Patterns([]string{indexname.DefaultPattern, ix.Default}, false, nil)
	}
	return ecs.Patterns([]string{ix.Name, ix.Default}, false, nil)
}
