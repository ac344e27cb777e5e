# Local Kafka + search engine for tests, fetched from Maven Central.
# Included by the top-level Makefile: `include scripts/infra/infra.mk`.
# Ports, versions, cache and run dirs are set with SLUICE_* environment
# variables; see scripts/infra/README.md.

SLUICE_INFRA_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: kafka-up search-up infra-up infra-down k8s-up kafka-cluster-up kafka-cluster-down es8-up es8-down engine-up engine-down engine-images test-containers compose-smoke

kafka-up: ## Start a single-node KRaft Kafka 4.x on 127.0.0.1:19092 (SLUICE_KAFKA_PORT).
	@bash $(SLUICE_INFRA_DIR)/kafka-up.sh

search-up: ## Start OpenSearch 2.x on http://127.0.0.1:19200 (SLUICE_SEARCH_FLAVOR=elasticsearch for ES OSS 7.10.2).
	@bash $(SLUICE_INFRA_DIR)/search-up.sh

infra-up: kafka-up search-up ## Start both.

infra-down: ## Stop the local Kafka and search engine and remove their run dirs.
	@bash $(SLUICE_INFRA_DIR)/infra-down.sh

k8s-up: ## Build kube-apiserver + kubectl (once, cached) and install etcd-server: envtest's KUBEBUILDER_ASSETS.
	@bash $(SLUICE_INFRA_DIR)/k8s-up.sh

kafka-cluster-up: ## Start a three-broker KRaft Kafka (PLAINTEXT 2909N, SASL_SSL 2919N; RF 3, min.insync.replicas=2).
	@bash $(SLUICE_INFRA_DIR)/kafka-cluster.sh up

kafka-cluster-down: ## Stop the three-broker Kafka cluster and remove its data.
	@bash $(SLUICE_INFRA_DIR)/kafka-cluster.sh down

es8-up: ## Start Elasticsearch 8 (integ-test zip, security on: user sluice) on http://127.0.0.1:19201.
	@bash $(SLUICE_INFRA_DIR)/es8.sh up

es8-down: ## Stop Elasticsearch 8 and remove its data.
	@bash $(SLUICE_INFRA_DIR)/es8.sh down

engine-up: ## Install podman, build sluice/{base,jre,kafka,opensearch} images without a registry, serve the Docker API socket.
	@bash $(SLUICE_INFRA_DIR)/engine-up.sh

engine-images: engine-up ## Build the project's images (sluice-local/{shipper,parser,indexer,loadgen}:dev) from its Dockerfiles with podman, on local stand-ins for the golang and distroless bases.
	@bash $(SLUICE_INFRA_DIR)/engine-images.sh

engine-down: ## Stop the podman API service engine-up started and remove containers the tests left.
	@bash $(SLUICE_INFRA_DIR)/engine-down.sh

test-containers: ## engine-up and engine-images, then the testcontainers tier (infra containers, and the project's own images): go test -tags containers ./loadtest/containers/... (not part of `make test`).
	@bash $(SLUICE_INFRA_DIR)/test-containers.sh

compose-smoke: ## engine-up and engine-images, then docker-compose.yml once with podman-compose (the project's images from its Dockerfiles; no Kibana): every demo line reaches the search engine.
	@bash $(SLUICE_INFRA_DIR)/compose-smoke.sh
