package bulk

import (
	"errors"
	"fmt"
	"time"
)

// Sentinels for whole-request failures; test with errors.Is.
var (
	// ErrRetryable marks a failure that may succeed if the same request is
	// sent again: connection errors, timeouts, 429, 5xx, an unreadable
	// response.
	ErrRetryable = errors.New("retryable bulk failure")
	// ErrPermanent marks a failure that sending the same request again will
	// not fix: 400, 401, 403, 404, 413, a server that is not the configured
	// product.
	ErrPermanent = errors.New("permanent bulk failure")
	// ErrTooLarge marks a 413 answer: the request exceeds the server's
	// http.max_content_length. It also matches ErrPermanent.
	ErrTooLarge = errors.New("bulk request too large")
	// ErrProduct marks a server that did not identify as Elasticsearch
	// (no X-Elastic-Product header). It also matches ErrPermanent.
	ErrProduct = errors.New("server is not Elasticsearch")
)

// RequestError is a whole-request failure. It matches ErrRetryable or
// ErrPermanent (and ErrTooLarge, ErrProduct where they apply) with
// errors.Is, and unwraps to the transport error when there is one.
type RequestError struct {
	// Host is the node URL the request went to.
	Host string
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Type and Reason are the error.type and error.reason of the response
	// body, when it had them.
	Type   string
	Reason string
	// RetryAfter is the server's Retry-After hint, 0 when absent.
	RetryAfter time.Duration
	// Err is the transport error, if any.
	Err error

	kind error
}

func (e *RequestError) Error() string {
	msg := "bulk request to " + e.Host
	switch {
	case e.Status != 0 && e.Type != "":
		msg += fmt.Sprintf(": HTTP %d %s: %s", e.Status, e.Type, e.Reason)
	case e.Status != 0 && e.Reason != "":
		msg += fmt.Sprintf(": HTTP %d: %s", e.Status, e.Reason)
	case e.Status != 0:
		msg += fmt.Sprintf(": HTTP %d", e.Status)
	case e.Reason != "":
		msg += ": " + e.Reason
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the class sentinels and the transport error.
func (e *RequestError) Unwrap() []error {
	errs := []error{e.kind}
	switch e.kind {
	case ErrTooLarge, ErrProduct:
		errs = append(errs, ErrPermanent)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Retryable reports whether the same request may succeed if sent again.
func (e *RequestError) Retryable() bool { return e.kind == ErrRetryable }
