package rules

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-io/sluice/libs/record"
	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/config"
	"github.com/sluice-io/sluice/services/parser/internal/document"
)

func decodeSeeds() [][]byte {
	full := raw(`67.43.156.13 - - [25/Oct/2016:14:49:34 +0200] "GET /favicon.ico HTTP/1.1" 404 571 "-" "curl/8"`)
	full.Flags = []string{"truncated", "invalid_utf8"}
	full.ParserHint = "nginx"
	full.IngestTimeUnixNano = 12345
	full.Source.EndOffset = 99
	full.Kubernetes.Annotations = map[string]string{"a.b": "c"}
	full.Kubernetes.NamespaceLabels = map[string]string{"team": "x"}
	var seeds [][]byte
	for _, m := range []*logsv1.RawRecord{full, raw("x"), {}, {Line: []byte{}}, {Source: &logsv1.Source{}}, {Kubernetes: &logsv1.Kubernetes{}}, {Stream: -3}} {
		b, err := proto.Marshal(m)
		if err != nil {
			panic(err)
		}
		seeds = append(seeds, b)
	}
	b, _ := proto.Marshal(full)
	// A message field twice (merged), an unknown field, a bad string.
	twice := protowire.AppendBytes(protowire.AppendTag(append([]byte(nil), b...), 5, protowire.BytesType), []byte{0x12, 1, 'p'})
	unknown := protowire.AppendVarint(protowire.AppendTag(append([]byte(nil), b...), 99, protowire.VarintType), 7)
	badStr := protowire.AppendBytes(protowire.AppendTag(nil, 7, protowire.BytesType), []byte{0xff})
	wrongType := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1)
	return append(seeds, twice, unknown, badStr, wrongType, b[:len(b)-3], []byte{0xff, 0xff})
}

// FuzzDecode checks that Decoder.Decode gives what proto.Unmarshal gives,
// error included, and that the document built with its Meta is the one
// Apply builds from the proto.Unmarshal record.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds() {
		f.Add(s)
	}
	e, err := Compile(Options{Index: "logs-%{+yyyy.MM.dd}", Rules: []config.Rule{{Name: "nginx", Builtin: "nginx"}}})
	if err != nil {
		f.Fatal(err)
	}
	var dc Decoder
	f.Fuzz(func(t *testing.T, b []byte) {
		want := new(logsv1.RawRecord)
		werr := proto.Unmarshal(b, want)
		// Twice: the second decode of the same bytes hits the caches.
		for pass := 0; pass < 2; pass++ {
			var got logsv1.RawRecord
			m, gerr := dc.Decode(b, &got)
			if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
				t.Fatalf("Decode error %v, proto.Unmarshal error %v", gerr, werr)
			}
			if werr != nil {
				return
			}
			if !proto.Equal(&got, want) {
				t.Fatalf("Decode = %v\nproto.Unmarshal = %v", &got, want)
			}
			if (m == nil) != (want.Kubernetes == nil) || m != nil && m.Kubernetes() != got.Kubernetes {
				t.Fatalf("Meta %v for Kubernetes %v", m, got.Kubernetes)
			}
			if dedotCollision(want.GetKubernetes()) {
				return
			}
			var d1, d2 document.Doc
			r := e.Select(want)
			i1, err1 := e.Apply(r, want, &d1)
			i2, err2 := e.ApplyMeta(e.Select(&got), &got, m, &d2)
			j1, j2 := string(d1.AppendJSON(nil)), string(d2.AppendJSON(nil))
			if i1 != i2 || fmt.Sprint(err1) != fmt.Sprint(err2) || j1 != j2 {
				t.Fatalf("document %s %v %s\nwant %s %v %s", i2, err2, j2, i1, err1, j1)
			}
		}
	})
}

// dedotCollision reports whether two keys of one map become the same field,
// which makes the document depend on map iteration order.
func dedotCollision(k *logsv1.Kubernetes) bool {
	for _, m := range []map[string]string{k.GetLabels(), k.GetAnnotations(), k.GetNamespaceLabels()} {
		seen := map[string]bool{}
		for key := range m {
			p := document.Doc{}
			p.Set("x."+dedot(key), document.S(""))
			var path string
			p.Each(func(s string, _ document.Value) { path = s })
			if seen[path] {
				return true
			}
			seen[path] = true
		}
	}
	return false
}

func TestDecoderCacheBounded(t *testing.T) {
	var dc Decoder
	for i := 0; i < 5*cacheGeneration; i++ {
		b, _ := proto.Marshal(&logsv1.RawRecord{Kubernetes: &logsv1.Kubernetes{Pod: fmt.Sprint("p", i)}, Source: &logsv1.Source{Path: fmt.Sprint("/", i)}})
		var rec logsv1.RawRecord
		m, err := dc.Decode(b, &rec)
		if err != nil || m == nil || rec.Kubernetes.Pod != fmt.Sprint("p", i) {
			t.Fatalf("%d: %v %v %v", i, m, err, &rec)
		}
	}
	if n := len(dc.metas.cur) + len(dc.metas.old); n > 2*cacheGeneration {
		t.Fatalf("%d metas cached", n)
	}
	if n := len(dc.strs.cur) + len(dc.strs.old); n > 2*cacheGeneration {
		t.Fatalf("%d strings cached", n)
	}
	if dc.misses != 0 {
		t.Fatalf("%d records decoded by proto.Unmarshal", dc.misses)
	}
}

func FuzzIndexCache(f *testing.F) {
	f.Add("logs-%{+yyyy.MM.dd}", int64(1700000000), int64(0))
	f.Add("logs-%{+yyyy.MM.dd.HH}", int64(-1), int64(999))
	f.Add("logs-%{+yyyy-MM}-x-%{+dd}", int64(-7200), int64(5))
	f.Add("logs-%{+xxxx.ww}", int64(1609459199), int64(1))
	f.Fuzz(func(t *testing.T, tmpl string, sec, nsec int64) {
		idx, err := record.ParseIndexPattern(tmpl)
		if err != nil {
			return
		}
		e := &Engine{index: idx}
		for _, d := range []time.Duration{0, time.Second, time.Millisecond, time.Hour, -time.Second, 59 * time.Minute} {
			ts := time.Unix(sec, nsec%1e9).Add(d).UTC()
			for i := 0; i < 2; i++ {
				if got, want := e.renderIndex(ts), idx.Name(ts); got != want {
					t.Fatalf("renderIndex(%v) = %q, want %q (template %q)", ts, got, want, tmpl)
				}
			}
		}
	})
}
