// Package benche2e is the end-to-end benchmark behind `make bench-e2e`: the
// shipper, parser and indexer run as separate processes, built from this
// tree, on a real Kafka broker (scripts/infra), while the harness writes CRI
// nginx access lines into kubelet-style files and receives the indexer's bulk
// requests itself.
//
// The harness is the only observer, so the figures do not depend on what the
// services choose to report about themselves:
//
//   - every generated line carries its pod and sequence number, and the bulk
//     endpoint (a discarding server, or a proxy in front of a real OpenSearch)
//     marks each arriving sequence number in a bitmap per pod, which gives
//     lost and duplicated lines exactly and in a few bytes per line;
//   - the writer keeps the time at which each run of sequence numbers was
//     written, so the end-to-end delay (line written → bulk arrival) needs no
//     field of the indexed document;
//   - CPU time and peak RSS are read from /proc/<pid>/stat and
//     /proc/<pid>/status (VmHWM) of each service process.
//
// Every connection stays on 127.0.0.1 and every run is bounded in time.
package benche2e
