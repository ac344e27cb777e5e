package rules

import (
	"strings"
	"time"
	"unicode/utf8"

	logsv1 "github.com/sluice-io/sluice/proto/sluice/logs/v1"
	"github.com/sluice-io/sluice/services/parser/internal/document"
)

// Base fills d with the fields every document has, whatever its rule:
//
//	@timestamp            origin time (a parse rule may replace it with the log's own)
//	message               the line (invalid UTF-8 replaced when encoded)
//	stream                stdout or stderr
//	event.ingested        when the shipper read the line
//	event.created         the origin time, kept when @timestamp is replaced
//	log.file.path, log.offset, host.name
//	kubernetes.namespace, kubernetes.pod.name, kubernetes.pod.uid,
//	kubernetes.container.name, kubernetes.node.name, kubernetes.labels.*,
//	kubernetes.annotations.*, kubernetes.namespace_labels.*,
//	kubernetes.owner.kind, kubernetes.owner.name
//	container.id, container.image.name
//	tags                  the shipper's flags ("truncated", ...)
//
// The origin time is the container runtime's time of the line. A line the
// shipper could not decode (not CRI, a bad time, an unknown stream) may have
// none; it is then dated by when the shipper read it and tagged
// TagTimestampFromIngest, and a malformed line that kept the runtime's time
// is tagged TagTimestampFromRuntime. Never time 0: a 1970-01-01 document
// lands outside every time filter and retention policy.
//
// Label and annotation keys have their dots replaced by underscores
// ("app.kubernetes.io/name" → "app_kubernetes_io/name"), as Filebeat does, so
// that they stay single fields instead of becoming object paths.
func Base(rec *logsv1.RawRecord, d *document.Doc) { base(rec, d, nil) }

// The paths of base's own fields, prepared once.
var (
	pathTimestamp     = document.P("@timestamp")
	pathEventCreated  = document.P("event.created")
	pathEventIngested = document.P("event.ingested")
	pathMessage       = document.P("message")
	pathStream        = document.P("stream")
	pathLogFilePath   = document.P("log.file.path")
	pathLogOffset     = document.P("log.offset")
	pathHostName      = document.P("host.name")
)

// base is Base, with the Kubernetes fields taken from m when m was built
// from rec's Kubernetes message.
func base(rec *logsv1.RawRecord, d *document.Doc, m *Meta) {
	ot, tag := originTime(rec)
	if !ot.IsZero() {
		d.SetPath(pathTimestamp, document.T(ot))
		d.SetPath(pathEventCreated, document.T(ot))
	}
	if ing := rec.GetIngestTimeUnixNano(); ing != 0 {
		d.SetPath(pathEventIngested, document.T(time.Unix(0, ing)))
	}
	line := rec.GetLine()
	d.SetPath(pathMessage, document.S(string(line)))
	switch rec.GetStream() {
	case logsv1.Stream_STREAM_STDOUT:
		d.SetPath(pathStream, document.S("stdout"))
	case logsv1.Stream_STREAM_STDERR:
		d.SetPath(pathStream, document.S("stderr"))
	}
	if src := rec.GetSource(); src != nil {
		if v := src.GetPath(); v != "" {
			d.SetPath(pathLogFilePath, document.S(v))
		}
		d.SetPath(pathLogOffset, document.I(src.GetOffset()))
		if v := src.GetNode(); v != "" {
			d.SetPath(pathHostName, document.S(v))
		}
	}
	if k := rec.GetKubernetes(); k != nil {
		if m != nil && m.kube == k {
			// Its kubernetes.* and container.* paths are not among the
			// fields set above.
			d.MergeNew(&m.doc)
		} else {
			kubeFields(k, d)
		}
	}
	for _, f := range rec.GetFlags() {
		d.AddTag(f)
		if f == malformedFlag && tag == "" {
			tag = TagTimestampFromRuntime
		}
	}
	if tag != "" {
		d.AddTag(tag)
	}
	if !utf8.Valid(line) {
		d.AddTag("invalid_utf8")
	}
}

// Tags saying where the @timestamp of a document came from when that is
// not plain: the line was malformed, or had no runtime time.
const (
	// TagTimestampFromRuntime marks a malformed line dated by the
	// runtime's time, which could still be read.
	TagTimestampFromRuntime = "_timestamp_from_runtime"
	// TagTimestampFromIngest marks a line without a runtime time, dated
	// by when the shipper read it.
	TagTimestampFromIngest = "_timestamp_from_ingest"
	// TagTimestampMissing marks a record with neither time (not written
	// by the shipper): it has no @timestamp, and its index is dated by the
	// processing clock, so a replay of it may land in another index.
	TagTimestampMissing = "_timestamp_missing"
)

// malformedFlag is the shipper's flag on a line it could not decode.
const malformedFlag = "malformed"

// originTime returns the time a record is dated by, and the tag saying
// where it came from ("" for the runtime's time). It is a function of the
// record alone, so a replayed record gets the same time and so the same
// index.
func originTime(rec *logsv1.RawRecord) (time.Time, string) {
	if ns := rec.GetTimeUnixNano(); ns != 0 {
		return time.Unix(0, ns).UTC(), ""
	}
	if ns := rec.GetIngestTimeUnixNano(); ns != 0 {
		return time.Unix(0, ns).UTC(), TagTimestampFromIngest
	}
	return time.Time{}, TagTimestampMissing
}

// kubeFields sets the fields of Kubernetes metadata.
func kubeFields(k *logsv1.Kubernetes, d *document.Doc) {
	setNonEmpty(d, "kubernetes.namespace", k.GetNamespace())
	setNonEmpty(d, "kubernetes.pod.name", k.GetPod())
	setNonEmpty(d, "kubernetes.pod.uid", k.GetPodUid())
	setNonEmpty(d, "kubernetes.container.name", k.GetContainer())
	setNonEmpty(d, "kubernetes.node.name", k.GetNode())
	setNonEmpty(d, "container.id", k.GetContainerId())
	setNonEmpty(d, "container.image.name", k.GetImage())
	setNonEmpty(d, "kubernetes.owner.kind", k.GetOwnerKind())
	setNonEmpty(d, "kubernetes.owner.name", k.GetOwnerName())
	for lk, lv := range k.GetLabels() {
		d.Set("kubernetes.labels."+dedot(lk), document.S(lv))
	}
	for ak, av := range k.GetAnnotations() {
		d.Set("kubernetes.annotations."+dedot(ak), document.S(av))
	}
	for lk, lv := range k.GetNamespaceLabels() {
		d.Set("kubernetes.namespace_labels."+dedot(lk), document.S(lv))
	}
}

// Meta is what a container's Kubernetes metadata contributes to each of its
// documents, built once: the kubernetes.* and container.* fields of Base
// and the container name of the document _id. Every line of a container
// carries the same metadata, so a cache of Metas (Decoder keeps one) saves
// building the same fields, label paths included, for every line.
//
// A Meta and its Kubernetes message are read-only once built and may be
// shared by goroutines.
type Meta struct {
	kube      *logsv1.Kubernetes
	doc       document.Doc
	container string
}

// NewMeta builds the Meta of k, which must not be modified afterwards.
func NewMeta(k *logsv1.Kubernetes) *Meta {
	m := &Meta{kube: k, container: k.GetNamespace() + "/" + k.GetPod() + "/" + k.GetContainer()}
	if k != nil {
		kubeFields(k, &m.doc)
	}
	return m
}

// Kubernetes returns the message m was built from.
func (m *Meta) Kubernetes() *logsv1.Kubernetes { return m.kube }

// Container returns "namespace/pod/container", the container part of the
// document _id (record.AppendDocID).
func (m *Meta) Container() string { return m.container }

func setNonEmpty(d *document.Doc, path, v string) {
	if v != "" {
		d.Set(path, document.S(v))
	}
}

func dedot(k string) string {
	if strings.IndexByte(k, '.') < 0 {
		return k
	}
	return strings.ReplaceAll(k, ".", "_")
}
