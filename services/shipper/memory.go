package shipper

import (
	"github.com/sluice-io/sluice/services/shipper/config"
	"github.com/sluice-io/sluice/services/shipper/internal/tail"
)

// recordObjectBytes is what one produced record costs in Go objects besides
// its key and value, which kafka.max_buffered_bytes counts: the kgo.Record,
// the producer's batch entry, the record's in-flight state and promise, and
// its slot in the file's ack window. It is also the share of the buffer
// each record is charged with to bound their number, so a node of short
// lines holds at most as much again in objects as in record bytes.
const recordObjectBytes = 512

// baseMemory is the shipper's heap apart from its lines: the Kafka and
// Kubernetes clients, telemetry, the checkpoint and file state, goroutine
// stacks and the runtime's own structures (about 6 MiB in heap profiles at
// full rate), with room for garbage: a budget near the live heap makes the
// collector run several times as often, which costs more CPU than it saves
// memory.
const baseMemory = 24 << 20

// maxBufferedRecords bounds the producer's records so that their objects
// stay within kafka.max_buffered_bytes as well (recordObjectBytes each);
// franz-go's default of 50,000 would let short lines hold several times
// the buffer in objects.
func maxBufferedRecords(cfg config.Config) int {
	return max(int(cfg.Kafka.MaxBufferedBytes/recordObjectBytes), 1024)
}

// MemoryBudget is the shipper's working set for cfg, the default Go memory
// limit (service.SetMemoryLimit): the records in the producer's buffer
// (kafka.max_buffered_bytes) and as much again in their objects (see
// maxBufferedRecords), the produce requests they are encoded into (the
// batches as written, then compressed: at most the buffer again and half of
// it), four events of tail.max_event_bytes (a partial line being joined, a
// multiline event, its record and that record's encoding), the read buffers
// of the files read at once, and baseMemory. With the defaults it is 56.5 MiB.
func MemoryBudget(cfg config.Config) int64 {
	buf := int64(cfg.Kafka.MaxBufferedBytes)
	records := 2 * buf
	requests := buf + buf/2
	events := 4 * int64(cfg.Tail.MaxEventBytes)
	reads := int64(readBuffers * tail.DefaultConfig().ReadBufferBytes)
	return records + requests + events + reads + baseMemory
}

// readBuffers is how many files' read buffers the budget allows for: the
// tailer reads one file at a time and pools the buffers of files it has
// read to the end, so a few are live at once.
const readBuffers = 8
