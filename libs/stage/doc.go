// Package stage is the one runtime every Kafka consumer stage of Sluice
// runs on (the parser, plain and transactional, and the indexer), in the
// manner of Loki's partition reader and OpenTelemetry's exporterhelper: a
// service supplies a Handler — decode, work, emit; or deliver to a sink —
// and the runtime does everything else the same way for all of them.
//
// # What the runtime owns
//
// The Kafka clients and their options; polling and batching; the
// commits; rebalances (revoked partitions are committed, lost ones are
// dropped without a commit); the final commit on a graceful stop; static
// group membership (group.instance.id from the pod name, so a restarted
// container gets its partitions back at once instead of after the session
// timeout, and a graceful stop leaves the group so the others take over at
// once); the failure classes and the retry policy; the dead-letter record;
// the replay of dead letters; and the admin controls (admin.Controls:
// State, Stats with the group's lag, Pause, Resume, ConfigDigest), which
// services embed rather than implement.
//
// # Ownership
//
// A Batch and its records belong to the runtime. The handler may read them
// and keep references into their values only until the outputs it handed
// to Batch.Produce are acknowledged (the runtime waits for that before
// Handle's batch is committed). Output records belong to the producer from
// Produce on: the handler must not change them, and may reuse their memory
// only for later records (the parser cuts them from chunks it never
// rewrites).
//
// # Concurrency and ordering
//
// One goroutine polls and hands one batch at a time to Handle; no new
// records are fetched while a batch is in hand, so a slow or failing
// downstream leaves the backlog in Kafka (backpressure) and the memory a
// stage holds is bounded by the batch (MaxBatchRecords, MaxBatchBytes) and
// the client's fetch buffers. Within a batch, each partition's records
// are in offset order; a handler may work on several partitions at once
// (the parser runs a worker per partition shard) but must keep each
// partition's outputs in order. Produce, DeadLetter and Partitions are
// safe for concurrent use.
//
// # When an offset may be committed
//
// An offset is marked for commit only when every record of the batch up
// to it has its outcome: its output acknowledged by the brokers (acks=all),
// or its dead letter acknowledged, or nothing to emit. Marked offsets are
// committed every second, on revoke and on a graceful stop, and only for
// partitions still owned: a batch that outlived its partition's
// assignment is not committed, and the next owner handles those records
// again (the _id and create make that harmless). An abort
// (service.ErrAbort, as a crash would) commits nothing more. With
// Config.Transactional the outputs and the offsets of one poll are
// committed in one Kafka transaction instead.
//
// # Failure classes
//
// Every error is Retryable, Permanent or Fatal (ClassOf, errors.go):
//
//   - retryable: the batch (or, in the indexer, the refused items) is tried
//     again with Policy's backoff and jitter, honouring a Retry-After, for as
//     long as it takes; Policy.MaxAge, off by default, dead-letters an item
//     still refused after it. The stage fetches nothing new meanwhile.
//   - permanent for one record: the record is dead-lettered with stage,
//     class and reason, and its partition moves on. A produced output over
//     the output topic's max.message.bytes (checked before producing, or
//     refused by the broker) is permanent with reason too_large; in a
//     transaction the runtime aborts once, and the next attempt
//     dead-letters the culprit and commits the rest.
//   - fatal for the process: configuration and authentication only, logged
//     with what to fix; Run returns it. A record's content is never fatal.
//
// # Dead letters
//
// A dead letter (record.DeadLetter) is the original key, value and headers
// — trace context included — plus headers naming the stage, class, reason,
// HTTP status where there is one, source topic/partition/offset and the
// container. Replay sends each letter back to the topic its stage reads
// and stops at the partition's end offset as the replay began, also when
// the last records are transaction markers.
package stage
