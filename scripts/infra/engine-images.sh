#!/usr/bin/env bash
# Build the project's own images from its own Dockerfiles with podman:
#
#   sluice-local/shipper:dev   services/shipper/Dockerfile
#   sluice-local/parser:dev    services/parser/Dockerfile
#   sluice-local/indexer:dev   services/indexer/Dockerfile
#   sluice-local/loadgen:dev   loadtest/Dockerfile
#
# (the names docker-compose.yml gives them), each from the unchanged
# Dockerfile with the repository root as context, as `make images` and
# `docker compose build` do.
#
# The Dockerfiles start FROM golang:1.26-bookworm and
# gcr.io/distroless/static-debian12:nonroot, which no registry reachable from
# this machine serves. So, unless SLUICE_ENGINE_STANDINS=0 (a machine that
# can pull them), this script first builds local stand-ins and tags them with
# exactly those names, and builds with --pull=never:
#
#   localhost/sluice-go:<go version>  (tagged golang:1.26-bookworm, both as
#       docker.io/library/golang:... and localhost/golang:..., for podman's
#       short-name lookup): the debootstrapped sluice/base:bookworm from
#       engine-up.sh plus this host's Go toolchain ($(go env GOROOT), which
#       must be the Go release the tag names and satisfy go.work), laid out
#       like the golang image (GOPATH=/go, PATH), with the host's CA bundle
#       (the module proxy is HTTPS) and
#       GOPROXY=file:///opt/host-gomodcache,<host GOPROXY>: every build gets
#       the host's module download cache mounted read-only there, so modules
#       already on this machine are not fetched again;
#   localhost/sluice-static:nonroot  (tagged gcr.io/distroless/static-debian12:nonroot):
#       FROM scratch with what distroless/static carries that a static Go
#       binary can use: /etc/passwd and /etc/group (root, nonroot 65532,
#       nobody), the CA bundle, /usr/share/zoneinfo, /tmp (1777) and
#       /home/nonroot; USER 65532:65532.
#
# A name that already holds an image that is not a stand-in (label
# io.sluice.standin) is left alone: a real pulled image wins.
#
# The Dockerfiles' `RUN --mount=type=cache` mounts work with podman 4.3's
# buildah: they live in /var/tmp/buildah-cache/ and outlive the build, so
# only the first build compiles everything; with --layers an unchanged tree
# is a cache hit. The stand-ins are rebuilt only when their inputs
# (io.sluice.inputs label) change.
#
#   engine-images.sh [shipper parser indexer loadgen]   (default: all four)
#   engine-images.sh --list    the images and their Dockerfiles
#
# Needs engine-up.sh to have run (podman, containers.conf, sluice/base).
# Prints one line per image:
#   "image sluice-local/parser:dev (<id>) from services/parser/Dockerfile in Ns".
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT="$(cd "$INFRA_DIR/../.." && pwd)"
ENGINE_CACHE="$SLUICE_CACHE/engine"
BASE_IMAGE=sluice/base:bookworm
STATIC_IMAGE=localhost/sluice-static:nonroot
HOST_MODCACHE_MOUNT=/opt/host-gomodcache

log() { echo "engine-images: $*" >&2; }

# image_label IMAGE: its io.sluice.inputs label (empty when it does not exist).
image_label() {
  podman image inspect --format '{{index .Labels "io.sluice.inputs"}}' "$1" 2>/dev/null || true
}

# standin IMAGE CTX SUM: build CTX/Containerfile as IMAGE unless its label is SUM.
standin() {
  local image="$1" ctx="$2" sum="$3" old start=$SECONDS
  old="$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
  if ! podman build --label "io.sluice.inputs=$sum" --label io.sluice.standin=1 -t "$image" "$ctx" >"$ctx.build.log" 2>&1; then
    tail -n 30 "$ctx.build.log" >&2
    die "engine-images: building $image failed (log: $ctx.build.log)"
  fi
  [[ -z "$old" ]] || podman rmi "$old" >/dev/null 2>&1 || true
  rm -rf "$ctx/go" # the toolchain's hard links are not needed any more
  log "built $image in $((SECONDS - start))s"
}

go_standin() {
  local goroot version want ctx="$ENGINE_CACHE/ctx-go" sum
  need go
  goroot="$(go env GOROOT)"
  version="$(go env GOVERSION)" # go1.26.8
  # The toolchain must satisfy go.work's `go` line (GOTOOLCHAIN=local in the
  # Dockerfiles forbids switching).
  want="$(sed -n 's/^go \([0-9.]*\).*/go\1/p' "$ROOT/go.work")"
  if [[ -n "$want" ]] && [[ "$(printf '%s\n%s\n' "$want" "$version" | sort -V | head -n1)" != "$want" ]]; then
    die "engine-images: go.work needs $want, the host's Go is $version"
  fi
  # golang:1.26-bookworm must hold a Go 1.26.x.
  local tagged="${GO_BASE#*:}"
  tagged="${tagged%%-*}"
  [[ "${version#go}" == "$tagged" || "${version#go}" == "$tagged".* ]] ||
    die "engine-images: the Dockerfiles build FROM $GO_BASE, the host's Go is $version"
  GO_STANDIN="localhost/sluice-go:${version#go}"
  local proxy sumdb
  proxy="$(go env GOPROXY)"
  sumdb="$(go env GOSUMDB)"
  local containerfile
  containerfile="FROM $BASE_IMAGE
COPY host-ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY go /usr/local/go
# As in the golang image. GOPROXY reads the host's module download cache
# first (mounted read-only by engine-images.sh), then the host's proxy.
ENV GOLANG_VERSION=${version#go} GOTOOLCHAIN=local GOPATH=/go \\
    PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    GOPROXY=file://$HOST_MODCACHE_MOUNT,$proxy GOSUMDB=$sumdb \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
RUN mkdir -p /go/src /go/bin && chmod -R 1777 /go
WORKDIR /go"
  sum="$(printf '%s\n' standin "$containerfile" "$(cat "$goroot/VERSION")" \
    "$(podman image inspect --format '{{.Id}}' "$BASE_IMAGE")" \
    "$(sha256sum </etc/ssl/certs/ca-certificates.crt)" | sha256sum | cut -d' ' -f1)"
  GO_SUM="$sum"
  if [[ "$(image_label "$GO_STANDIN")" == "$sum" ]]; then
    return 0
  fi
  log "building $GO_STANDIN (base $BASE_IMAGE + $goroot)"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca-certificates.crt"
  # Hard links: no second copy of the toolchain's 270 MB on disk.
  cp -al "$goroot" "$ctx/go" 2>/dev/null || cp -a "$goroot" "$ctx/go"
  printf '%s\n' "$containerfile" >"$ctx/Containerfile"
  standin "$GO_STANDIN" "$ctx" "$sum"
}

static_standin() {
  local ctx="$ENGINE_CACHE/ctx-static" sum containerfile
  containerfile='FROM scratch
COPY rootfs/ /
COPY --chown=65532:65532 home/ /home/
ENV PATH=/usr/local/bin:/usr/bin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot'
  sum="$(printf '%s\n' standin "$containerfile" "$(sha256sum </etc/ssl/certs/ca-certificates.crt)" \
    "$(cd /usr/share/zoneinfo 2>/dev/null && find . -type f | sort | head -c 100000 | sha256sum)" |
    sha256sum | cut -d' ' -f1)"
  if [[ "$(image_label "$STATIC_IMAGE")" == "$sum" ]]; then
    return 0
  fi
  log "building $STATIC_IMAGE (scratch + passwd, CA bundle, zoneinfo)"
  rm -rf "$ctx" && mkdir -p "$ctx/rootfs/etc/ssl/certs" "$ctx/rootfs/usr/share" "$ctx/rootfs/tmp" \
    "$ctx/rootfs/root" "$ctx/home/nonroot"
  # The users and groups of distroless/static.
  cat >"$ctx/rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$ctx/rootfs/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
  printf 'hosts: files dns\n' >"$ctx/rootfs/etc/nsswitch.conf"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
  if [[ -d /usr/share/zoneinfo ]]; then
    cp -a /usr/share/zoneinfo "$ctx/rootfs/usr/share/zoneinfo"
  fi
  chmod 1777 "$ctx/rootfs/tmp"
  chmod 700 "$ctx/rootfs/root" "$ctx/home/nonroot"
  printf '%s\n' "$containerfile" >"$ctx/Containerfile"
  standin "$STATIC_IMAGE" "$ctx" "$sum"
}

# project_image NAME DOCKERFILE
project_image() {
  local name="$1" dockerfile="$2" image="sluice-local/$1:dev" old new start=$SECONDS
  local logf="$ENGINE_CACHE/image-$name.build.log"
  local args=(--network host --layers -f "$ROOT/$dockerfile" -t "$image")
  [[ "$STANDINS" == 1 ]] && args+=(--pull=never)
  # The stand-in's GOPROXY looks here first.
  [[ -n "$HOST_MODCACHE" ]] && args+=(-v "$HOST_MODCACHE:$HOST_MODCACHE_MOUNT:ro")
  old="$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
  if ! podman build "${args[@]}" "$ROOT" >"$logf" 2>&1; then
    tail -n 40 "$logf" >&2
    die "engine-images: building $image from $dockerfile failed (log: $logf)"
  fi
  new="$(podman image inspect --format '{{.Id}}' "$image")"
  # The image it replaces (untagged now) would otherwise pile up.
  [[ -z "$old" || "$old" == "$new" ]] || podman rmi "$old" >/dev/null 2>&1 || true
  echo "image $image (${new:0:12}) from $dockerfile in $((SECONDS - start))s"
}

declare -A DOCKERFILES=(
  [shipper]=services/shipper/Dockerfile
  [parser]=services/parser/Dockerfile
  [indexer]=services/indexer/Dockerfile
  [loadgen]=loadtest/Dockerfile
)
if [[ "${1:-}" == --list ]]; then
  for n in "${!DOCKERFILES[@]}"; do echo "sluice-local/$n:dev from ${DOCKERFILES[$n]} "; done
  exit 0
fi

need podman sha256sum
mkdir -p "$ENGINE_CACHE"
lock engine-images

# The base images the Dockerfiles name (every Dockerfile names the same two:
# deploy/dockerfile_test.go checks it).
froms="$(sed -n 's/^FROM[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$ROOT/services/parser/Dockerfile")"
GO_BASE="$(sed -n 1p <<<"$froms")"
RUNTIME_BASE="$(sed -n 2p <<<"$froms")"
[[ -n "$GO_BASE" && -n "$RUNTIME_BASE" ]] || die "engine-images: cannot read the FROM lines of services/parser/Dockerfile"

# tag_standin STANDIN NAME...: give the stand-in the base image's names,
# unless a name holds a real (non-stand-in) image.
tag_standin() {
  local standin="$1" name
  shift
  local id
  id="$(podman image inspect --format '{{.Id}}' "$standin")"
  for name in "$@"; do
    [[ "$(podman image inspect --format '{{.Id}}' "$name" 2>/dev/null)" == "$id" ]] && continue
    if podman image exists "$name" &&
      [[ "$(podman image inspect --format '{{index .Labels "io.sluice.standin"}}' "$name" 2>/dev/null)" != 1 ]]; then
      log "$name is a real image here; not replacing it with $standin"
      continue
    fi
    podman tag "$standin" "$name"
  done
}

STANDINS="${SLUICE_ENGINE_STANDINS:-1}"
if [[ "$STANDINS" == 1 ]]; then
  podman image exists "$BASE_IMAGE" || die "engine-images: $BASE_IMAGE is missing (run scripts/infra/engine-up.sh first)"
  go_standin
  static_standin
  go_names=("$GO_BASE")
  if [[ "$GO_BASE" != */* ]]; then # a Docker Hub short name
    go_names=("docker.io/library/$GO_BASE" "localhost/$GO_BASE")
  fi
  tag_standin "$GO_STANDIN" "${go_names[@]}"
  tag_standin "$STATIC_IMAGE" "$RUNTIME_BASE"
  log "stand-ins: $GO_BASE = $GO_STANDIN, $RUNTIME_BASE = $STATIC_IMAGE"
fi
HOST_MODCACHE=""
if command -v go >/dev/null 2>&1; then
  HOST_MODCACHE="$(go env GOMODCACHE)/cache/download"
  [[ -d "$HOST_MODCACHE" ]] || HOST_MODCACHE=""
fi

names=("$@")
((${#names[@]})) || names=(shipper parser indexer loadgen)
for n in "${names[@]}"; do
  [[ -n "${DOCKERFILES[$n]:-}" ]] || die "engine-images: unknown image '$n' (shipper, parser, indexer, loadgen)"
  project_image "$n" "${DOCKERFILES[$n]}"
done

# --layers keeps each Dockerfile's build stage (the source tree and the
# binary, ~400 MB) as an untagged image for the next build's cache; a build
# after a source change leaves the previous one behind. The build stages are
# the untagged images carrying the Go stand-in's io.sluice.inputs label: keep
# the newest (one per Dockerfile), remove the older ones.
if [[ "$STANDINS" == 1 && -n "${GO_SUM:-}" ]]; then
  podman images --filter dangling=true --filter "label=io.sluice.inputs=$GO_SUM" \
    --format '{{.CreatedAt}}|{{.ID}}' 2>/dev/null | sort -r | tail -n +$((${#DOCKERFILES[@]} + 1)) |
    cut -d'|' -f2 | xargs -r podman rmi >/dev/null 2>&1 || true
fi
