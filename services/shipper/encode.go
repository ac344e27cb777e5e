package shipper

import (
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
)

// Field numbers of sluice.logs.v1.RawRecord and Source (record.proto).
const (
	fLine         protowire.Number = 1
	fTime         protowire.Number = 2
	fStream       protowire.Number = 3
	fSource       protowire.Number = 4
	fKubernetes   protowire.Number = 5
	fFlags        protowire.Number = 6
	fParserHint   protowire.Number = 7
	fIngestTime   protowire.Number = 8
	fOriginalSize protowire.Number = 9

	fSrcNode        protowire.Number = 1
	fSrcPath        protowire.Number = 2
	fSrcFingerprint protowire.Number = 3
	fSrcOffset      protowire.Number = 4
	fSrcEndOffset   protowire.Number = 5
)

// fileWire is a file's part of every record, encoded once when its
// metadata is looked up rather than by proto.Marshal for each line: the
// Kubernetes message (field 5, with its labels and annotations the bulk of
// a record's metadata) and the parser hint (field 7). It is immutable once
// built, so the publish path and the multiline joiner share it freely.
type fileWire struct {
	kube []byte // tag, length and the message; nil without metadata
	hint []byte // tag, length and the hint; nil when empty
	// path is the file's path as valid UTF-8, checked once here rather
	// than for every line.
	path string
}

// newFileWire encodes k and hint. The Kubernetes message is encoded
// deterministically (map entries sorted), so one container's records carry
// identical metadata bytes, which batch compression and the parser's
// metadata cache both rely on to see them as repeats.
func newFileWire(path string, k *logsv1.Kubernetes, hint string) fileWire {
	w := fileWire{path: validUTF8(path)}
	if k != nil {
		k = validKubernetes(k)
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(k)
		if err == nil {
			w.kube = protowire.AppendTag(nil, fKubernetes, protowire.BytesType)
			w.kube = protowire.AppendBytes(w.kube, b)
		}
	}
	if hint != "" {
		w.hint = protowire.AppendTag(nil, fParserHint, protowire.BytesType)
		w.hint = protowire.AppendString(w.hint, validUTF8(hint))
	}
	return w
}

// wireRecord is one record to encode. node, path and fp must be valid
// UTF-8 (node is checked at start, path by newFileWire, a fingerprint is
// hex); flags are checked here.
type wireRecord struct {
	line           []byte
	time, ingest   int64
	stream         logsv1.Stream
	node, path, fp string
	offset, end    int64
	flags          []string
	originalSize   int64
	file           *fileWire
}

// appendRecord appends the RawRecord r describes to b: the bytes
// proto.MarshalOptions{Deterministic: true} produces for the same message
// (fields in number order, zero values left out). It replaces
// proto.Marshal on the per-line path, where re-encoding the same metadata
// for every line was the largest cost; strings that proto3 would refuse as
// invalid UTF-8 have their bad sequences replaced by U+FFFD instead, so a
// file name that is not UTF-8 still ships its lines.
func appendRecord(b []byte, r *wireRecord) []byte {
	if len(r.line) > 0 {
		b = protowire.AppendTag(b, fLine, protowire.BytesType)
		b = protowire.AppendBytes(b, r.line)
	}
	b = appendVarintField(b, fTime, uint64(r.time))
	b = appendVarintField(b, fStream, uint64(r.stream))
	b = protowire.AppendTag(b, fSource, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(sourceSize(r)))
	b = appendStringField(b, fSrcNode, r.node)
	b = appendStringField(b, fSrcPath, r.path)
	b = appendStringField(b, fSrcFingerprint, r.fp)
	b = appendVarintField(b, fSrcOffset, uint64(r.offset))
	b = appendVarintField(b, fSrcEndOffset, uint64(r.end))
	if r.file != nil {
		b = append(b, r.file.kube...)
	}
	for _, f := range r.flags {
		b = protowire.AppendTag(b, fFlags, protowire.BytesType)
		b = protowire.AppendString(b, validUTF8(f))
	}
	if r.file != nil {
		b = append(b, r.file.hint...)
	}
	b = appendVarintField(b, fIngestTime, uint64(r.ingest))
	return appendVarintField(b, fOriginalSize, uint64(r.originalSize))
}

// recordSize is the length appendRecord appends.
func recordSize(r *wireRecord) int {
	n := 0
	if len(r.line) > 0 {
		n += 1 + protowire.SizeBytes(len(r.line))
	}
	n += varintFieldSize(uint64(r.time)) + varintFieldSize(uint64(r.stream))
	s := sourceSize(r)
	n += 1 + protowire.SizeBytes(s)
	if r.file != nil {
		n += len(r.file.kube) + len(r.file.hint)
	}
	for _, f := range r.flags {
		n += 1 + protowire.SizeBytes(len(validUTF8(f)))
	}
	return n + varintFieldSize(uint64(r.ingest)) + varintFieldSize(uint64(r.originalSize))
}

func sourceSize(r *wireRecord) int {
	return stringFieldSize(r.node) + stringFieldSize(r.path) + stringFieldSize(r.fp) +
		varintFieldSize(uint64(r.offset)) + varintFieldSize(uint64(r.end))
}

// Every field number used here is below 16, so each tag is one byte.
func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func varintFieldSize(v uint64) int {
	if v == 0 {
		return 0
	}
	return 1 + protowire.SizeVarint(v)
}

// appendStringField appends a string already known to be valid UTF-8.
func appendStringField(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func stringFieldSize(s string) int {
	if s == "" {
		return 0
	}
	return 1 + protowire.SizeBytes(len(s))
}

// validUTF8 returns s, or a copy with each invalid sequence replaced by
// U+FFFD. The check costs a scan of s; valid strings (all of them in
// practice) are returned without a copy.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// validKubernetes returns k, or a copy whose strings are valid UTF-8 when
// some are not (label values come from the API server, which validates
// them, but file-name metadata comes from the disk).
func validKubernetes(k *logsv1.Kubernetes) *logsv1.Kubernetes {
	ok := true
	for _, s := range []string{k.Namespace, k.Pod, k.PodUid, k.Container, k.ContainerId, k.Image, k.Node, k.OwnerKind, k.OwnerName} {
		ok = ok && utf8.ValidString(s)
	}
	for _, m := range []map[string]string{k.Labels, k.Annotations, k.NamespaceLabels} {
		for key, v := range m {
			ok = ok && utf8.ValidString(key) && utf8.ValidString(v)
		}
	}
	if ok {
		return k
	}
	c := proto.Clone(k).(*logsv1.Kubernetes)
	for _, s := range []*string{&c.Namespace, &c.Pod, &c.PodUid, &c.Container, &c.ContainerId, &c.Image, &c.Node, &c.OwnerKind, &c.OwnerName} {
		*s = validUTF8(*s)
	}
	for _, m := range []*map[string]string{&c.Labels, &c.Annotations, &c.NamespaceLabels} {
		if *m == nil {
			continue
		}
		fixed := make(map[string]string, len(*m))
		for key, v := range *m {
			fixed[validUTF8(key)] = validUTF8(v)
		}
		*m = fixed
	}
	return c
}
