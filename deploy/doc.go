// Package deploy holds Sluice's deployment artefacts and the tests that keep
// them honest: the Helm chart (helm/sluice), the Makefile fragment that
// builds the images (images.mk), the sluicectl Dockerfile (docker/), and,
// outside this directory, docker-compose.yml, .dockerignore and the
// services' Dockerfiles.
//
// Nothing here runs a cluster or a Docker engine. The tests render and load
// everything the way the real tools would and check what must never regress:
//
//   - The chart renders with the Helm SDK (values coalesced, validated
//     against values.schema.json, templates in strict mode) for the default
//     values and every ci/*.yaml, and every manifest decodes strictly (an
//     unknown or misspelt field fails) into its typed Kubernetes object.
//   - Least privilege: the only RBAC is get/list/watch on core pods and
//     namespaces, bound to the shipper's ServiceAccount; parser and indexer
//     mount no API token; no container is privileged or may escalate; every
//     container drops ALL capabilities, uses the RuntimeDefault seccomp
//     profile and a read-only root filesystem; parser and indexer run as
//     non-root, the shipper as uid 0 without capabilities (documented in its
//     Dockerfile); host directories are mounted read-only except the
//     shipper's checkpoint directory.
//   - Wiring: gRPC probes on the admin port, resource requests and limits,
//     consistent labels, selectors that match their pods (Deployments,
//     DaemonSet, Services and their named ports, PDBs, HPAs,
//     NetworkPolicies, ServiceMonitors), NetworkPolicies that allow only
//     DNS, Kafka, the API server (shipper) and the search engine (indexer)
//     out and only the configured peers to the admin and metrics ports.
//   - Configuration: each rendered ConfigMap, with the environment its pod
//     would get, passes the service's own config.Load and Validate, and
//     carries the brokers, TLS files, credentials and search engine the
//     values name; by default the ConfigMaps are the shared
//     helm/sluice/files/*.yaml byte for byte, the files docker-compose.yml
//     mounts; bad values fail the schema with the offending key's path.
//   - docker-compose.yml loads with compose-go, pins every image, waits on
//     health checks and one-shot completions, mounts the chart's config
//     files (which validate with compose's environment) and publishes
//     nothing beyond 127.0.0.1.
//   - The Dockerfiles build static, stripped binaries from the pinned Go
//     image into the pinned distroless image with the documented user.
package deploy
