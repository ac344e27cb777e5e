#!/usr/bin/env bash
# Restart the broker started by kafka-up.sh on its existing log dir: stop it
# (TERM, then KILL after 30 s), optionally stay down for SLUICE_KAFKA_DOWN
# seconds, and start it again with its topics, offsets and committed
# consumer-group state intact. Tests use it to take the broker away
# mid-stream.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need flock
rundir="$SLUICE_RUN/kafka"
(
  lock kafka
  stop_pid "$rundir/kafka.pid" "-Dsluice.infra=$rundir" kafka
)
sleep "${SLUICE_KAFKA_DOWN:-0}"
SLUICE_KAFKA_KEEP_DATA=1 exec "$(dirname "${BASH_SOURCE[0]}")/kafka-up.sh"
