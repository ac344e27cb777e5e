// Package harness runs the pipeline (package stack: embedded Kafka,
// shipper, parsers, indexer) against the bulk-API test server under load
// from rotating kubelet-style log files, injects faults on a schedule, and
// proves nothing was lost or indexed twice with package verify.
//
// A run is a Config: load (pods, lines per second, duration, line size,
// rotation) and Steps, each a fault or action at a moment of the run:
// kill -9 of a service and its restart, a broker outage (kfake control
// functions failing Produce and Fetch), a search engine 429 storm (whole
// requests, then per item), parser scaling, a shipper outage across
// rotations, a burst. Scenarios returns the named runs; Chaos draws
// seeded random ones. While a run is going, a progress line shows lines
// written, indexed and the lag; afterwards the pipeline is drained and
// every line is checked. The outcome is a report.Run with time series for
// the JSON and HTML reports.
//
// Runs take a testing.TB because the bulk-API test server does; commands
// use NewTB.
package harness
