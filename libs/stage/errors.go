package stage

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Class is what the runtime does with an error. Every error a handler or a
// produce returns has exactly one class, decided here and nowhere else.
type Class int

const (
	// Retryable errors are retried with backoff (Policy) until they
	// succeed, while the stage fetches nothing new: the backlog waits in
	// Kafka. Only Policy.MaxAge, off by default, turns one into a dead
	// letter. An unclassified error is retryable.
	Retryable Class = iota
	// Permanent errors are of one record: it is dead-lettered with the
	// reason and its partition moves on.
	Permanent
	// Fatal errors are of the process (configuration, authentication):
	// Run returns them and the service exits. A record's content is never
	// fatal.
	Fatal
)

func (c Class) String() string {
	switch c {
	case Permanent:
		return "permanent"
	case Fatal:
		return "fatal"
	}
	return "retryable"
}

// Reasons the runtime puts first in a dead letter's reason.
const (
	// ReasonTooLarge: the output record is over the producer's or the
	// topic's maximum record size.
	ReasonTooLarge = "too_large"
	// ReasonExpired: a retryable failure outlived Policy.MaxAge.
	ReasonExpired = "retry_expired"
)

// ErrTooLarge is the error of an output record over the maximum record
// size; it is permanent and its dead letter's reason is ReasonTooLarge.
var ErrTooLarge = errors.New(ReasonTooLarge)

type classified struct {
	class      Class
	reason     string
	retryAfter time.Duration
	err        error
}

func (e *classified) Error() string {
	if e.reason != "" && e.err != nil {
		return e.reason + ": " + e.err.Error()
	}
	if e.err != nil {
		return e.err.Error()
	}
	return e.reason
}

func (e *classified) Unwrap() error { return e.err }

// NewPermanent marks err as permanent for its record, with a short
// machine-readable reason ("" for none) that leads the dead letter's reason.
func NewPermanent(reason string, err error) error {
	return &classified{class: Permanent, reason: reason, err: err}
}

// NewFatal marks err as fatal for the process. Use it for configuration
// and authentication only; say which key or host in err.
func NewFatal(err error) error { return &classified{class: Fatal, err: err} }

// NewRetryable marks err as retryable, to be tried again no sooner than
// after (0: the policy's backoff alone), as a Retry-After header asks.
func NewRetryable(err error, after time.Duration) error {
	return &classified{class: Retryable, retryAfter: after, err: err}
}

// ClassOf returns err's class. Errors marked with NewPermanent, NewFatal or
// NewRetryable keep their mark; Kafka errors are classified by code:
// authentication and authorization are fatal, a record or batch over the
// size limit and a corrupt or invalid record are permanent, everything
// else is retryable.
func ClassOf(err error) Class {
	var c *classified
	if errors.As(err, &c) {
		return c.class
	}
	if errors.Is(err, ErrTooLarge) {
		return Permanent
	}
	switch {
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge),
		errors.Is(err, kerr.InvalidRecord), errors.Is(err, kerr.CorruptMessage):
		return Permanent
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.TopicAuthorizationFailed),
		errors.Is(err, kerr.GroupAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed),
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed), errors.Is(err, kerr.UnsupportedSaslMechanism),
		errors.Is(err, kerr.IllegalSaslState):
		return Fatal
	}
	return Retryable
}

// ReasonOf returns the short reason of a permanent error: the one given to
// NewPermanent, ReasonTooLarge for size errors, "" otherwise.
func ReasonOf(err error) string {
	var c *classified
	if errors.As(err, &c) && c.reason != "" {
		return c.reason
	}
	if errors.Is(err, ErrTooLarge) || errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge) {
		return ReasonTooLarge
	}
	return ""
}

// RetryAfterOf returns the wait a retryable error asks for, 0 when none.
func RetryAfterOf(err error) time.Duration {
	var c *classified
	if errors.As(err, &c) {
		return c.retryAfter
	}
	return 0
}

// describe is the reason a dead letter carries for err.
func describe(err error) string {
	r := ReasonOf(err)
	msg := err.Error()
	if r == "" || len(msg) >= len(r) && msg[:len(r)] == r {
		return msg
	}
	return fmt.Sprintf("%s: %s", r, msg)
}

func sizeError(n, limit int) error {
	return fmt.Errorf("record of about %d bytes is over the %d-byte limit (max.message.bytes): %w", n, limit, ErrTooLarge)
}
