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
//	@timestamp            runtime time (a parse rule may replace it with the log's own)
//	message               the line (invalid UTF-8 replaced when encoded)
//	stream                stdout or stderr
//	event.ingested        when the shipper read the line
//	event.created         the runtime's time, kept when @timestamp is replaced
//	log.file.path, log.offset, host.name
//	kubernetes.namespace, kubernetes.pod.name, kubernetes.pod.uid,
//	kubernetes.container.name, kubernetes.node.name, kubernetes.labels.*,
//	kubernetes.annotations.*, kubernetes.namespace_labels.*,
//	kubernetes.owner.kind, kubernetes.owner.name
//	container.id, container.image.name
//	tags                  the shipper's flags ("truncated", ...)
//
// Label and annotation keys have their dots replaced by underscores
// ("app.kubernetes.io/name" → "app_kubernetes_io/name"), as Filebeat does, so
// that they stay single fields instead of becoming object paths.
func Base(rec *logsv1.RawRecord, d *document.Doc) {
	rt := time.Unix(0, rec.GetTimeUnixNano()).UTC()
	d.Set("@timestamp", document.T(rt))
	d.Set("event.created", document.T(rt))
	if ing := rec.GetIngestTimeUnixNano(); ing != 0 {
		d.Set("event.ingested", document.T(time.Unix(0, ing)))
	}
	line := rec.GetLine()
	d.Set("message", document.S(string(line)))
	switch rec.GetStream() {
	case logsv1.Stream_STREAM_STDOUT:
		d.Set("stream", document.S("stdout"))
	case logsv1.Stream_STREAM_STDERR:
		d.Set("stream", document.S("stderr"))
	}
	if src := rec.GetSource(); src != nil {
		setNonEmpty(d, "log.file.path", src.GetPath())
		d.Set("log.offset", document.I(src.GetOffset()))
		setNonEmpty(d, "host.name", src.GetNode())
	}
	if k := rec.GetKubernetes(); k != nil {
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
	for _, f := range rec.GetFlags() {
		d.AddTag(f)
	}
	if !utf8.Valid(line) {
		d.AddTag("invalid_utf8")
	}
}

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
