#!/usr/bin/env bash
# Stop whatever kafka-up.sh, search-up.sh, kafka-cluster.sh and es8.sh
# started (TERM, wait up to 30 s, then KILL), and remove their run
# directories. Only processes recorded in our pid files whose command line
# carries our marker are signalled. Idempotent: safe to run at any time.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need flock

for svc in kafka search; do
  lock "$svc"
  rundir="$SLUICE_RUN/$svc"
  stop_pid "$rundir/$svc.pid" "-Dsluice.infra=$rundir" "$svc"
  rm -rf "$rundir"
  exec 9>&-
done
# The three-broker cluster and Elasticsearch 8, if a test left them running.
if [[ -d "$SLUICE_RUN/kafka-cluster" ]]; then
  bash "$INFRA_DIR/kafka-cluster.sh" down >/dev/null
fi
if [[ -d "$SLUICE_RUN/es8" ]]; then
  bash "$INFRA_DIR/es8.sh" down >/dev/null
fi
# Drop the run root too once nothing but our lock files is left in it.
if [[ -d "$SLUICE_RUN" ]] && [[ -z "$(find "$SLUICE_RUN" -mindepth 1 -maxdepth 1 ! -name '.*.lock' -print -quit)" ]]; then
  rm -rf "$SLUICE_RUN"
fi
