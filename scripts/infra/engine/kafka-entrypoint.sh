#!/bin/bash
# Entrypoint of the sluice/kafka image built by scripts/infra/engine-up.sh:
# formats a fresh single-node KRaft log and runs the broker in the
# foreground, with the same settings as scripts/infra/kafka-up.sh.
#
#   KAFKA_LISTENERS             default PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093
#   KAFKA_ADVERTISED_LISTENERS  default PLAINTEXT://localhost:9092; a test
#                               publishing 9092 on host port P sets
#                               PLAINTEXT://127.0.0.1:P so clients on the
#                               host are sent back to the published port.
#   KAFKA_LISTENER_SECURITY_PROTOCOL_MAP  default CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
#   KAFKA_AUTO_CREATE_TOPICS_ENABLE  default true
#   KAFKA_HEAP_OPTS             default -Xms128m -Xmx512m
# The names are those of the apache/kafka image, so docker-compose.yml's
# settings for it carry over; the rest of its KAFKA_* settings are the
# defaults here.
set -euo pipefail

DATA=/var/lib/kafka/data
CONF=/var/lib/kafka/server.properties
LISTENERS="${KAFKA_LISTENERS:-PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093}"
ADVERTISED="${KAFKA_ADVERTISED_LISTENERS:-PLAINTEXT://localhost:9092}"
PROTOCOLS="${KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:-CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT}"
CONTROLLER="$(tr ',' '\n' <<<"$LISTENERS" | sed -n 's#^CONTROLLER://[^:]*:\([0-9]*\)$#\1#p')"
[[ -n "$CONTROLLER" ]] || { echo "kafka-entrypoint: KAFKA_LISTENERS has no CONTROLLER://host:port" >&2; exit 2; }

cat >"$CONF" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER
listeners=$LISTENERS
advertised.listeners=$ADVERTISED
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=$PROTOCOLS
log.dirs=$DATA
auto.create.topics.enable=${KAFKA_AUTO_CREATE_TOPICS_ENABLE:-true}
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
PROPS

cat >/var/lib/kafka/log4j2.properties <<'PROPS'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.state.name = state.change.logger
logger.state.level = WARN
PROPS

CP='/opt/kafka/libs/*'
LOG4J=-Dlog4j2.configurationFile=/var/lib/kafka/log4j2.properties
if [[ ! -f "$DATA/meta.properties" ]]; then
  # 16 random bytes, URL-safe base64 without padding, not starting with '-'.
  id=-
  while [[ "$id" == -* ]]; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  done
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "$LOG4J" -cp "$CP" \
    kafka.tools.StorageTool format -t "$id" -c "$CONF"
fi
# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM options
exec java ${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m} -XX:+UseSerialGC -Djava.awt.headless=true \
  "$LOG4J" -Dkafka.logs.dir=/var/lib/kafka -cp "$CP" kafka.Kafka "$CONF"
