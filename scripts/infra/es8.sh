#!/usr/bin/env bash
# Elasticsearch 8 on loopback: the integ-test-zip distribution from Maven
# Central (org.elasticsearch.distribution.integ-test-zip:elasticsearch), a
# minimal build that carries only the apm, transport-netty4, x-pack-core and
# x-pack-security modules. It runs with security on (basic auth, a file-realm
# superuser created here) over plain HTTP. What it lacks, the tests must not
# need: no data streams (x-pack data-streams module), no ILM (x-pack-ilm), no
# ingest pipelines beyond the core processors, no analysis-common analyzers.
#
#   es8.sh up      start it (idempotent), fresh and empty
#   es8.sh down    stop it and remove its run dir
#
#   SLUICE_ES8_VERSION          default 8.19.21
#   SLUICE_ES8_PORT             HTTP port (default 19201); transport is port+100
#   SLUICE_ES8_HEAP             -Xmx (default 384m)
#   SLUICE_ES8_USER / _PASSWORD superuser created in the file realm (default sluice / sluice-es8-secret)
#   SLUICE_ES8_JAVA_HOME        the JDK to run it with (default: the one `java` on PATH belongs to)
#   SLUICE_SEARCH_TIMEOUT       seconds to wait for yellow/green (default 300)
#   SLUICE_CACHE, SLUICE_RUN: see lib.sh
#
# "up" prints, on success:
#   es8 up on http://127.0.0.1:19201 (elasticsearch 8.19.21, user sluice, pid N)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOST=127.0.0.1
VERSION="${SLUICE_ES8_VERSION:-8.19.21}"
PORT="${SLUICE_ES8_PORT:-19201}"
TPORT=$((PORT + 100))
HEAP="${SLUICE_ES8_HEAP:-384m}"
TIMEOUT="${SLUICE_SEARCH_TIMEOUT:-300}"
ES_USER="${SLUICE_ES8_USER:-sluice}"
ES_PASS="${SLUICE_ES8_PASSWORD:-sluice-es8-secret}"
URL="http://$HOST:$PORT"
CENTRAL="${SLUICE_MAVEN_CENTRAL:-https://repo1.maven.org/maven2}"

HOME_DIR="$SLUICE_CACHE/elasticsearch-$VERSION"
RUNDIR="$SLUICE_RUN/es8"
PIDFILE="$RUNDIR/es.pid"
LOG="$RUNDIR/console.log"

fail() {
  echo "es8: $*" >&2
  if [[ -f "$LOG" ]]; then
    echo "---- last 40 lines of $LOG ----" >&2
    tail -n 40 "$LOG" >&2
  fi
  exit 1
}

health() {
  curl -s -m 5 -u "$ES_USER:$ES_PASS" "$URL/_cluster/health" 2>/dev/null |
    sed -n 's/.*"status" *: *"\([a-z]*\)".*/\1/p'
}

up_line() {
  echo "es8 up on $URL (elasticsearch $VERSION, user $ES_USER, pid $(cat "$PIDFILE"))"
}

# fetch: download and unpack the distribution once; .complete marks success.
fetch() {
  [[ -f "$HOME_DIR/.complete" ]] && return 0
  mkdir -p "$SLUICE_CACHE"
  exec 8>"$SLUICE_CACHE/.fetch.lock"
  flock -w 900 8 || die "es8: timed out waiting for $SLUICE_CACHE/.fetch.lock"
  if [[ ! -f "$HOME_DIR/.complete" ]]; then
    local zip="$SLUICE_CACHE/elasticsearch-$VERSION.zip"
    local src="$CENTRAL/org/elasticsearch/distribution/integ-test-zip/elasticsearch/$VERSION/elasticsearch-$VERSION.zip"
    curl -sSf --retry 3 -o "$zip.tmp" "$src" || die "es8: downloading $src failed"
    rm -rf "$HOME_DIR" "$HOME_DIR.tmp"
    mkdir -p "$HOME_DIR.tmp"
    (cd "$HOME_DIR.tmp" && unzip -q "$zip.tmp") || die "es8: unpacking $zip.tmp failed"
    mv "$HOME_DIR.tmp/elasticsearch-$VERSION" "$HOME_DIR"
    rm -rf "$HOME_DIR.tmp" "$zip.tmp"
    touch "$HOME_DIR/.complete"
  fi
  exec 8>&-
}

cmd_up() {
  if pid_alive "$PIDFILE" "$RUNDIR"; then
    for ((i = 0; i < 30; i++)); do
      case "$(health)" in green | yellow)
        up_line
        return 0
        ;;
      esac
      sleep 1
    done
    fail "running (pid $(cat "$PIDFILE")) but $URL/_cluster/health is not yellow/green; run: $0 down"
  fi
  for p in "$PORT" "$TPORT"; do
    port_open "$HOST" "$p" && die "es8: $HOST:$p is already in use by a process this script did not start; stop it or set SLUICE_ES8_PORT"
  done
  local java_home="${SLUICE_ES8_JAVA_HOME:-}"
  if [[ -z "$java_home" ]]; then
    java_home="$(dirname "$(dirname "$(readlink -f "$(command -v "$SLUICE_JAVA")")")")"
  fi
  [[ -x "$java_home/bin/java" ]] || die "es8: no JDK at $java_home (set SLUICE_ES8_JAVA_HOME)"
  fetch

  rm -rf "$RUNDIR"
  mkdir -p "$RUNDIR/data" "$RUNDIR/logs" "$RUNDIR/tmp"
  cp -r "$HOME_DIR/config" "$RUNDIR/config"
  cat >"$RUNDIR/config/elasticsearch.yml" <<EOF
cluster.name: sluice-es8
node.name: es8
path.data: $RUNDIR/data
path.logs: $RUNDIR/logs
network.host: $HOST
http.port: $PORT
transport.port: $TPORT
discovery.type: single-node
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
xpack.security.enabled: true
xpack.security.http.ssl.enabled: false
xpack.security.transport.ssl.enabled: false
xpack.security.authc.realms.file.file1.order: 0
EOF
  # The serial collector: far less memory and fewer threads than G1 for a
  # small heap on a small machine.
  sed -i 's/^-XX:+UseG1GC$/-XX:+UseSerialGC/' "$RUNDIR/config/jvm.options"
  cat >"$RUNDIR/config/jvm.options.d/sluice.options" <<EOF
-Xms$HEAP
-Xmx$HEAP
-XX:-HeapDumpOnOutOfMemoryError
-Xlog:disable
EOF
  export ES_JAVA_HOME="$java_home" ES_PATH_CONF="$RUNDIR/config" ES_TMPDIR="$RUNDIR/tmp"
  if ! "$HOME_DIR/bin/elasticsearch-users" useradd "$ES_USER" -p "$ES_PASS" -r superuser >"$RUNDIR/users.log" 2>&1; then
    LOG="$RUNDIR/users.log" fail "creating the file-realm user failed"
  fi
  # Elasticsearch 8 refuses to run as root and has no switch to allow it.
  # As root, run it as nobody, from a hard-linked copy of the distribution
  # in the run dir (the cache under ~ is usually not readable by others).
  local home="$HOME_DIR" run_as=()
  if [[ "$(id -u)" == 0 ]]; then
    need setpriv
    home="$RUNDIR/home"
    cp -al "$HOME_DIR" "$home" 2>/dev/null || cp -r "$HOME_DIR" "$home"
    chmod 755 "$SLUICE_RUN" "$RUNDIR"
    chown -R 65534:65534 "$RUNDIR/data" "$RUNDIR/logs" "$RUNDIR/tmp" "$RUNDIR/config"
    : >"$LOG"
    chown 65534:65534 "$LOG"
    run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  fi
  (
    cd "$RUNDIR/tmp"
    nohup "${run_as[@]}" "$home/bin/elasticsearch" -E "node.attr.sluice_infra=$RUNDIR" -p "$RUNDIR/tmp/es.pid" \
      >"$LOG" 2>&1 </dev/null 8>&- 9>&- &
    echo $! >"$RUNDIR/launcher.pid"
  )
  local deadline=$((SECONDS + TIMEOUT))
  while ((SECONDS < deadline)); do
    # The server writes its pid (tmp/, which it owns); keep a copy that
    # only we write.
    [[ -s "$RUNDIR/tmp/es.pid" && ! -s "$PIDFILE" ]] && cp "$RUNDIR/tmp/es.pid" "$PIDFILE"
    if ! kill -0 "$(cat "$RUNDIR/launcher.pid")" 2>/dev/null; then
      fail "elasticsearch exited during startup"
    fi
    case "$(health)" in green | yellow)
      up_line
      return 0
      ;;
    esac
    sleep 0.5
  done
  [[ -s "$PIDFILE" ]] && kill -KILL "$(cat "$PIDFILE")" 2>/dev/null
  kill -KILL "$(cat "$RUNDIR/launcher.pid")" 2>/dev/null || true
  fail "not yellow/green on $URL/_cluster/health within ${TIMEOUT}s"
}

need curl unzip flock timeout
lock es8
case "${1:-}" in
up) cmd_up ;;
down)
  stop_pid "$PIDFILE" "$RUNDIR" es8 >/dev/null
  [[ -s "$RUNDIR/launcher.pid" ]] && kill -TERM "$(cat "$RUNDIR/launcher.pid")" 2>/dev/null || true
  rm -rf "$RUNDIR"
  echo "es8 down"
  ;;
*) die "usage: $0 up|down" ;;
esac
