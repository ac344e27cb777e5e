package record

import (
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Dead-letter headers added to the ones above (HeaderStage, HeaderStatus,
// HeaderErrorType, HeaderReason, HeaderTopic, HeaderPartition,
// HeaderOffset). Every header a dead letter adds starts with
// DeadLetterHeaderPrefix, so a replay strips them all and keeps the
// record's own headers (the _id, the index, the trace context) intact.
const (
	// DeadLetterHeaderPrefix starts every header a dead letter adds.
	DeadLetterHeaderPrefix = "sluice-dlq-"
	// HeaderClass is the failure class: "permanent", or "retryable" for
	// an item that stayed retryable past the configured maximum age.
	HeaderClass = "sluice-dlq-class"
	// HeaderNamespace, HeaderPod and HeaderContainer name the container
	// the line came from (taken from the record key), so an operator can
	// find a tenant's letters without decoding the value.
	HeaderNamespace = "sluice-dlq-namespace"
	HeaderPod       = "sluice-dlq-pod"
	HeaderContainer = "sluice-dlq-container"
)

// Stages that write dead letters, as HeaderStage says.
const (
	StageParser  = "parser"
	StageIndexer = "indexer"
)

// MaxReasonBytes bounds the reason header of a dead letter: a reason is
// for a human, and a panic's stack or a search engine's caused_by chain
// can be long.
const MaxReasonBytes = 4 << 10

// DeadLetter says why a record could not be delivered and where it came
// from. It is what the dead-letter topic carries in headers beside the
// record's original value and headers.
type DeadLetter struct {
	// Stage is the service that gave up on the record (StageParser,
	// StageIndexer).
	Stage string
	// Class is the failure class ("permanent", "retryable").
	Class string
	// Reason is a human-readable reason; a short machine-readable one
	// (such as "too_large") comes first when there is one.
	Reason string
	// Status is the HTTP status the search engine answered, 0 when none.
	Status int
	// ErrorType is the search engine's error type, "" when none.
	ErrorType string
	// Topic, Partition and Offset locate the record the letter is of.
	Topic     string
	Partition int32
	Offset    int64
	// Namespace, Pod and Container name the line's container.
	Namespace, Pod, Container string
}

// NewDeadLetter returns the letter of in, with its location and its
// container (from the record key "<namespace>/<pod>/<container>").
func NewDeadLetter(stage, class, reason string, in *kgo.Record) DeadLetter {
	d := DeadLetter{Stage: stage, Class: class, Reason: reason, Topic: in.Topic, Partition: in.Partition, Offset: in.Offset}
	d.Namespace, d.Pod, d.Container = SplitKey(in.Key)
	return d
}

// SplitKey splits a record key made by Key into its parts; a key of
// another shape yields empty strings.
func SplitKey(key []byte) (namespace, pod, container string) {
	ns, rest, ok := strings.Cut(string(key), "/")
	if !ok {
		return "", "", ""
	}
	pod, container, ok = strings.Cut(rest, "/")
	if !ok {
		return "", "", ""
	}
	return ns, pod, container
}

// Record builds the dead-letter record of in for topic: in's key, value
// and headers (so the _id, the index and the trace context survive),
// without any dead-letter header in had (a replayed letter that fails
// again says why this time), then the letter's headers.
func (d DeadLetter) Record(topic string, in *kgo.Record) *kgo.Record {
	reason := d.Reason
	if len(reason) > MaxReasonBytes {
		reason = reason[:MaxReasonBytes]
	}
	h := make([]kgo.RecordHeader, 0, len(in.Headers)+11)
	h = append(h, OriginalHeaders(in.Headers)...)
	add := func(k, v string) {
		if v != "" {
			h = append(h, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
	}
	add(HeaderStage, d.Stage)
	add(HeaderClass, d.Class)
	add(HeaderReason, reason)
	if d.Status != 0 {
		add(HeaderStatus, strconv.Itoa(d.Status))
	}
	add(HeaderErrorType, d.ErrorType)
	add(HeaderTopic, d.Topic)
	add(HeaderPartition, strconv.Itoa(int(d.Partition)))
	add(HeaderOffset, strconv.FormatInt(d.Offset, 10))
	add(HeaderNamespace, d.Namespace)
	add(HeaderPod, d.Pod)
	add(HeaderContainer, d.Container)
	return &kgo.Record{Topic: topic, Key: in.Key, Value: in.Value, Headers: h, Timestamp: in.Timestamp}
}

// ParseDeadLetter reads the letter's headers back from a dead-letter
// record. Partition and Offset are -1 when the record does not say.
func ParseDeadLetter(r *kgo.Record) DeadLetter {
	d := DeadLetter{Partition: -1, Offset: -1}
	for _, h := range r.Headers {
		v := string(h.Value)
		switch h.Key {
		case HeaderStage:
			d.Stage = v
		case HeaderClass:
			d.Class = v
		case HeaderReason:
			d.Reason = v
		case HeaderStatus:
			d.Status, _ = strconv.Atoi(v)
		case HeaderErrorType:
			d.ErrorType = v
		case HeaderTopic:
			d.Topic = v
		case HeaderPartition:
			if n, err := strconv.ParseInt(v, 10, 32); err == nil {
				d.Partition = int32(n)
			}
		case HeaderOffset:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				d.Offset = n
			}
		case HeaderNamespace:
			d.Namespace = v
		case HeaderPod:
			d.Pod = v
		case HeaderContainer:
			d.Container = v
		}
	}
	return d
}

// OriginalHeaders returns hs without the dead-letter headers: the headers
// the record had before it was dead-lettered, which a replay restores.
func OriginalHeaders(hs []kgo.RecordHeader) []kgo.RecordHeader {
	out := make([]kgo.RecordHeader, 0, len(hs))
	for _, h := range hs {
		if !strings.HasPrefix(h.Key, DeadLetterHeaderPrefix) {
			out = append(out, h)
		}
	}
	return out
}
