#!/usr/bin/env bash
# The project's test suite: the grok conformance run on the shared corpus,
# then every module's tests with the race detector, including the
# end-to-end suites (embedded Kafka always; real Kafka and a real search
# engine where Java and Maven exist, and with them a three-broker SASL_SSL
# Kafka cluster and Elasticsearch 8, each started only by the test that
# needs it), then the TestAPIServer* tests against a real kube-apiserver
# (built in the background meanwhile). CI runs exactly this through
# `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
TIMEOUT=${TEST_TIMEOUT:-15m}
export SLUICE_REAL_INFRA=${SLUICE_REAL_INFRA:-1}

# The Kubernetes control plane for the TestAPIServer* tests (envtest: etcd
# and kube-apiserver): the first run on a machine builds kube-apiserver from
# the Go module proxy, which takes minutes, so it is built now, alongside
# the other tests, and those tests run in a second pass once it is done.
k8s_pid=
if [ "$SLUICE_REAL_INFRA" = 1 ]; then
	k8s_start=$SECONDS
	(bash scripts/infra/k8s-up.sh >/tmp/sluice-k8s-up.log 2>&1 || true) &
	k8s_pid=$!
fi

corpus=${SLUICE_CORPUS:-../shared/corpus}
if [ -f "$corpus/grok/spec_cases.jsonl" ]; then
	summary=$($GO run ./services/parser/cmd/grokcheck -cases "$corpus/grok/spec_cases.jsonl" | tail -n 1)
	echo "grok conformance on the shared spec cases — $summary"
else
	echo "grok conformance skipped: no shared corpus at $corpus (set SLUICE_CORPUS)"
fi
if [ -f "$corpus/multiline/cases.jsonl" ]; then
	# Fails the suite below 100 %: multilinecheck exits 1 on any failed case
	# after printing each failure.
	out=$(mktemp)
	mrc=0
	$GO run ./services/shipper/cmd/multilinecheck -cases "$corpus/multiline/cases.jsonl" >"$out" 2>&1 || mrc=$?
	[ "$mrc" = 0 ] || cat "$out"
	echo "multiline conformance on the shared cases — $(tail -n 1 "$out")"
	rm -f "$out"
	[ "$mrc" = 0 ] || exit "$mrc"
else
	echo "multiline conformance skipped: no shared corpus at $corpus (set SLUICE_CORPUS)"
fi

# Real Kafka and a real search engine for the real-infrastructure suite:
# start them now so the JVMs boot while the tests compile (the tests' own
# calls wait on the scripts' locks and reuse them), and stop them at the end.
if [ "$SLUICE_REAL_INFRA" = 1 ] && command -v java >/dev/null && command -v javac >/dev/null && command -v mvn >/dev/null; then
	trap 'bash scripts/infra/infra-down.sh >/dev/null 2>&1 || true' EXIT
	(bash scripts/infra/kafka-up.sh >/tmp/sluice-kafka-up.log 2>&1 || true) &
	(bash scripts/infra/search-up.sh >/tmp/sluice-search-up.log 2>&1 || true) &
fi

# Allocation tests need the race detector off (it makes sync.Pool drop items).
$GO test -count=1 -run 'Allocs' ./services/parser/internal/grok/

pkgs=()
for m in proto libs services/shipper services/parser services/indexer services/sluicectl loadtest deploy; do
	pkgs+=("./$m/...")
done
rc=0
$GO test -race -count=1 -timeout "$TIMEOUT" -skip '^TestAPIServer' "${pkgs[@]}" || rc=$?

# Second pass: the tests against a real kube-apiserver. Without the binaries
# (and SLUICE_REAL_INFRA unset) they skip, saying why.
if [ -n "$k8s_pid" ]; then
	wait "$k8s_pid" || true
	echo "kubernetes control plane ready after $((SECONDS - k8s_start)) s: $(tail -n 1 /tmp/sluice-k8s-up.log)"
	grep -h '^k8s-up: built' /tmp/sluice-k8s-up.log || true
fi
$GO test -race -count=1 -timeout "$TIMEOUT" -run '^TestAPIServer' ./services/shipper/internal/kube/ ./deploy/ || rc=$?
exit $rc
