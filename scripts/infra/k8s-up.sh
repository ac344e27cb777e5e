#!/usr/bin/env bash
# Provide a Kubernetes control plane's binaries for envtest: etcd (Debian's
# etcd-server package) and kube-apiserver + kubectl built from the Go module
# proxy by the wrapper module in scripts/infra/k8s, which pins the release.
# The result is one folder, suitable as KUBEBUILDER_ASSETS:
#
#   $SLUICE_CACHE/k8s-<version>/bin/{etcd,kube-apiserver,kubectl}
#
# Only the first run on a machine pays the build (several minutes on two
# cores); later runs find the folder's .complete marker and return at once.
# Runs are serialised with flock, so the test suite can start a build in the
# background while tests that need it call this script and wait.
#
#   SLUICE_ETCD           etcd binary to use (default: etcd on PATH; if there is
#                         none and we are root with apt-get, install etcd-server)
#   SLUICE_K8S_NO_INSTALL=1  never run apt-get
#   SLUICE_K8S_ONLY_CACHED=1 use a finished build, never start one
#   SLUICE_CACHE, SLUICE_GO (default go): see lib.sh
#
# Success prints one line:
#   "k8s assets in DIR (kube-apiserver v1.37.2, etcd 3.4.23)".
# Exit status 3 means "cannot be had on this machine" (no etcd and no way to
# install it, no Go toolchain, or SLUICE_K8S_ONLY_CACHED=1 and nothing built):
# tests skip on it, naming the reason. Any other failure is 1.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GO="${SLUICE_GO:-go}"
MODDIR="$INFRA_DIR/k8s"

# unavailable: exit 3, the tests' cue to skip rather than fail.
unavailable() {
  echo "k8s-up: $*" >&2
  exit 3
}

need flock sed
VERSION="$(sed -n 's/^[[:space:]]*k8s\.io\/kubernetes \(v[0-9][^ ]*\).*/\1/p' "$MODDIR/go.mod" | head -n1)"
[[ "$VERSION" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] ||
  die "k8s-up: cannot read the k8s.io/kubernetes release from $MODDIR/go.mod"
MAJOR="${BASH_REMATCH[1]}"
MINOR="${BASH_REMATCH[2]}"
DIR="$SLUICE_CACHE/k8s-$VERSION"
BIN="$DIR/bin"

if [[ "${SLUICE_K8S_ONLY_CACHED:-0}" == 1 ]]; then
  SLUICE_K8S_NO_INSTALL=1
fi
if [[ "${SLUICE_K8S_ONLY_CACHED:-0}" == 1 && ! -f "$DIR/.complete" ]]; then
  unavailable "kube-apiserver $VERSION has not been built on this machine ($DIR/.complete missing)"
fi
mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock -w 1800 9 || die "k8s-up: timed out waiting for $DIR/.lock (another build still running?)"

# etcd: Debian's etcd-server, linked into the folder so that envtest finds it.
etcd_bin="${SLUICE_ETCD:-}"
if [[ -z "$etcd_bin" ]]; then
  etcd_bin="$(command -v etcd || true)"
fi
if [[ -z "$etcd_bin" ]]; then
  if [[ "${SLUICE_K8S_NO_INSTALL:-0}" != 1 && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "k8s-up: installing etcd-server with apt-get" >&2
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server; } >"$DIR/apt.log" 2>&1; then
      tail -n 20 "$DIR/apt.log" >&2
      die "k8s-up: apt-get install etcd-server failed (log: $DIR/apt.log)"
    fi
    etcd_bin="$(command -v etcd || true)"
  fi
  [[ -n "$etcd_bin" ]] || unavailable "no etcd: not on PATH, and etcd-server cannot be installed here (needs root and apt-get; or set SLUICE_ETCD)"
fi
mkdir -p "$BIN"
ln -sfn "$etcd_bin" "$BIN/etcd"
etcd_version="$("$BIN/etcd" --version 2>/dev/null | sed -n 's/^etcd Version: *//p' | head -n1)"
[[ -n "$etcd_version" ]] || die "k8s-up: $etcd_bin --version does not run"

# kube-apiserver and kubectl, built once per release.
if [[ ! -f "$DIR/.complete" ]]; then
  command -v "$GO" >/dev/null 2>&1 || unavailable "'$GO' not found on PATH (needed to build kube-apiserver)"
  echo "k8s-up: building kube-apiserver and kubectl $VERSION (first run on this machine only)" >&2
  start=$SECONDS
  # version.gitVersion is what /version reports; clients and envtest read it,
  # and a binary built from the module cache otherwise says v0.0.0-master.
  pkg=k8s.io/component-base/version
  ldflags="-s -w -X $pkg.gitVersion=$VERSION -X $pkg.gitMajor=$MAJOR -X $pkg.gitMinor=$MINOR"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  rm -rf "$DIR/bin.tmp"
  mkdir -p "$DIR/bin.tmp"
  if ! (cd "$MODDIR" && GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0 \
    "$GO" build -trimpath -ldflags "$ldflags" -o "$DIR/bin.tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl) >"$DIR/build.log" 2>&1; then
    tail -n 40 "$DIR/build.log" >&2
    die "k8s-up: building kube-apiserver $VERSION failed (log: $DIR/build.log)"
  fi
  mv -f "$DIR/bin.tmp/kube-apiserver" "$DIR/bin.tmp/kubectl" "$BIN/"
  rmdir "$DIR/bin.tmp"
  echo "built in $((SECONDS - start)) s" >>"$DIR/build.log"
  echo "k8s-up: built kube-apiserver and kubectl $VERSION in $((SECONDS - start)) s" >&2
  touch "$DIR/.complete"
fi

got="$("$BIN/kube-apiserver" --version 2>/dev/null || true)"
[[ "$got" == "Kubernetes $VERSION" ]] || die "k8s-up: $BIN/kube-apiserver --version says '$got', want 'Kubernetes $VERSION'"
echo "k8s assets in $BIN (kube-apiserver $VERSION, etcd $etcd_version)"
