// Package containers runs the end-to-end pipeline against Kafka and a search
// engine started as containers through testcontainers-go.
//
// The tests are behind the "containers" build tag, so `go test ./...` never
// needs a container engine:
//
//	scripts/infra/engine-up.sh   # podman, the images, the Docker-compatible socket
//	go test -tags containers -count=1 ./loadtest/containers/...
//
// or `make test-containers`, which does both. The images (sluice/kafka and
// sluice/opensearch) are built locally by engine-up.sh on a debootstrapped
// Debian base, from the same Maven Central jars scripts/infra runs on the
// host, so no registry is involved. Where no engine socket answers, or the
// images are absent, the tests skip and say which; with
// SLUICE_CONTAINERS_REQUIRED=1 (set by the make target) they fail instead,
// so a broken engine cannot pass as a skipped tier.
package containers
