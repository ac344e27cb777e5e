// Package indexname decides which index (or data stream) each document is
// written to.
//
// The parser already renders a name into the sluice-index header; the
// indexer's configuration may keep it (mode header) or override it with a
// fixed name, a date pattern on the document's @timestamp, a name driven by
// a document field restricted to an allowlist, or a data stream
// logs-<dataset>-<namespace>.
//
// A name must come out the same every time the same record is read again:
// the exactly-once effect rests on a replay hitting the same (index, _id)
// and being answered 409. So nothing here looks at the clock; a document
// without a usable @timestamp is dated by its Kafka record timestamp, which
// is stored with the record and does not change on a replay.
//
// Documents are scanned, not decoded: only the fields a mode needs are
// looked up, and header mode looks at none.
//
// In datastream mode Route also makes the document say which stream it is
// in (data_stream.type, .dataset, .namespace and event.dataset), splicing
// the missing or differing values into the parser's JSON rather than
// re-encoding it: Elasticsearch maps those fields as constant_keyword in a
// stream's backing indices and refuses a document that disagrees, and
// Kibana filters streams by them.
package indexname
