// Package bulk writes pre-encoded documents to Elasticsearch (or OpenSearch)
// with the _bulk API.
//
// The indexer's guarantees rest on this package: every document is written
// with op_type create and a deterministic _id, so a replayed document is
// answered 409 (Exists) instead of being indexed twice, and a bulk request
// whose outcome is unknown (a reset connection, a timeout) can be sent again
// safely. Each item's answer is classified as Created, Exists, Retryable or
// Permanent so the caller knows which Kafka offsets it may commit and which
// documents belong on the dead-letter topic.
//
// Documents arrive as their final JSON _source; the request body is built by
// copying those bytes next to a generated action line, never by decoding and
// re-encoding them. Responses are requested with filter_path and parsed by a
// small scanner that reads only status and error fields.
//
// Client.Send is one bulk request and never retries: retrying, and splitting
// a request refused as a whole with 400 or 413, belong to the caller (the
// indexer's sink), which knows each document's retry budget. Limiter is an
// AIMD concurrency limit for the number of bulk requests in flight.
package bulk
