// Package checkpoint keeps the shipper's durable per-file read offsets.
//
// # Only acknowledged offsets
//
// The log files on disk are the shipper's buffer. An offset stored here
// means "every byte before it reached Kafka", so the tailer records an
// offset only after Kafka acknowledged the event ending there (Fluent Bit
// saved offsets before delivery, fluent/fluent-bit#4225, and lost lines on a
// crash). A crash then replays the unacknowledged tail: duplicates in
// Kafka, which the indexer's offset-derived document ids absorb, never loss.
//
// # Identity
//
// Entries are keyed by the file's content fingerprint (see package tail),
// not by path or inode: a rotated file keeps its fingerprint when renamed or
// gzipped, and a reused inode gets a new one (elastic/beats#40197).
//
// # File format and crash safety
//
// The state file is a one-line header, "sluice-checkpoint v1 <crc32c hex>
// <body length>\n", followed by a JSON body. Save writes a temporary file in
// the same directory, fsyncs it, moves the current file to "<path>.prev",
// renames the temporary file into place and fsyncs the directory. A torn or
// corrupt file fails its length or checksum check; Open then falls back to
// "<path>.prev", then to an empty state, and reports that through Warning
// and the logger instead of failing: an older state only causes
// re-reading (duplicates), never loss, and a shipper that refuses to start
// would lose lines once the runtime rotates them away.
//
// # Disk full
//
// All writes go through the FS interface so that tests can inject ENOSPC
// (and a read-only volume behaves the same way). A failed Save returns the
// error, removes its temporary file and keeps the in-memory state dirty, so
// the next Save retries with the newest offsets; the caller keeps
// backpressure as usual and alerts on the error.
package checkpoint
