// Command sluicectl operates a running Sluice pipeline through the gRPC admin
// API that every service (shipper, parser, indexer) serves on its admin port
// (default 9090), beside grpc.health.v1 and reflection.
//
// Usage:
//
//	sluicectl [global flags] COMMAND [flags] [args]
//
// # Reaching services
//
// --addr host:port names an admin endpoint; repeat it or separate addresses
// with commas to act on several services at once (default localhost:9090, or
// $SLUICE_ADDR). A host without a port gets :9090.
//
// When a service's admin.token_file is set, every call must carry the token:
// pass --token, --token-file F, or set $SLUICE_TOKEN. --tls enables TLS
// (system roots, or --ca F); --cert and --key present a client certificate
// for services that require mTLS (admin.client_ca_file). --timeout bounds
// each call (default 5s).
//
// # Commands
//
//	status                  name, state, version, node, uptime, config digest
//	stats                   counters, rates, in-flight bytes, consumer lag
//	files                   files a shipper tracks, read and acknowledged offsets
//	pause / resume          stop and restart intake; in-flight work drains
//	reload [--file F]       validate and apply a configuration (YAML; - reads
//	                        stdin); prints the new digest, or the refusal while
//	                        the running configuration stays. Without --file the
//	                        service re-reads its own configuration file.
//	test-parse --rule NAME | --rule-file F [FILE]
//	                        parse lines from FILE or stdin on a parser; prints
//	                        whether each matched, what it cost, and the document
//	rules                   a parser's rules in match order, records, failures
//	tap [--rate N] [--limit N]
//	                        live sample of records, raw and parsed, until
//	                        --limit events or Ctrl-C
//	dlq list [--limit N] [--from P:N]
//	                        an indexer's dead letters with their reasons
//	dlq replay --partition P --from N [--to M]
//	                        republish dead letters [N, M) to the parsed topic
//	top [--once] [--interval D]
//	                        live view of every --addr: a row per service with
//	                        state, throughput (from counter deltas between
//	                        polls), bytes/s, in-flight bytes, lag and errors;
//	                        redrawn in place every interval. A service that
//	                        cannot be reached shows "unreachable: <reason>".
//	                        --once samples twice, an interval apart, and prints
//	                        one frame.
//
// status, stats, files, pause, resume, reload, rules and top act on every
// given address; test-parse, tap and the dlq commands talk to exactly one
// (dead letters live in one shared topic, so replaying through several
// indexers would republish them several times).
//
// # Output
//
// The default output is aligned tables for people. -o json prints protojson
// (field names as in admin.proto) for scripts: the response itself for one
// address, or an array of {"addr", "response"} / {"addr", "error"} objects for
// several; tap and live top print one JSON object per line.
//
// # Errors and exit status
//
// Errors name the address and what to do, for example:
//
//	sluicectl: localhost:9090 unreachable: connection refused
//	sluicectl: localhost:9090: unauthenticated: pass --token or --token-file
//	sluicectl: files is served by the shipper; localhost:9090 is the parser
//
// The exit status is 0 on success, 1 when a call failed or a service refused,
// and 2 for a bad command line. top exits 0: unreachable services are part of
// what it shows.
package main
