#!/usr/bin/env bash
# Runs the hot-path and service-path benchmarks once each, in a format
# benchstat reads (go test -bench output). BENCHTIME and COUNT tune it:
#   make bench BENCHTIME=3s COUNT=5 > new.txt && benchstat old.txt new.txt
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
BENCHTIME=${BENCHTIME:-1s}
COUNT=${COUNT:-1}
run() { $GO test -run '^$' -bench "${2:-.}" -benchtime "$BENCHTIME" -count "$COUNT" "$1"; }

# Shipper: decoding and tail → decode → produce (snappy, Kubernetes metadata).
run ./services/shipper/internal/decode
run ./services/shipper/internal/tail
$GO test -run '^$' -bench ShipperPath -benchtime 200000x -count "$COUNT" ./services/shipper
# Parser: grok (ours and elastic/go-grok in the same run), rules, the
# document encoder, and consume → parse → produce on embedded Kafka.
run ./services/parser/internal/grok
run ./services/parser/internal/rules
run ./services/parser/internal/document
run ./services/parser/internal/timefmt
run ./services/parser/internal/dissect
run ./services/parser ServicePath
# Indexer: bulk body and response handling, our client against
# esutil.BulkIndexer, and consume → batch → bulk.
run ./services/indexer/internal/bulk
run ./services/indexer .
