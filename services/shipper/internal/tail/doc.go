// Package tail discovers container log files on a Kubernetes node and reads
// them as decoded events, surviving rotation, truncation, deletion and
// restarts without losing lines.
//
// # Acknowledged checkpoints
//
// The files on disk are the shipper's buffer, so the checkpoint for a file
// moves only when Kafka has acknowledged the events before it (Ack). It
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
// A file smaller than the offset read, or whose first line changed, was
// truncated (copytruncate): pending fragments are flushed, the bytes that
// were never read are counted in Stats.SkippedBytes, and reading restarts
// at 0 with FlagFileTruncated on the next event. A deleted file is read to
// its end through the open descriptor and closed DeletedGrace later. A
// path whose target (after resolving symlinks) is outside Roots is refused.
//
// # Fairness, memory, backpressure
//
// Each round reads at most ReadBufferBytes from every watched path, so one
// noisy container cannot starve the others. A file's buffer grows to hold
// one physical line of at most MaxEventBytes+64 KiB; longer lines are
// decoded from their head and last 4 KiB and the rest is skipped
// (FlagOverlong, Truncated). Partial-line joining holds at most
// MaxEventBytes per stream. emit runs on Run's goroutine: when it blocks,
// reading stops.
//
// Event.Content is only valid during the emit call; it aliases the
// tailer's buffers. Copy it to keep it.
package tail
