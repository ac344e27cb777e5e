// Package e2e holds the end-to-end tests: the three services on one Kafka
// (embedded here, real brokers in the realinfra suite), writing to a bulk-API
// test server or a real search engine, checked line by line for loss and
// duplication.
package e2e
