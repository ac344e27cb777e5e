#!/usr/bin/env bash
# A three-broker Apache Kafka 4.x cluster on loopback, as production runs it:
# KRaft with three combined broker+controller nodes, replication factor 3 and
# min.insync.replicas=2 by default, and clients served on two listeners,
# PLAINTEXT and SASL_SSL (SCRAM-SHA-512 over TLS with a CA and a broker
# certificate generated here with openssl). Same jars as kafka-up.sh.
#
#   kafka-cluster.sh up        start the cluster (idempotent), fresh and empty
#   kafka-cluster.sh down      stop every broker and remove the run dir
#   kafka-cluster.sh kill N    kill -9 broker N (1..3), keeping its log dir
#   kafka-cluster.sh start N   start broker N again on its log dir and wait for it
#   kafka-cluster.sh status    one line per broker: up/down and pid
#
#   SLUICE_KAFKA_CLUSTER_PORT  base port (default 29090): broker N serves
#                              PLAINTEXT on base+N, SASL_SSL on base+100+N and
#                              its controller on base+200+N
#   SLUICE_KAFKA_CLUSTER_HEAP  -Xmx per broker (default 320m)
#   SLUICE_KAFKA_CLUSTER_USER / _PASSWORD  the SCRAM-SHA-512 user (default sluice / sluice-secret)
#   SLUICE_KAFKA_TIMEOUT       seconds to wait for readiness (default 240)
#   SLUICE_CACHE, SLUICE_RUN, SLUICE_JAVA, SLUICE_MVN: see lib.sh
#
# "up" prints, on success:
#   kafka-cluster up: plaintext 127.0.0.1:29091,127.0.0.1:29092,127.0.0.1:29093 sasl_ssl 127.0.0.1:29191,... ca DIR/tls/ca.crt user sluice
# The run dir ($SLUICE_RUN/kafka-cluster) also holds tls/untrusted-ca.crt, a
# CA that signed nothing the brokers present, for tests of a wrong trust root.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOST=127.0.0.1
BASE="${SLUICE_KAFKA_CLUSTER_PORT:-29090}"
VERSION="${SLUICE_KAFKA_VERSION:-4.4.0}"
HEAP="${SLUICE_KAFKA_CLUSTER_HEAP:-320m}"
TIMEOUT="${SLUICE_KAFKA_TIMEOUT:-240}"
USER_NAME="${SLUICE_KAFKA_CLUSTER_USER:-sluice}"
USER_PASS="${SLUICE_KAFKA_CLUSTER_PASSWORD:-sluice-secret}"
LOG4J_VERSION=2.24.3
SLF4J_VERSION=2.0.17
# The shared topic limit: every topic's max.message.bytes (see the README).
MAX_MESSAGE_BYTES=8388608
NODES=(1 2 3)

LIBDIR="$SLUICE_CACHE/kafka-$VERSION"
RUNDIR="$SLUICE_RUN/kafka-cluster"
TLSDIR="$RUNDIR/tls"
STOREPASS=sluice-test-store

plain_port() { echo $((BASE + $1)); }
sasl_port() { echo $((BASE + 100 + $1)); }
ctrl_port() { echo $((BASE + 200 + $1)); }
node_dir() { echo "$RUNDIR/broker-$1"; }
marker() { echo "-Dsluice.infra=$(node_dir "$1")"; }

addrs() { # addrs plain|sasl
  local n out=()
  for n in "${NODES[@]}"; do out+=("$HOST:$("${1}_port" "$n")"); done
  (IFS=,; echo "${out[*]}")
}

# api_versions PORT: ApiVersions v0 answered with error code 0 (see kafka-up.sh).
api_versions() {
  local reply
  # shellcheck disable=SC2016 # expanded by the inner bash
  reply="$(timeout 2 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\x00\x00\x00\x10\x00\x12\x00\x00\x00\x00\x00\x07\x00\x06sluice" >&3
    head -c 10 <&3 | od -An -v -tx1 | tr -d " \n"' "$HOST" "$1" 2>/dev/null)" || return 1
  [[ "$reply" == ????????000000070000 ]]
}

fail_node() { # fail_node N MESSAGE
  local log
  log="$(node_dir "$1")/broker.log"
  echo "kafka-cluster: broker $1: $2" >&2
  if [[ -f "$log" ]]; then
    echo "---- last 40 lines of $log ----" >&2
    tail -n 40 "$log" >&2
  fi
  exit 1
}

gen_tls() {
  need openssl
  mkdir -p "$TLSDIR"
  (
    cd "$TLSDIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Sluice test CA" \
      -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Untrusted test CA" \
      -keyout untrusted-ca.key -out untrusted-ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >broker.ext
    openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
      -extfile broker.ext -out broker.crt 2>/dev/null
    openssl pkcs12 -export -in broker.crt -inkey broker.key -certfile ca.crt -name broker \
      -passout "pass:$STOREPASS" -out broker.p12
  ) || die "kafka-cluster: generating the CA and broker certificate with openssl failed"
}

write_config() { # write_config N
  local n="$1" dir voters="" m
  dir="$(node_dir "$n")"
  for m in "${NODES[@]}"; do voters+="${voters:+,}$m@$HOST:$(ctrl_port "$m")"; done
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://$HOST:$(plain_port "$n"),SASL_SSL://$HOST:$(sasl_port "$n"),CONTROLLER://$HOST:$(ctrl_port "$n")
advertised.listeners=PLAINTEXT://$HOST:$(plain_port "$n"),SASL_SSL://$HOST:$(sasl_port "$n")
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLSDIR/broker.p12
ssl.keystore.password=$STOREPASS
ssl.client.auth=none
log.dirs=$dir/data
auto.create.topics.enable=true
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
message.max.bytes=$MAX_MESSAGE_BYTES
replica.fetch.max.bytes=$MAX_MESSAGE_BYTES
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.replica.fetchers=1
background.threads=2
log.retention.hours=4
unclean.leader.election.enable=false
EOF
  cat >"$dir/log4j2.properties" <<'EOF'
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
}

format_node() { # format_node N CLUSTER_ID
  local dir
  dir="$(node_dir "$1")"
  sed 's/^rootLogger.level = INFO/rootLogger.level = WARN/' "$dir/log4j2.properties" >"$dir/log4j2-tools.properties"
  if ! "$SLUICE_JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$dir/log4j2-tools.properties" -cp "$LIBDIR/libs/*" \
    kafka.tools.StorageTool format -t "$2" -c "$dir/server.properties" \
    --add-scram "SCRAM-SHA-512=[name=$USER_NAME,password=$USER_PASS]" >"$dir/format.log" 2>&1; then
    cat "$dir/format.log" >&2
    die "kafka-cluster: kafka-storage format of broker $1 failed"
  fi
}

launch_node() { # launch_node N
  local n="$1" dir
  dir="$(node_dir "$n")"
  [[ -f "$dir/broker.log" ]] && mv "$dir/broker.log" "$dir/broker.log.prev"
  (
    cd "$dir"
    nohup "$SLUICE_JAVA" "$(marker "$n")" -Xms96m -Xmx"$HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$dir/log4j2.properties" \
      -Dkafka.logs.dir="$dir" -cp "$LIBDIR/libs/*" kafka.Kafka "$dir/server.properties" \
      >"$dir/broker.log" 2>&1 </dev/null 8>&- 9>&- &
    echo $! >"$dir/kafka.pid"
  )
}

wait_node() { # wait_node N DEADLINE_SECONDS
  local n="$1" dir pid
  dir="$(node_dir "$n")"
  pid="$(cat "$dir/kafka.pid")"
  while ((SECONDS < $2)); do
    kill -0 "$pid" 2>/dev/null || fail_node "$n" "exited during startup"
    if grep -qs "Kafka Server started" "$dir/broker.log" && api_versions "$(plain_port "$n")"; then
      return 0
    fi
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  fail_node "$n" "did not answer ApiVersions on $HOST:$(plain_port "$n") within ${TIMEOUT}s (killed pid $pid)"
}

node_up() { pid_alive "$(node_dir "$1")/kafka.pid" "$(marker "$1")"; }

up_line() {
  echo "kafka-cluster up: plaintext $(addrs plain) sasl_ssl $(addrs sasl) ca $TLSDIR/ca.crt user $USER_NAME"
}

stop_all() {
  local n
  for n in "${NODES[@]}"; do
    stop_pid "$(node_dir "$n")/kafka.pid" "$(marker "$n")" "kafka broker $n" >/dev/null
  done
}

cmd_up() {
  local n all=1 running=0 cid deadline
  for n in "${NODES[@]}"; do
    if node_up "$n"; then running=1; else all=0; fi
  done
  if ((all)); then
    for n in "${NODES[@]}"; do
      api_versions "$(plain_port "$n")" || fail_node "$n" "running but not answering ApiVersions; run: $0 down"
    done
    echo "kafka-cluster already running"
    up_line
    return 0
  fi
  ((running == 0)) || die "kafka-cluster: only some brokers are running; run '$0 down' (or '$0 start N')"
  for n in "${NODES[@]}"; do
    for p in "$(plain_port "$n")" "$(sasl_port "$n")" "$(ctrl_port "$n")"; do
      port_open "$HOST" "$p" && die "kafka-cluster: $HOST:$p is already in use by a process this script did not start; stop it or set SLUICE_KAFKA_CLUSTER_PORT"
    done
  done
  require_java 17 "Kafka $VERSION"
  fetch_libs "$LIBDIR" "
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>" ||
    exit 1

  rm -rf "$RUNDIR"
  mkdir -p "$RUNDIR"
  gen_tls
  cid=-
  while [[ "$cid" == -* ]]; do
    cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  for n in "${NODES[@]}"; do
    write_config "$n"
    format_node "$n" "$cid"
  done
  for n in "${NODES[@]}"; do launch_node "$n"; done
  deadline=$((SECONDS + TIMEOUT))
  for n in "${NODES[@]}"; do
    if ! (wait_node "$n" "$deadline"); then
      stop_all
      exit 1
    fi
  done
  up_line
}

cmd_kill() {
  local n="$1" dir
  dir="$(node_dir "$n")"
  node_up "$n" || die "kafka-cluster: broker $n is not running"
  kill -KILL "$(cat "$dir/kafka.pid")"
  while node_up "$n"; do sleep 0.05; done
  echo "kafka-cluster: broker $n killed (SIGKILL)"
}

cmd_start() {
  local n="$1"
  node_up "$n" && { echo "kafka-cluster: broker $n already running"; return 0; }
  [[ -f "$(node_dir "$n")/server.properties" ]] || die "kafka-cluster: broker $n has no run dir; run '$0 up'"
  launch_node "$n"
  wait_node "$n" $((SECONDS + TIMEOUT))
  echo "kafka-cluster: broker $n up on $HOST:$(plain_port "$n") (pid $(cat "$(node_dir "$n")/kafka.pid"))"
}

need "$SLUICE_JAVA" "$SLUICE_MVN" timeout od flock
lock kafka-cluster
case "${1:-}" in
up) cmd_up ;;
down)
  stop_all
  rm -rf "$RUNDIR"
  echo "kafka-cluster down"
  ;;
kill | start)
  [[ "${2:-}" =~ ^[123]$ ]] || die "usage: $0 $1 1|2|3"
  "cmd_$1" "$2"
  ;;
status)
  for n in "${NODES[@]}"; do
    if node_up "$n"; then echo "broker $n up (pid $(cat "$(node_dir "$n")/kafka.pid"))"; else echo "broker $n down"; fi
  done
  ;;
*) die "usage: $0 up|down|kill N|start N|status" ;;
esac
