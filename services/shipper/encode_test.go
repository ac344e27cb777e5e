package shipper

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
)

// encodeCase is one record for the differential tests: the fields a tail
// event and a file's metadata contribute, before any UTF-8 repair.
type encodeCase struct {
	line                      []byte
	time, ingest              int64
	stream                    logsv1.Stream
	node, path, fp            string
	offset, end, originalSize int64
	flags                     []string
	k                         *logsv1.Kubernetes
	hint                      string
}

// encode runs the per-line encoder as build does: node repaired once at
// start, the file's part by newFileWire.
func (c encodeCase) encode() (value []byte, size int, ref *logsv1.RawRecord) {
	fi := &fileInfo{k: c.k, hint: c.hint, wire: newFileWire(c.path, c.k, c.hint)}
	w := wireRecord{
		line: c.line, time: c.time, stream: c.stream, ingest: c.ingest,
		node: validUTF8(c.node), path: fi.wire.path, fp: c.fp, offset: c.offset, end: c.end,
		flags: c.flags, originalSize: c.originalSize, file: &fi.wire,
	}
	size = recordSize(&w)
	return appendRecord(nil, &w), size, (&Shipper{}).message(&w, fi)
}

// message is the RawRecord proto.Marshal encoded for c before the
// hand-written encoder (build at the previous release).
func (c encodeCase) message() *logsv1.RawRecord {
	return &logsv1.RawRecord{
		Line: c.line, TimeUnixNano: c.time, Stream: c.stream, Kubernetes: c.k,
		ParserHint: c.hint, IngestTimeUnixNano: c.ingest,
		Source:       &logsv1.Source{Node: c.node, Path: c.path, Fingerprint: c.fp, Offset: c.offset, EndOffset: c.end},
		Flags:        c.flags,
		OriginalSize: c.originalSize,
	}
}

// checkEncoding is the differential check of appendRecord against
// proto.Marshal: the size is exact, the bytes are those deterministic
// proto.Marshal gives for the reference message, they decode to it, and
// valid input is encoded exactly as proto.Marshal encoded it before.
// Invalid UTF-8 in a string field (which proto.Marshal refuses) comes out
// with each bad sequence replaced by U+FFFD.
func checkEncoding(t *testing.T, c encodeCase) {
	t.Helper()
	got, size, ref := c.encode()
	if len(got) != size {
		t.Errorf("recordSize = %d, appendRecord wrote %d bytes", size, len(got))
	}
	want, err := proto.MarshalOptions{Deterministic: true}.Marshal(ref)
	if err != nil {
		t.Fatalf("reference message does not encode: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("appendRecord differs from proto.Marshal:\n got %x\nwant %x", got, want)
	}
	var back logsv1.RawRecord
	if err := proto.Unmarshal(got, &back); err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	if !proto.Equal(&back, ref) {
		t.Fatalf("decoded %v, want %v", &back, ref)
	}
	orig := c.message()
	if before, err := (proto.MarshalOptions{Deterministic: true}).Marshal(orig); err == nil {
		if !bytes.Equal(got, before) {
			t.Fatalf("valid record encoded differently from proto.Marshal:\n got %x\nwant %x", got, before)
		}
		return
	}
	// Invalid UTF-8: every string is the original with bad sequences
	// replaced, nothing dropped.
	fix := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	src := back.GetSource()
	if src.GetNode() != fix(c.node) || src.GetPath() != fix(c.path) || back.GetParserHint() != fix(c.hint) {
		t.Errorf("source/hint not repaired: %v", &back)
	}
	if len(back.Flags) != len(c.flags) {
		t.Errorf("flags %q, want %d", back.Flags, len(c.flags))
	}
	if (c.k == nil) != (back.Kubernetes == nil) {
		t.Errorf("kubernetes metadata lost: %v", &back)
	}
	for k, v := range c.k.GetLabels() {
		if back.Kubernetes.GetLabels()[fix(k)] != fix(v) {
			t.Errorf("label %q=%q not carried over repaired: %v", k, v, back.Kubernetes.GetLabels())
		}
	}
}

func TestAppendRecordMatchesProto(t *testing.T) {
	kube := &logsv1.Kubernetes{
		Namespace: "shop", Pod: "web-7d9f", PodUid: "0f1e", Container: "nginx", ContainerId: "containerd://abc",
		Image: "nginx:1.27", Node: "node-1", OwnerKind: "ReplicaSet", OwnerName: "web",
		Labels:          map[string]string{"app": "web", "tier": "front", "pod-template-hash": "7d9f"},
		Annotations:     map[string]string{"sluice.io/parser": "nginx"},
		NamespaceLabels: map[string]string{"team": "shop"},
	}
	base := encodeCase{
		line: []byte(nginxLine), time: 1764000000123456789, ingest: 1764000000223456789, stream: logsv1.Stream_STREAM_STDOUT,
		node: "node-1", path: "/var/log/containers/web-7d9f_shop_nginx-abc.log", fp: "9f86d081884c7d65",
		offset: 4096, end: 4300, k: kube, hint: "nginx",
	}
	tests := []struct {
		name string
		edit func(c *encodeCase)
	}{
		{"nginx line with metadata", func(*encodeCase) {}},
		{"no metadata, no hint", func(c *encodeCase) { c.k, c.hint = nil, "" }},
		{"empty metadata", func(c *encodeCase) { c.k = &logsv1.Kubernetes{} }},
		{"empty line", func(c *encodeCase) { c.line = nil }},
		{"zero values", func(c *encodeCase) { *c = encodeCase{} }},
		{"negative numbers", func(c *encodeCase) { c.time, c.ingest, c.offset, c.end = -1, -1<<62, -7, -1 }},
		{"stderr", func(c *encodeCase) { c.stream = logsv1.Stream_STREAM_STDERR }},
		{"truncated", func(c *encodeCase) { c.flags, c.originalSize = []string{"partial_unterminated", flagTruncated}, 1<<21 }},
		{"long line (two-byte length)", func(c *encodeCase) { c.line = bytes.Repeat([]byte("x"), 70000) }},
		{"line not UTF-8 (bytes field)", func(c *encodeCase) { c.line = []byte("a\xffb\xc3") }},
		{"path not UTF-8", func(c *encodeCase) { c.path = "/var/log/containers/\xff\xfe.log" }},
		{"node not UTF-8", func(c *encodeCase) { c.node = "n\xc3" }},
		{"hint not UTF-8", func(c *encodeCase) { c.hint = "ng\x80inx" }},
		{"flag not UTF-8", func(c *encodeCase) { c.flags = []string{"bad\xff"} }},
		{"label not UTF-8", func(c *encodeCase) {
			k := proto.Clone(kube).(*logsv1.Kubernetes)
			k.Labels["k\xff"] = "v\xfe"
			k.Pod = "p\xed\xa0\x80" // a UTF-16 surrogate, invalid in UTF-8
			c.k = k
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.edit(&c)
			checkEncoding(t, c)
		})
	}
}

// FuzzAppendRecord runs the differential check on arbitrary field values,
// invalid UTF-8 included.
func FuzzAppendRecord(f *testing.F) {
	f.Add([]byte(nginxLine), int64(1764000000123456789), int64(1764000000223456789), uint8(1), "node-1",
		"/var/log/containers/web_shop_nginx-abc.log", "9f86d081", int64(4096), int64(4300), int64(0), "", "nginx",
		"shop", "app", "web", true)
	f.Add([]byte{}, int64(-1), int64(0), uint8(2), "n\xff", "/\xfe", "", int64(-5), int64(0), int64(1<<40), "truncated", "h\x80",
		"ns\xc3", "k\xff", "v", false)
	f.Fuzz(func(t *testing.T, line []byte, tm, ingest int64, stream uint8, node, path, fp string,
		offset, end, orig int64, flag, hint, ns, lk, lv string, withKube bool) {
		if !utf8.ValidString(fp) {
			// Fingerprints are hex, made by the tailer (wireRecord's contract).
			fp = strings.ToValidUTF8(fp, "")
		}
		c := encodeCase{line: line, time: tm, ingest: ingest, stream: logsv1.Stream(stream % 3), node: node, path: path,
			fp: fp, offset: offset, end: end, originalSize: orig, hint: hint}
		if flag != "" {
			c.flags = []string{flag}
		}
		if withKube {
			c.k = &logsv1.Kubernetes{Namespace: ns, Pod: ns + "-pod", Labels: map[string]string{lk: lv, "app": lv}}
		}
		checkEncoding(t, c)
	})
}

// BenchmarkEncode compares the per-line encoder with proto.Marshal of the
// same record.
func BenchmarkEncode(b *testing.B) {
	c := encodeCase{
		line: []byte(nginxLine), time: 1764000000123456789, ingest: 1764000000223456789, stream: logsv1.Stream_STREAM_STDOUT,
		node: "node-1", path: "/var/log/containers/web-7d9f_shop_nginx-abc.log", fp: "9f86d081884c7d65",
		offset: 4096, end: 4300, hint: "nginx",
		k: &logsv1.Kubernetes{Namespace: "shop", Pod: "web-7d9f", Container: "nginx", Image: "nginx:1.27",
			Labels: map[string]string{"app": "web", "tier": "front"}},
	}
	b.Run("appendRecord", func(b *testing.B) {
		fi := &fileInfo{k: c.k, hint: c.hint, wire: newFileWire(c.path, c.k, c.hint)}
		b.ReportAllocs()
		for b.Loop() {
			w := wireRecord{line: c.line, time: c.time, ingest: c.ingest, stream: c.stream, node: c.node,
				path: fi.wire.path, fp: c.fp, offset: c.offset, end: c.end, file: &fi.wire}
			_ = appendRecord(make([]byte, 0, recordSize(&w)), &w)
		}
	})
	b.Run("proto.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = proto.Marshal(c.message())
		}
	})
}
