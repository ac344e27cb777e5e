# Sluice — make help lists the targets.
SHELL := /bin/bash
GO ?= go
MODULES := proto libs services/shipper services/parser services/indexer services/sluicectl loadtest deploy
BIN := bin
# Each test package gets this long; the whole suite stays well under 20 minutes.
TEST_TIMEOUT ?= 15m
GOFLAGS_TEST ?= -race -count=1

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z0-9_-]+:.*##/ {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Run the whole pipeline locally on embedded Kafka with a demo workload (ES_URL=... to index into Elasticsearch).
	$(GO) run ./loadtest/cmd/sluice-local $(ARGS)

.PHONY: test
test: ## Run every module's tests with the race detector (the CI command).
	@./scripts/test.sh

.PHONY: test-modules
test-modules: ## Run each module's tests on its own go.mod (GOWORK=off) to keep every go.mod honest.
	@set -e; for m in $(MODULES); do echo "== $$m (GOWORK=off)"; (cd $$m && GOWORK=off $(GO) test -count=1 ./...); done

.PHONY: build
build: ## Build every service binary and tool into bin/.
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ ./services/shipper/cmd/... ./services/parser/cmd/... ./services/indexer/cmd/... ./services/sluicectl/cmd/... ./loadtest/cmd/...

.PHONY: bench
bench: ## Run the benchmarks (hot paths and service paths) once each.
	@./scripts/bench.sh

.PHONY: vet
vet: ## go vet every module.
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./...); done

.PHONY: proto
proto: ## Regenerate protobuf code with buf (installs buf and the plugins with go install).
	@./scripts/proto.sh generate

.PHONY: proto-check
proto-check: ## Lint the protos and check the generated code is current.
	@./scripts/proto.sh check

.PHONY: tidy
tidy: ## go mod tidy in every module.
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) mod tidy); done

-include scripts/infra/infra.mk
-include deploy/images.mk
-include loadtest/loadtest.mk
