// Package tail discovers container log files on a Kubernetes node and reads
// them as decoded events, surviving rotation, truncation, deletion and
// restarts without losing lines.
//
// # Files
//
// In the manner of OpenTelemetry's fileconsumer: finder.go discovers files
// (globs, rotated siblings, rotation and deletion), open.go opens a plain
// or gzip file by one path and registers it, fingerprint.go identifies it,
// file.go reads and decodes it, truncate.go handles truncation and
// copytruncate, ackwindow.go tracks what Kafka acknowledged, and tailer.go
// runs the loop and owns the checkpoint store.
//
// # Acknowledged checkpoints
//
// The files on disk are the shipper's buffer, so the checkpoint for a file
// moves only when Kafka has acknowledged the events before it (Ack). Each
// file has an ack window: an Ack marks only its own event done, in place
// (acks may arrive out of order, and a skipped line of an excluded pod is
// acked at once), and the checkpoint moves to the end of the longest
// acknowledged prefix, so it is never ahead of an event in flight or
// refused. It
// never moves past a partial line whose fragments are still being joined,
// even when a later line of the other stream was already acknowledged: each
// emitted event carries the offset the checkpoint may take once it is
// acknowledged (the smaller of its End and the start of the earliest
// pending fragment). A crash therefore replays at most the unacknowledged
// tail: duplicates in Kafka that the indexer's offset-derived document ids
// absorb, never loss.
//
// # File identity
//
// A file's fingerprint is the hash of its first line (including the
// newline), or of its first FingerprintBytes bytes when that line is
// longer. Container runtimes start every line with a nanosecond timestamp,
// so the first line is unique in practice, and it never changes while the
// file only grows: the identity is fixed from the moment the first line is
// complete, before which there is nothing to read anyway. Renaming (0.log →
// 0.log.<ts>) and gzip keep the fingerprint, so a rotated file found after
// a restart resumes from its checkpoint; a reused inode with new content
// gets a new fingerprint, so it is read from 0 instead of from the old
// file's offset (the inode-reuse loss Filebeat fixed, elastic/beats#40197).
// Device and inode are kept beside the fingerprint to recognise an
// already-open file cheaply.
//
// # Rotation and restarts
//
// Files are polled every PollInterval. When a watched path names a new
// inode, the old file is kept open and drained through its descriptor
// before the new file is read (per-file order is kept), and rotated
// siblings (<n>.log.<ts>, plain or .gz) that were never seen (several
// rotations between two polls or while the shipper was down) are read from
// 0. At start-up, siblings with a checkpoint below their end are resumed
// and unseen siblings newer than the newest known one are read from 0;
// siblings older than anything known predate this shipper and are skipped.
// Decompression is bounded by MaxDecompressedBytes (compression bombs).
//
// # Truncation, deletion, symlinks
//
// A file smaller than the offset read, or whose first line changed (checked
// at every poll and before every read), was truncated. If a copy of it sits
// beside it (copytruncate: <name>.<suffix>, same fingerprint, at least as
// long as what was read), reading goes on in the copy from the same offset,
// through the same buffer and partial-line state, so nothing is lost and a
// line cut by the truncation stays one event (Stats.RecoveredBytes).
// Without a copy, the bytes that were never read are lost: they are
// counted in Stats.SkippedBytes and per file, and reported through
// SetOnLoss; what was buffered is decoded (the cut line is one event
// flagged FlagFileTruncated). Either way the file is read again from 0, its
// first event flagged FlagFileTruncated, and its siblings are scanned until
// it is open again, so that a copy made before it had a complete first line
// is still read. A deleted file is read to
// its end through the open descriptor and closed DeletedGrace later. A
// path whose target (after resolving symlinks) is outside Roots is refused.
//
// # Fairness, memory, backpressure
//
// Each round reads at most ReadBufferBytes from every watched path, so one
// noisy container cannot starve the others; a Budget (SetBudget) may hold a
// path back while its share of what is in flight is used up. A file's buffer grows to hold
// one physical line of at most MaxEventBytes+64 KiB; longer lines are
// decoded from their head and last 4 KiB and the rest is skipped
// (FlagOverlong, Truncated). Partial-line joining holds at most
// MaxEventBytes per stream. emit runs on Run's goroutine: when it blocks,
// reading stops.
//
// Event.Content is only valid during the emit call; it aliases the
// tailer's buffers. Copy it to keep it.
package tail
