package record

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

// IDLen is the length of an _id: 16 bytes of SHA-256, base64url without
// padding.
const IDLen = 22

// idStack is the room for the hashed fields kept on the stack. Kubernetes
// bounds node and pod names to 253 bytes and namespace and container names
// to 63, so every real line's fields fit and deriving an _id allocates
// nothing; longer input still works, through a heap buffer.
const idStack = 1024

// AppendDocID appends the _id of a container log line to dst. The _id is
// derived from where the line came from: the node, the container
// (namespace, pod and container name), the file's fingerprint and the byte
// offset of the line in that file. So the same line read twice (after a
// crash, a replay or a rebalance) gets the same _id and `create` answers
// 409, while two lines with equal text get different ones. The container is
// part of it so that two containers whose log files begin with the same
// first line (and so share a content fingerprint) never share an _id. 128
// bits make a collision among the lines of a cluster's lifetime negligible.
//
// The value is part of the stored data: changing the derivation would index
// every replayed line twice. AppendDocID does not allocate when dst has
// room for IDLen more bytes.
func AppendDocID(dst []byte, node, namespace, pod, container, fingerprint string, offset int64) []byte {
	var stack [idStack]byte
	b := appendField(stack[:0], node)
	// The container is one field, "namespace/pod/container", written in
	// place instead of concatenated.
	b = binary.BigEndian.AppendUint64(b, uint64(len(namespace)+len(pod)+len(container)+2))
	b = append(b, namespace...)
	b = append(b, '/')
	b = append(b, pod...)
	b = append(b, '/')
	b = append(b, container...)
	b = appendField(b, fingerprint)
	b = binary.BigEndian.AppendUint64(b, uint64(offset))
	return appendSum(dst, b)
}

// DocID is AppendDocID as a string, with the container given as
// "namespace/pod/container".
func DocID(node, container, fingerprint string, offset int64) string {
	var stack [idStack]byte
	b := appendField(stack[:0], node)
	b = appendField(b, container)
	b = appendField(b, fingerprint)
	b = binary.BigEndian.AppendUint64(b, uint64(offset))
	var buf [IDLen]byte
	return string(appendSum(buf[:0], b))
}

// AppendID appends the _id of a document that carries no sluice-id header,
// derived from a source name and a position in it: the indexer names such
// a document by ("kafka", "<topic>/<partition>", offset), which a replay of
// the same record reproduces.
func AppendID(dst []byte, source, position string, offset int64) []byte {
	var stack [idStack]byte
	b := appendField(stack[:0], source)
	b = appendField(b, position)
	b = binary.BigEndian.AppendUint64(b, uint64(offset))
	return appendSum(dst, b)
}

// ID is AppendID as a string.
func ID(source, position string, offset int64) string {
	var buf [IDLen]byte
	return string(AppendID(buf[:0], source, position, offset))
}

// appendField appends s with its length in front, which keeps ("ab", "c")
// and ("a", "bc") apart.
func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// appendSum appends the base64url form of the first 16 bytes of b's
// SHA-256 to dst.
func appendSum(dst, b []byte) []byte {
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.AppendEncode(dst, sum[:16])
}
