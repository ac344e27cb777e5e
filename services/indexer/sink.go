package indexer

import (
	"context"
	"fmt"

	"github.com/sluice-io/sluice/services/indexer/config"
	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
	"github.com/sluice-io/sluice/services/indexer/internal/sink"
)

// NewSink builds the output cfg names: the search engine's bulk API, or the
// NDJSON file. The file sink is an io.Closer.
func NewSink(_ context.Context, cfg config.Config) (Sink, error) {
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
		cl, err := bulk.New(bc)
		if err != nil {
			return nil, fmt.Errorf("elasticsearch: %w", err)
		}
		return sink.Search{Client: cl}, nil
	}
}
