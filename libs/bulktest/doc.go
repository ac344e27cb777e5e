// Package bulktest is an in-process stand-in for the Elasticsearch bulk API,
// for tests that must not depend on a real search engine and for the failure
// cases a real one cannot be made to produce on demand.
//
// A Server stores documents by (index, _id), so op_type create answers 409
// on a replay exactly as Elasticsearch does, and it injects the faults
// Sluice must survive (see shared/FAULTS.md rows 3 and 6-10): whole-request
// 429/5xx for N requests or for a while, per-item 429s, mapping errors for a
// deterministic fraction of ids, latency, and connections reset after the
// body was read (optionally after the documents were stored). Discard mode
// answers without storing, for benchmarks.
//
// Supported endpoints: GET and HEAD /, PUT/GET /_index_template/<name>,
// PUT/GET /_ilm/policy/<name> (Elasticsearch) and
// /_plugins/_ism/policies/<name> (OpenSearch mode),
// POST/PUT /_bulk and /<index>/_bulk (create, index, delete; gzip request
// bodies; filter_path), GET /<index>/_count, POST /_refresh and
// /<index>/_refresh. Responses carry X-Elastic-Product: Elasticsearch.
package bulktest
