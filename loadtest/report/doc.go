// Package report holds the outcome of load and fault runs and writes it
// as JSON (for machines and for comparing runs) and as one self-contained
// HTML page: inline SVG charts of throughput, lag and latency over time,
// fault events marked on the time axis, and no external scripts or styles,
// so the file can be archived as a CI artifact and opened anywhere.
package report
