// Package weblog reads nginx and Apache HTTP Server logs — access and error
// — into the ECS fields Elastic's nginx and Apache integrations produce,
// without the geoip and user-agent databases.
//
// The parsers are hand-written scanners that follow the integrations' grok
// expressions and ingest processors case by case (which alternative wins,
// which address becomes source.address, what uri_parts decodes), because
// these are the highest-volume lines a cluster logs and the expanded grok
// expressions cost microseconds per line where a scanner costs hundreds of
// nanoseconds. Where the integrations' output is a quirk of an older
// pipeline (the nginx method lower-cased, IPv6 literals considered public
// by the proxy-chain script), the comments say which way this package goes
// and why. The conformance test runs Elastic's own pipeline-test fixtures
// from the shared corpus.
//
// Results alias the input line; nothing is allocated per line except the
// decoded URL parts when they hold escapes.
package weblog
