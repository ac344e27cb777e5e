#!/bin/bash
# The Kafka command-line tools the compose file calls, in the sluice/kafka
# image (which has no Kafka binary distribution, only Maven Central jars):
# installed as /opt/kafka/bin/<name>.sh links to this script, which runs the
# tool's main class from org.apache.kafka:kafka-tools.
set -euo pipefail
case "$(basename "$0")" in
kafka-topics.sh) main=org.apache.kafka.tools.TopicCommand ;;
kafka-broker-api-versions.sh) main=org.apache.kafka.tools.BrokerApiVersionsCommand ;;
*)
  echo "kafka-tool.sh: unknown tool $(basename "$0")" >&2
  exit 2
  ;;
esac
exec java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -Dlog4j2.configurationFile=/opt/kafka/tools-log4j2.properties \
  -cp '/opt/kafka/tools-libs/*' "$main" "$@"
