// Package telemetrytest helps tests check a service's traces and metrics:
// Tracing records a Telemetry's spans in memory, Collector is an OTLP/gRPC
// trace receiver for code that only takes an endpoint (a whole service, the
// local stack), and Scrape reads a Prometheus handler's metric families.
package telemetrytest
