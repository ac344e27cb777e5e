package sink

import (
	"context"
	"errors"
	"net/http"

	"github.com/sluice-io/sluice/services/indexer/internal/bulk"
)

// ErrorTypeRequest marks results of a bulk request that failed as a whole
// (connection refused or reset, timeout, 429/5xx for the whole request, or
// a setting to fix: 401, 403, 404, a server of the wrong product).
const ErrorTypeRequest = "sluice_request_failed"

// Search writes to Elasticsearch or OpenSearch, one bulk request per call
// (more when a request must be split). Retries are the indexer's: it knows
// which failures count against a document's retry budget. It is safe for
// concurrent use.
type Search struct {
	Client *bulk.Client
	// Limiter, when the Client was built with it, is reported by
	// Concurrency.
	Limiter *bulk.Limiter
}

// Index sends docs in one bulk request. A request refused as a whole with
// 400 or 413 says one document (or the request's size) is at fault, not the
// server: it is split in halves until the document at fault is alone, which
// is answered Permanent with the server's status and reason. Any other
// whole-request failure answers every document Retryable with
// ErrorTypeRequest.
func (s Search) Index(ctx context.Context, docs []bulk.Doc) []bulk.Result {
	res := make([]bulk.Result, len(docs))
	s.index(ctx, docs, res)
	return res
}

func (s Search) index(ctx context.Context, docs []bulk.Doc, out []bulk.Result) {
	res, err := s.Client.Send(ctx, docs)
	if err == nil {
		copy(out, res)
		return
	}
	var re *bulk.RequestError
	if errors.As(err, &re) && (re.Status == http.StatusBadRequest || re.Status == http.StatusRequestEntityTooLarge) && ctx.Err() == nil {
		if len(docs) == 1 {
			typ := re.Type
			if typ == "" {
				typ = "http_error"
			}
			out[0] = bulk.Result{Outcome: bulk.Permanent, Status: re.Status, ErrorType: typ, Reason: re.Error()}
			return
		}
		half := len(docs) / 2
		s.index(ctx, docs[:half], out[:half])
		s.index(ctx, docs[half:], out[half:])
		return
	}
	r := bulk.Result{Outcome: bulk.Retryable, ErrorType: ErrorTypeRequest, Reason: err.Error()}
	if re != nil {
		r.Status = re.Status
	}
	for i := range out {
		out[i] = r
	}
}

// Concurrency returns the adaptive limit on bulk requests in flight and the
// requests in flight now; 0, 0 without a Limiter.
func (s Search) Concurrency() (limit, inFlight int) {
	if s.Limiter == nil {
		return 0, 0
	}
	return s.Limiter.Limit(), s.Limiter.InFlight()
}
