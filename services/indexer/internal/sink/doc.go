// Package sink holds the indexer's outputs behind one call, Index, that
// returns each document's outcome in order.
//
// Search writes one bulk request per call to Elasticsearch or OpenSearch and
// isolates the documents of a request refused as a whole (400, 413) by
// splitting it; retries and their budget stay with the indexer, which knows
// which failures count against a document. File is an NDJSON file for the
// local run, with the same create-once semantics as the search engine so
// that replays show up as conflicts, not duplicates.
package sink
