package record

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestDeadLetterRoundTrip(t *testing.T) {
	in := &kgo.Record{Topic: "logs.parsed", Partition: 3, Offset: 42, Key: Key("shop", "web-1", "nginx"), Value: []byte(`{"a":1}`),
		Headers: []kgo.RecordHeader{
			{Key: "traceparent", Value: []byte("00-abc-def-01")},
			{Key: HeaderID, Value: []byte("id-1")},
			// A letter replayed and refused again says why this time.
			{Key: HeaderReason, Value: []byte("the first time")},
		}}
	d := NewDeadLetter(StageIndexer, "permanent", strings.Repeat("r", MaxReasonBytes+10), in)
	d.Status, d.ErrorType = 400, "document_parsing_exception"
	r := d.Record("logs.dlq", in)
	if r.Topic != "logs.dlq" || string(r.Value) != string(in.Value) || string(r.Key) != string(in.Key) {
		t.Fatalf("letter %+v does not carry the original record", r)
	}
	got := ParseDeadLetter(r)
	want := d
	want.Reason = d.Reason[:MaxReasonBytes]
	if got != want {
		t.Fatalf("parsed %+v, want %+v", got, want)
	}
	if got.Namespace != "shop" || got.Pod != "web-1" || got.Container != "nginx" {
		t.Fatalf("container %q/%q/%q", got.Namespace, got.Pod, got.Container)
	}
	orig := OriginalHeaders(r.Headers)
	if len(orig) != 2 || orig[0].Key != "traceparent" || orig[1].Key != HeaderID {
		t.Fatalf("original headers %v, want trace context and _id", orig)
	}
}

func TestSplitKey(t *testing.T) {
	tests := []struct {
		key          string
		ns, pod, ctr string
	}{
		{"shop/web-1/nginx", "shop", "web-1", "nginx"},
		{"shop/web-1", "", "", ""},
		{"", "", "", ""},
		{"a/b/c/d", "a", "b", "c/d"},
	}
	for _, tt := range tests {
		ns, pod, ctr := SplitKey([]byte(tt.key))
		if ns != tt.ns || pod != tt.pod || ctr != tt.ctr {
			t.Errorf("SplitKey(%q) = %q %q %q", tt.key, ns, pod, ctr)
		}
	}
}
