#!/usr/bin/env bash
# Stop the podman API service that engine-up.sh started (only that one, by
# its pid file) and remove any container the testcontainers tier left
# (label io.sluice.run). Images and the cache stay, so the next engine-up.sh
# takes a second or two.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNDIR="$SLUICE_RUN/engine"
if command -v podman >/dev/null 2>&1; then
  ids="$(podman ps -aq --filter label=io.sluice.run 2>/dev/null || true)"
  if [[ -n "$ids" ]]; then
    # shellcheck disable=SC2086 # one id per word
    podman rm -f $ids >/dev/null
    echo "removed containers: $(tr '\n' ' ' <<<"$ids")"
  fi
fi
stop_pid "$RUNDIR/podman-service.pid" "system service" "podman system service"
rm -f "$RUNDIR/podman-service.pid"
