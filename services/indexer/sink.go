package indexer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sluice-io/sluice/services/indexer/config"
	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
	"github.com/sluice-io/sluice/services/indexer/internal/ecs"
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
func NewSink(ctx context.Context, cfg config.Config) (Sink, error) {
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
		if err := setup(ctx, cl, cfg); err != nil {
			return nil, err
		}
		return sink.Search{Client: cl, Limiter: lim}, nil
	}
}

// newLimiter bounds bulk requests in flight between min_concurrency and
// concurrency, starting at concurrency: the operator's choice is the
// ceiling, and 429s or slow answers bring it down.
func newLimiter(b config.Batch) *bulk.Limiter {
	return bulk.NewLimiter(b.MinConcurrency, b.Concurrency,
		bulk.WithInitialLimit(b.Concurrency), bulk.WithTargetLatency(b.TargetLatency.D()))
}

// setup pings the engine and installs the ILM policy and index template.
func setup(ctx context.Context, cl *bulk.Client, cfg config.Config) error {
	es := cfg.Elasticsearch
	type step struct {
		what string
		do   func(context.Context) error
	}
	steps := []step{{"connecting", cl.Ping}}
	if es.ILM.Policy != "" {
		body, err := ecs.Policy(ecs.PolicyOptions{
			Rollover:                    cfg.Index.DataStream(),
			RolloverMaxAge:              es.ILM.RolloverMaxAge.D(),
			RolloverMaxPrimaryShardSize: es.ILM.RolloverMaxPrimaryShardSize,
			DeleteAfter:                 es.ILM.DeleteAfter.D(),
		})
		if err != nil {
			return fmt.Errorf("elasticsearch.ilm: %w", err)
		}
		steps = append(steps, step{"installing the ILM policy", func(ctx context.Context) error { return cl.EnsureILMPolicy(ctx, es.ILM.Policy, body) }})
	}
	if es.Template {
		patterns := es.TemplatePatterns
		if len(patterns) == 0 {
			patterns = cfg.Index.Patterns()
		}
		body, err := ecs.Template(ecs.Options{
			Patterns: patterns, Priority: es.TemplatePriority, DataStream: cfg.Index.DataStream(),
			Flavor: es.Flavor, ILMPolicy: es.ILM.Policy,
		})
		if err != nil {
			return fmt.Errorf("elasticsearch.template: %w", err)
		}
		steps = append(steps, step{"installing the index template", func(ctx context.Context) error { return cl.EnsureTemplate(ctx, es.TemplateName, body) }})
	}
	sctx, cancel := context.WithTimeout(ctx, es.SetupTimeout.D())
	defer cancel()
	for _, st := range steps {
		backoff := es.BackoffMin.D()
		for {
			err := st.do(sctx)
			if err == nil {
				break
			}
			// A refusal that names a setting will not change by waiting.
			if errors.Is(err, bulk.ErrPermanent) {
				return fmt.Errorf("elasticsearch: %s: %w", st.what, err)
			}
			select {
			case <-sctx.Done():
				return fmt.Errorf("elasticsearch: %s: gave up after elasticsearch.setup_timeout (%v): %w", st.what, es.SetupTimeout.D(), err)
			case <-time.After(jitter(backoff)):
			}
			backoff = min(2*backoff, es.BackoffMax.D())
		}
	}
	return nil
}
