#!/usr/bin/env python3
"""Derive a compose file that podman-compose can run here from docker-compose.yml.

    compose-podman.py SRC_COMPOSE REPO_ROOT SEARCH_PORT KAFKA_IMAGE SEARCH_IMAGE [BUILDS] > out.yml

BUILDS, when given, receives "service image dockerfile" for every service
the compose file builds (outside profiles), for compose-smoke.sh to check
that those are the images engine-images.sh built.

No registry is reachable, so every image is one built locally:
  - kafka and topics: the sluice/kafka image (KRaft, with the kafka-topics.sh
    and kafka-broker-api-versions.sh the compose file calls);
  - elasticsearch: the sluice/opensearch image (no Elasticsearch image can be
    built here; the indexer is told its flavor is opensearch);
  - kibana and setup are left out (no Kibana image can be built here);
  - shipper, parser, indexer, workload: their sluice-local/*:dev images,
    built beforehand by engine-images.sh from the same Dockerfiles with
    podman (so the build sections are dropped here).
Podman 4.3 runs no healthchecks without systemd and podman-compose 1.0.3 does
not wait for depends_on conditions, so healthchecks are dropped and the
topics job waits for the broker itself. Published ports are dropped except
the search engine's, on 127.0.0.1:SEARCH_PORT: the compose file's fixed host
ports may be taken on a shared machine. The workload writes for a fixed time
and is not restarted, so the lines it wrote can be counted.
"""
import os
import sys

import yaml


def main():
    src, root, search_port, kafka_image, search_image = sys.argv[1:6]
    with open(src) as f:
        doc = yaml.safe_load(f)
    # Anchors (x-sluice-service) were resolved by the loader; the emitter
    # writes plain copies.
    doc = {k: v for k, v in doc.items() if not k.startswith("x-")}
    services = doc["services"]
    for name in ("kibana", "setup", "sluicectl"):
        services.pop(name, None)
    if len(sys.argv) > 6:
        with open(sys.argv[6], "w") as out:
            for name, svc in services.items():
                build = svc.get("build")
                if build:
                    out.write("%s %s %s\n" % (name, svc["image"], build.get("dockerfile", "Dockerfile")))
    for name, svc in services.items():
        svc.pop("build", None)
        svc.pop("pull_policy", None)
        svc.pop("healthcheck", None)
        svc.pop("ports", None)
        deps = svc.get("depends_on")
        if isinstance(deps, dict):
            svc["depends_on"] = [d for d in deps if d in services]
        vols = []
        for v in svc.get("volumes", []):
            if isinstance(v, str) and v.startswith("./"):
                v = os.path.join(root, v[2:])
            vols.append(v)
        if vols:
            svc["volumes"] = vols
    services["kafka"]["image"] = kafka_image
    services["topics"]["image"] = kafka_image
    wait = ("until /opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server kafka:9092 "
            ">/dev/null 2>&1; do sleep 1; done\n")
    services["topics"]["command"] = [wait + services["topics"]["command"][0]]
    es = services["elasticsearch"]
    es["image"] = search_image
    es["environment"] = {"SEARCH_HEAP": "512m"}
    es["volumes"] = ["es-data:/var/lib/opensearch"]
    es["ports"] = ["127.0.0.1:%s:9200" % search_port]
    services["indexer"]["environment"]["SLUICE_ES_FLAVOR"] = "opensearch"
    wl = services["workload"]
    wl["restart"] = "no"
    wl["command"] = list(wl["command"]) + ["-duration", os.environ.get("SLUICE_SMOKE_DURATION", "30s")]
    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    yaml.dump(doc, sys.stdout, Dumper=NoAliases, sort_keys=False)


if __name__ == "__main__":
    main()
