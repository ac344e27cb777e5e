#!/usr/bin/env bash
# Generates (or checks) the protobuf code in proto/ with buf. buf and the Go
# plugins are installed with go install at pinned versions.
set -euo pipefail
cd "$(dirname "$0")/../proto"
GOBIN=${GOBIN:-$(go env GOPATH)/bin}
export PATH="$GOBIN:$PATH"
need() { command -v "$1" >/dev/null 2>&1 || GOBIN=$GOBIN go install "$2"; }
need buf github.com/bufbuild/buf/cmd/buf@v1.50.0
need protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
need protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
case "${1:-generate}" in
generate)
	buf lint
	buf generate
	;;
check)
	buf lint
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cp -r . "$tmp/proto"
	(cd "$tmp/proto" && buf generate)
	if ! diff -r -q --exclude='*.proto' --exclude='*.yaml' --exclude='go.*' . "$tmp/proto" >/dev/null; then
		echo "proto: generated code is stale; run make proto" >&2
		diff -r --exclude='*.proto' --exclude='*.yaml' --exclude='go.*' . "$tmp/proto" | head -20 >&2
		exit 1
	fi
	echo "proto: generated code is current"
	;;
esac
