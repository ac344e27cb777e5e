package sink

import (
	"context"

	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
)

// ErrorTypeRequest marks results of a bulk request that failed as a whole
// (connection refused or reset, timeout, 429/5xx for the whole request).
const ErrorTypeRequest = "sluice_request_failed"

// Search writes to Elasticsearch or OpenSearch, one bulk request per call.
// Retries are the indexer's: it knows which failures count against a
// document's retry budget.
type Search struct {
	Client *bulk.Client
}

// Index sends docs in one bulk request.
func (s Search) Index(ctx context.Context, docs []bulk.Doc) []bulk.Result {
	res, err := s.Client.Send(ctx, docs)
	if err == nil {
		return res
	}
	res = make([]bulk.Result, len(docs))
	for i := range res {
		res[i] = bulk.Result{Outcome: bulk.Retryable, ErrorType: ErrorTypeRequest, Reason: err.Error()}
	}
	return res
}
