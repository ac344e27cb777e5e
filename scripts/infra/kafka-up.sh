#!/usr/bin/env bash
# Start a single-node Apache Kafka 4.x broker (KRaft, combined
# broker+controller) on loopback, fetching its jars from Maven Central on
# first use. Idempotent: if ours is already running, says so and exits 0.
#
#   SLUICE_KAFKA_PORT             client listener port   (default 19092)
#   SLUICE_KAFKA_CONTROLLER_PORT  KRaft controller port  (default port+1)
#   SLUICE_KAFKA_VERSION          org.apache.kafka:kafka_2.13 version (default 4.4.0)
#   SLUICE_KAFKA_HEAP             -Xmx for the broker    (default 512m)
#   SLUICE_KAFKA_TIMEOUT          seconds to wait for readiness (default 240)
#   SLUICE_KAFKA_KEEP_DATA=1      restart on the existing log dir instead of a fresh cluster
#   SLUICE_CACHE, SLUICE_RUN, SLUICE_JAVA, SLUICE_MVN: see lib.sh
#
# Success prints one line: "kafka up on 127.0.0.1:19092 (pid N)".
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOST=127.0.0.1
PORT="${SLUICE_KAFKA_PORT:-19092}"
CPORT="${SLUICE_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
VERSION="${SLUICE_KAFKA_VERSION:-4.4.0}"
HEAP="${SLUICE_KAFKA_HEAP:-512m}"
TIMEOUT="${SLUICE_KAFKA_TIMEOUT:-240}"
LOG4J_VERSION=2.24.3
SLF4J_VERSION=2.0.17

LIBDIR="$SLUICE_CACHE/kafka-$VERSION"
RUNDIR="$SLUICE_RUN/kafka"
PIDFILE="$RUNDIR/kafka.pid"
LOG="$RUNDIR/broker.log"
MARKER="-Dsluice.infra=$RUNDIR"

# kafka_api_versions: send ApiVersions v0 (correlation id 7) to the client
# listener and check the reply carries that id and error_code 0.
kafka_api_versions() {
  local reply
  # shellcheck disable=SC2016 # expanded by the inner bash
  reply="$(timeout 2 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\x00\x00\x00\x10\x00\x12\x00\x00\x00\x00\x00\x07\x00\x06sluice" >&3
    head -c 10 <&3 | od -An -v -tx1 | tr -d " \n"' "$HOST" "$PORT" 2>/dev/null)" || return 1
  # int32 size, int32 correlation id 7, int16 error_code 0
  [[ "$reply" == ????????000000070000 ]]
}

fail() {
  echo "kafka-up: $*" >&2
  if [[ -f "$LOG" ]]; then
    echo "---- last 40 lines of $LOG ----" >&2
    tail -n 40 "$LOG" >&2
  fi
  exit 1
}

need "$SLUICE_JAVA" "$SLUICE_MVN" timeout od flock
lock kafka

if pid_alive "$PIDFILE" "$MARKER"; then
  # Retry for a while: on a loaded machine one probe can time out.
  for ((i = 0; i < 30; i++)); do
    if kafka_api_versions; then
      echo "kafka already running on $HOST:$PORT (pid $(cat "$PIDFILE"))"
      exit 0
    fi
    sleep 1
  done
  fail "a broker is running (pid $(cat "$PIDFILE")) but $HOST:$PORT does not answer ApiVersions; run scripts/infra/infra-down.sh"
fi
rm -f "$PIDFILE"
for p in "$PORT" "$CPORT"; do
  port_open "$HOST" "$p" && die "kafka-up: $HOST:$p is already in use by a process this script did not start (no live pid in $PIDFILE); stop it or set SLUICE_KAFKA_PORT / SLUICE_KAFKA_CONTROLLER_PORT"
done

require_java 17 "Kafka $VERSION"
fetch_libs "$LIBDIR" "
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>" ||
  exit 1

# Every start is a fresh, empty cluster, unless a restart asks to keep the
# log (kafka-restart.sh: the broker comes back with its topics and offsets).
KEEP=0
if [[ "${SLUICE_KAFKA_KEEP_DATA:-0}" == 1 && -f "$RUNDIR/data/meta.properties" ]]; then
  KEEP=1
  mv "$LOG" "$LOG.prev" 2>/dev/null || true
else
  rm -rf "$RUNDIR"
fi
mkdir -p "$RUNDIR/data"

cat >"$RUNDIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CPORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$RUNDIR/data
auto.create.topics.enable=true
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=4
EOF

cat >"$RUNDIR/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
cp "$RUNDIR/log4j2.properties" "$RUNDIR/log4j2-tools.properties"
sed -i 's/^rootLogger.level = INFO/rootLogger.level = WARN/' "$RUNDIR/log4j2-tools.properties"

CP="$LIBDIR/libs/*"
# A cluster id is 16 random bytes in URL-safe base64 without padding; one
# starting with '-' would be read as an option, so draw again.
CLUSTER_ID=-
while [[ "$CLUSTER_ID" == -* ]]; do
  CLUSTER_ID="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
done
if ((KEEP == 0)) && ! "$SLUICE_JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -Dlog4j2.configurationFile="$RUNDIR/log4j2-tools.properties" -cp "$CP" \
  kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$RUNDIR/server.properties" >"$RUNDIR/format.log" 2>&1; then
  LOG="$RUNDIR/format.log" fail "kafka-storage format failed"
fi

cd "$RUNDIR"
nohup "$SLUICE_JAVA" "$MARKER" -Xms128m -Xmx"$HEAP" -XX:+UseSerialGC \
  -Djava.awt.headless=true -Dlog4j2.configurationFile="$RUNDIR/log4j2.properties" \
  -Dkafka.logs.dir="$RUNDIR" -cp "$CP" kafka.Kafka "$RUNDIR/server.properties" \
  >"$LOG" 2>&1 </dev/null 8>&- 9>&- &
PID=$!
echo "$PID" >"$PIDFILE"

deadline=$((SECONDS + TIMEOUT))
while ((SECONDS < deadline)); do
  if ! kill -0 "$PID" 2>/dev/null; then
    rm -f "$PIDFILE"
    fail "broker exited during startup"
  fi
  if grep -qs "Kafka Server started" "$LOG" && kafka_api_versions; then
    echo "kafka up on $HOST:$PORT (pid $PID)"
    exit 0
  fi
  sleep 0.2
done
kill -KILL "$PID" 2>/dev/null || true
rm -f "$PIDFILE"
fail "broker did not answer ApiVersions on $HOST:$PORT within ${TIMEOUT}s (killed pid $PID)"
