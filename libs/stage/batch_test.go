package stage

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

type hookKey struct{}

// TestOriginOf: an output's input survives a produce hook (kotel) deriving
// a context from the output's.
func TestOriginOf(t *testing.T) {
	in := &kgo.Record{Topic: "logs.raw", Offset: 9}
	var o Origin
	out := &kgo.Record{}
	if OriginOf(out) != nil {
		t.Fatal("origin of a record without one")
	}
	SetOrigin(&o, out, in)
	if OriginOf(out) != in {
		t.Fatal("origin lost")
	}
	out.Context = context.WithValue(out.Context, hookKey{}, "span")
	if OriginOf(out) != in {
		t.Fatal("origin lost behind a derived context")
	}
	if out.Context.Value(hookKey{}) != "span" || out.Context.Err() != nil || out.Context.Done() != nil {
		t.Fatal("the origin is not a well-behaved background context")
	}
}

func TestRecordSize(t *testing.T) {
	r := &kgo.Record{Key: make([]byte, 10), Value: make([]byte, 1000), Headers: []kgo.RecordHeader{{Key: "k", Value: make([]byte, 5)}}}
	// key + value + overhead + header key, value and its 10 bytes.
	if n := RecordSize(r); n != 10+1000+recordOverhead+1+5+10 {
		t.Fatalf("RecordSize = %d", n)
	}
}

func BenchmarkOriginOf(b *testing.B) {
	in := &kgo.Record{}
	origins := make([]Origin, 128)
	recs := make([]kgo.Record, 128)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		j := i % len(recs)
		SetOrigin(&origins[j], &recs[j], in)
		if OriginOf(&recs[j]) != in {
			b.Fatal("origin lost")
		}
	}
}
