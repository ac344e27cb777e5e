// Package verify reads back what the pipeline indexed and checks it
// against what the generator wrote: every line carries its pod and a
// per-pod sequence number (package gen), so the verifier can say exactly
// which lines were lost, which were indexed more than once (the same pod
// and sequence under two _ids), and which arrived out of order per pod.
// It also derives indexing throughput over time and end-to-end latency
// percentiles from each document's event.created (the runtime's time,
// which is when the generator wrote the line) and event.ingested (when the
// shipper read it) against the time it was indexed.
//
// Documents come from the bulk-API test server (with a Recorder noting
// when each _id was first accepted), from the indexer's NDJSON file sink,
// or from Elasticsearch / OpenSearch through search_after pagination.
package verify
