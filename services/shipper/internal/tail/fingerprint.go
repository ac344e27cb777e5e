package tail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
)

// fingerprintOf returns the identity of a file whose first bytes are head
// (as many as exist, up to limit). The identity is the hash of the first
// line, including its "\n", or of the first limit bytes when the first line
// is longer. Those bytes never change while the file only grows, so a file
// keeps its fingerprint from the moment its first line is complete, across
// renames and gzip; a reused inode with new content gets a new one. ok is
// false while neither a newline nor limit bytes exist yet: such a file has
// no complete line to read anyway.
//
// The hash also covers group, the path the file was found by (for
// Kubernetes, the /var/log/containers name of one container, which its
// rotated files share). Two containers whose logs begin with the same line
// (two replicas printing one banner in the same nanosecond) so keep apart:
// a content-only identity would take the second file for the first and
// never read it.
func fingerprintOf(group string, head []byte, limit int) (fp string, ok bool) {
	if len(head) > limit {
		head = head[:limit]
	}
	if nl := bytes.IndexByte(head, '\n'); nl >= 0 {
		head = head[:nl+1]
	} else if len(head) < limit {
		return "", false
	}
	h := sha256.New()
	h.Write([]byte(group))
	h.Write([]byte{0})
	h.Write(head)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return hex.EncodeToString(sum[:16]), true
}

// readHead reads up to limit bytes from the start of r.
func readHead(r io.ReaderAt, limit int) ([]byte, error) {
	buf := make([]byte, limit)
	n, err := r.ReadAt(buf, 0)
	if err == io.EOF {
		err = nil
	}
	return buf[:n], err
}

// firstLine returns the part of head a fingerprint covers: the first line
// with its newline, or all of head when it holds no newline.
func firstLine(head []byte) []byte {
	if nl := bytes.IndexByte(head, '\n'); nl >= 0 {
		head = head[:nl+1]
	}
	return bytes.Clone(head)
}
