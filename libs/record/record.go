// Package record holds what the services agree on about Kafka records: the
// document _id derivation, the headers of the parsed topic, and the record
// key that keeps one container's lines in order.
//
// The parsed topic carries each document as its final JSON _source, with the
// _id and the target index in headers, so the indexer writes the bulk body
// without decoding or re-encoding a document. See proto/README.md.
package record

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

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

// IDLen is the length of an ID: 16 bytes of SHA-256, base64url without padding.
const IDLen = 22

// ID derives a document _id from where its line came from. The same line read
// twice (after a crash, a replay or a rebalance) gets the same _id, and two
// lines with equal text get different ones. 128 bits make a collision among
// the lines of a cluster's lifetime negligible.
func ID(node, fingerprint string, offset int64) string {
	var buf [IDLen]byte
	return string(AppendID(buf[:0], node, fingerprint, offset))
}

// AppendID appends ID(node, fingerprint, offset) to dst.
func AppendID(dst []byte, node, fingerprint string, offset int64) []byte {
	h := sha256.New()
	var n [8]byte
	// Length prefixes keep ("ab","c") and ("a","bc") apart.
	binary.BigEndian.PutUint64(n[:], uint64(len(node)))
	h.Write(n[:])
	h.Write([]byte(node))
	binary.BigEndian.PutUint64(n[:], uint64(len(fingerprint)))
	h.Write(n[:])
	h.Write([]byte(fingerprint))
	binary.BigEndian.PutUint64(n[:], uint64(offset))
	h.Write(n[:])
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return base64.RawURLEncoding.AppendEncode(dst, sum[:16])
}

// DocID derives the _id of a container log line from where it came from:
// the node, the container ("<namespace>/<pod>/<container>"), the file's
// fingerprint and the byte offset of the line in that file. The container is
// part of it so that two containers whose log files begin with the same
// first line (and so share a content fingerprint) never share an _id.
func DocID(node, container, fingerprint string, offset int64) string {
	h := sha256.New()
	var n [8]byte
	for _, s := range []string{node, container, fingerprint} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	binary.BigEndian.PutUint64(n[:], uint64(offset))
	h.Write(n[:])
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	var buf [IDLen]byte
	return string(base64.RawURLEncoding.AppendEncode(buf[:0], sum[:16]))
}

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
