# Container images. Included by the top-level Makefile.
#
#   make images                      build every image (tag $(IMAGE_TAG))
#   make images IMAGE_REPO=ghcr.io/acme/sluice IMAGE_TAG=0.1.0
#
# Without a reachable Docker engine the target says so and succeeds, so it
# can run anywhere (CI machines without Docker included).

IMAGE_REPO ?= ghcr.io/sluice-io/sluice
IMAGE_TAG ?= dev
DOCKER ?= docker

# name:Dockerfile, built from the repository root.
SLUICE_IMAGES := \
	shipper:services/shipper/Dockerfile \
	parser:services/parser/Dockerfile \
	indexer:services/indexer/Dockerfile \
	sluicectl:deploy/docker/sluicectl.Dockerfile \
	loadgen:loadtest/Dockerfile

.PHONY: images
images: ## Build the container images (skipped when no Docker engine is reachable).
	@if ! $(DOCKER) info >/dev/null 2>&1; then \
		echo "make images: no Docker engine; skipping"; \
		exit 0; \
	fi; \
	set -e; \
	for spec in $(SLUICE_IMAGES); do \
		name=$${spec%%:*}; file=$${spec#*:}; \
		echo "== $(IMAGE_REPO)/$$name:$(IMAGE_TAG) ($$file)"; \
		DOCKER_BUILDKIT=1 $(DOCKER) build -f $$file --build-arg VERSION=$(IMAGE_TAG) \
			-t $(IMAGE_REPO)/$$name:$(IMAGE_TAG) .; \
	done
