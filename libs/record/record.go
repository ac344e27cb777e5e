// Package record holds the wire contract the services agree on about Kafka
// records: the record key that keeps one container's lines in order, the
// document _id derivation (id.go), the index name pattern (index.go) and
// the headers of the parsed and dead-letter topics.
//
// Each of these has exactly one implementation, here. A replayed record must
// reach the same index with the same _id whichever service computes them,
// or `create` stops deduplicating and a replay indexes lines twice.
//
// The parsed topic carries each document as its final JSON _source, with the
// _id and the target index in headers, so the indexer writes the bulk body
// without decoding or re-encoding a document. See proto/README.md.
package record

// Header names on parsed and dead-letter records.
const (
	// HeaderID is the document _id.
	HeaderID = "sluice-id"
	// HeaderIndex is the target index (or data stream) name.
	HeaderIndex = "sluice-index"
	// HeaderStage names the service that dead-lettered a record.
	HeaderStage = "sluice-dlq-stage"
	// HeaderStatus is the search engine's HTTP status for a rejected document.
	HeaderStatus = "sluice-dlq-status"
	// HeaderErrorType is the search engine's error type (mapper_parsing_exception, ...).
	HeaderErrorType = "sluice-dlq-error-type"
	// HeaderReason is a human-readable reason for the dead letter.
	HeaderReason = "sluice-dlq-reason"
	// HeaderTopic, HeaderPartition and HeaderOffset locate the record a dead
	// letter came from.
	HeaderTopic     = "sluice-dlq-topic"
	HeaderPartition = "sluice-dlq-partition"
	HeaderOffset    = "sluice-dlq-offset"
)

// Key is the Kafka record key of a container's lines: every line of one
// container goes to one partition, so order per container stream holds
// through every topic.
func Key(namespace, pod, container string) []byte {
	k := make([]byte, 0, len(namespace)+len(pod)+len(container)+2)
	k = append(k, namespace...)
	k = append(k, '/')
	k = append(k, pod...)
	k = append(k, '/')
	k = append(k, container...)
	return k
}
