package stage

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestClassOf(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name   string
		err    error
		class  Class
		reason string
	}{
		{"unclassified", base, Retryable, ""},
		{"retryable with Retry-After", NewRetryable(base, time.Second), Retryable, ""},
		{"permanent", NewPermanent("bad_record", base), Permanent, "bad_record"},
		{"permanent wrapped", fmt.Errorf("parsing: %w", NewPermanent("", base)), Permanent, ""},
		{"fatal", NewFatal(base), Fatal, ""},
		{"too large sentinel", fmt.Errorf("x: %w", ErrTooLarge), Permanent, ReasonTooLarge},
		{"broker MESSAGE_TOO_LARGE", fmt.Errorf("producing: %w", kerr.MessageTooLarge), Permanent, ReasonTooLarge},
		{"batch too large", kerr.RecordListTooLarge, Permanent, ReasonTooLarge},
		{"corrupt record", kerr.CorruptMessage, Permanent, ""},
		{"SASL failure", kerr.SaslAuthenticationFailed, Fatal, ""},
		{"topic ACL", kerr.TopicAuthorizationFailed, Fatal, ""},
		{"leader moved", kerr.NotLeaderForPartition, Retryable, ""},
		{"timeout", kerr.RequestTimedOut, Retryable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassOf(tt.err); got != tt.class {
				t.Errorf("ClassOf = %v, want %v", got, tt.class)
			}
			if got := ReasonOf(tt.err); got != tt.reason {
				t.Errorf("ReasonOf = %q, want %q", got, tt.reason)
			}
			if !errors.Is(tt.err, tt.err) {
				t.Error("not its own error")
			}
		})
	}
	if !errors.Is(NewPermanent("r", base), base) || !errors.Is(NewFatal(base), base) {
		t.Error("a classified error does not unwrap to its cause")
	}
	if d := RetryAfterOf(fmt.Errorf("w: %w", NewRetryable(base, 3*time.Second))); d != 3*time.Second {
		t.Errorf("RetryAfterOf = %v", d)
	}
	if got := describe(NewPermanent(ReasonTooLarge, base)); got != "too_large: boom" {
		t.Errorf("describe = %q", got)
	}
}

func TestPolicyBackoff(t *testing.T) {
	p := Policy{Min: 100 * time.Millisecond, Max: time.Second}
	for attempt := 1; attempt <= 12; attempt++ {
		d := min(p.Min<<(attempt-1), p.Max)
		for range 50 {
			got := p.Backoff(attempt, 0)
			if got < d/2 || got > d {
				t.Fatalf("attempt %d: backoff %v outside [%v, %v]", attempt, got, d/2, d)
			}
		}
	}
	if got := p.Backoff(1, 5*time.Second); got != 5*time.Second {
		t.Errorf("Retry-After 5s gave %v", got)
	}
	if (Policy{}).Expired(time.Now().Add(-time.Hour)) {
		t.Error("an item expired with MaxAge off")
	}
	if !(Policy{MaxAge: time.Minute}).Expired(time.Now().Add(-2 * time.Minute)) {
		t.Error("an item outlived MaxAge and did not expire")
	}
	if d := (Policy{}).Backoff(100, 0); d > DefaultPolicy().Max || d < DefaultPolicy().Max/2 {
		t.Errorf("default policy capped at %v", d)
	}
}
