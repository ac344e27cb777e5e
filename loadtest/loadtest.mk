# Load and fault harness targets (docs/loadtest.md); the Makefile includes
# this file. Reports go to $(LOADTEST_OUT) as JSON and self-contained HTML.
GO ?= go
LOADTEST_OUT ?= bin/reports
LOADTEST_ARGS ?=
SEED ?= 1

.PHONY: loadtest loadtest-all loadtest-chaos loadtest-throughput

loadtest: ## Smoke load test (under 2 min): steady 10s, then a kill -9 and a 429 storm; fails on any lost or duplicated line.
	$(GO) run ./loadtest/cmd/loadtest -scenario smoke -duration 10s -seed $(SEED) \
		-json $(LOADTEST_OUT)/smoke.json -html $(LOADTEST_OUT)/smoke.html $(LOADTEST_ARGS)

loadtest-all: ## Every load and fault scenario (30s of writing each).
	$(GO) run ./loadtest/cmd/loadtest -scenario all -duration 30s -seed $(SEED) \
		-json $(LOADTEST_OUT)/all.json -html $(LOADTEST_OUT)/all.html $(LOADTEST_ARGS)

loadtest-chaos: ## 20 randomized fault runs from SEED; fails on any lost or duplicated line.
	$(GO) run ./loadtest/cmd/loadtest -chaos 20 -seed $(SEED) \
		-json $(LOADTEST_OUT)/chaos.json -html $(LOADTEST_OUT)/chaos.html $(LOADTEST_ARGS)

loadtest-throughput: ## End-to-end throughput (lines/s, peak RSS and heap) on embedded Kafka into a discarding bulk server.
	$(GO) run ./loadtest/cmd/loadtest -throughput -lines 200000 \
		-json $(LOADTEST_OUT)/throughput.json -html $(LOADTEST_OUT)/throughput.html $(LOADTEST_ARGS)

BENCH_E2E_ARGS ?=
.PHONY: bench-e2e
bench-e2e: ## End-to-end benchmark: shipper, parser, indexer as processes on real Kafka (scripts/infra), 6 partitions, discarding bulk server; BENCH_E2E_ARGS="-duration 60s -rate 75000 -opensearch".
	$(GO) run ./loadtest/cmd/bench-e2e -out $(LOADTEST_OUT)/bench-e2e $(BENCH_E2E_ARGS)
