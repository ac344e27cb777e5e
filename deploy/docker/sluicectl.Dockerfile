# syntax=docker/dockerfile:1
# sluicectl: the operator CLI for the services' gRPC admin API.
#
# Build from the repository root:
#   docker build -f deploy/docker/sluicectl.Dockerfile -t sluice/sluicectl:dev .
#   docker run --rm --network sluice_default sluice/sluicectl:dev --addr shipper:9090 status

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    cd services/sluicectl && \
    go build -trimpath -ldflags "-s -w" -o /out/sluicectl ./cmd/sluicectl

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sluicectl /usr/local/bin/sluicectl
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/sluicectl"]
