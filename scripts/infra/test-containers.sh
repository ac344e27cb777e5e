#!/usr/bin/env bash
# The testcontainers tier: make the podman engine and the images ready
# (engine-up.sh: Kafka and OpenSearch; engine-images.sh: the project's own
# images from its Dockerfiles), then run the tests in loadtest/containers:
# the pipeline against Kafka and OpenSearch containers, and the pipeline
# run from the project's images.
#
#   SLUICE_CONTAINERS_TEST_ARGS  extra `go test` arguments (default -v)
#
# The tests remove their containers and networks with t.Cleanup; the trap
# removes any a killed or timed-out test binary left behind, found by the run
# label the tests put on every container and network they create.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(cd "$INFRA_DIR/../.." && pwd)"
up="$(bash "$INFRA_DIR/engine-up.sh")" || exit 1
echo "$up"
start=$SECONDS
bash "$INFRA_DIR/engine-images.sh" || exit 1
echo "test-containers: project images ready in $((SECONDS - start))s"
DOCKER_HOST="$(sed -n 's/^engine up: DOCKER_HOST=\([^ ]*\) .*/\1/p' <<<"$up")"
[[ -n "$DOCKER_HOST" ]] || die "test-containers: engine-up.sh printed no DOCKER_HOST"
export DOCKER_HOST
export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
# A missing engine or image is a failure here, not a skip.
export SLUICE_CONTAINERS_REQUIRED=1
export SLUICE_CONTAINERS_RUN="tc-$$-$(date +%s)"

cleanup() {
  local ids
  ids="$(podman ps -aq --filter "label=io.sluice.run=$SLUICE_CONTAINERS_RUN" 2>/dev/null || true)"
  if [[ -n "$ids" ]]; then
    echo "test-containers: removing containers left by the run: $(tr '\n' ' ' <<<"$ids")"
    # shellcheck disable=SC2086 # one id per word
    podman rm -f $ids >/dev/null 2>&1 || true
  fi
  ids="$(podman network ls -q --filter "label=io.sluice.run=$SLUICE_CONTAINERS_RUN" 2>/dev/null || true)"
  if [[ -n "$ids" ]]; then
    echo "test-containers: removing networks left by the run: $(tr '\n' ' ' <<<"$ids")"
    # shellcheck disable=SC2086 # one name per word
    podman network rm -f $ids >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT INT TERM

cd "$ROOT"
# shellcheck disable=SC2086 # word splitting of the extra arguments is intended
go test -tags containers -count=1 -timeout 20m ${SLUICE_CONTAINERS_TEST_ARGS:--v} ./loadtest/containers/...
