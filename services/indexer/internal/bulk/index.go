package bulk

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
)

// Index sends docs and retries what is retryable, returning one final Result
// per document, in order.
//
// Retried: whole-request failures (connection errors, timeouts, 429, 5xx,
// and also 401, 403 and 404, which name a setting to fix rather than a bad
// document) for every document of the request, and Retryable items alone.
// Between rounds it waits a random time in [0, min(BackoffMax,
// BackoffMin·2^(n-1))] (full jitter), or the server's Retry-After if longer.
// A document is sent at most MaxRetries+1 times; with MaxRetries < 0 it is
// retried until ctx ends. A request answered 400 or 413 as a whole is split
// in halves until the document at fault is alone, which is then Permanent.
//
// A Retryable result therefore means the retries were used up or ctx ended.
// Retrying is safe because documents are written with op_type create and a
// deterministic _id: a document stored by a request whose answer was lost
// comes back Exists.
func (c *Client) Index(ctx context.Context, docs []Doc) []Result {
	results := make([]Result, len(docs))
	pending := make([]int, 0, len(docs))
	for i := range docs {
		if why := checkDoc(&docs[i]); why != "" {
			results[i] = Result{Outcome: Permanent, ErrorType: ErrorTypeInvalidDocument, Reason: why}
			continue
		}
		pending = append(pending, i)
	}
	c.index(ctx, docs, pending, results, 0)
	return results
}

// index sends docs[pending] until none is Retryable or the retries are used
// up; attempt is how often they were sent already.
func (c *Client) index(ctx context.Context, docs []Doc, pending []int, results []Result, attempt int) {
	batch := make([]Doc, 0, len(pending))
	for len(pending) > 0 {
		batch = batch[:0]
		for _, i := range pending {
			batch = append(batch, docs[i])
		}
		res, err := c.Send(ctx, batch)
		var retryAfter time.Duration
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				re = &RequestError{Err: err, kind: ErrRetryable}
			}
			if re.Status == http.StatusBadRequest || re.Status == http.StatusRequestEntityTooLarge {
				if len(pending) == 1 {
					results[pending[0]] = requestResult(re, Permanent)
					return
				}
				half := len(pending) / 2
				c.index(ctx, docs, pending[:half], results, attempt)
				c.index(ctx, docs, pending[half:], results, attempt)
				return
			}
			r := requestResult(re, Retryable)
			for _, i := range pending {
				results[i] = r
			}
			retryAfter = re.RetryAfter
		} else {
			next := pending[:0]
			for k, i := range pending {
				results[i] = res[k]
				if res[k].Outcome == Retryable {
					next = append(next, i)
				}
			}
			pending = next
		}
		attempt++
		if len(pending) == 0 || ctx.Err() != nil || (c.cfg.MaxRetries >= 0 && attempt > c.cfg.MaxRetries) {
			return
		}
		if !sleep(ctx, max(c.backoff(attempt), min(retryAfter, c.cfg.BackoffMax))) {
			return
		}
	}
}

// requestResult is the per-document result of a whole-request failure.
func requestResult(re *RequestError, o Outcome) Result {
	typ := re.Type
	if typ == "" {
		if re.Status != 0 {
			typ = "http_error"
		} else {
			typ = "transport_error"
		}
	}
	return Result{Outcome: o, Status: re.Status, ErrorType: typ, Reason: re.Error()}
}

// backoff returns the wait before retry n (n ≥ 1): uniform in
// [0, min(BackoffMax, BackoffMin·2^(n-1))].
func (c *Client) backoff(n int) time.Duration {
	ceil := c.cfg.BackoffMax
	if n <= 62 {
		if d := c.cfg.BackoffMin << (n - 1); d > 0 && d < ceil && d>>(n-1) == c.cfg.BackoffMin {
			ceil = d
		}
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// sleep waits d, reporting false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
