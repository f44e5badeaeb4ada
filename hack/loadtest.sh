#!/usr/bin/env bash
# Drives psp serve and the Pod Security Admission webhook
# (k8s.io/pod-security-admission's own server, restricted level; built from
# bench/psa) with the same AdmissionReviews (bench/cmd/loadgen's mix), on
# 127.0.0.1, one after the other on the same cores, and prints one table.
# psp serve runs the restricted PSP of the Kubernetes v1.24 docs
# (bench/testdata/restricted-psp.yaml), so both admit and deny the same
# pods at their validating endpoints. Every run is bounded to DURATION.
#   DURATION=10s hack/loadtest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
go build -o "$dir/psp" ./cmd/psp
(cd bench && go build -o "$dir/loadgen" ./cmd/loadgen)
(cd bench/psa && go build -o "$dir/psa-webhook" .)
psp_port=$((20000 + RANDOM % 10000))
psa_port=$((30000 + RANDOM % 10000))
policy=bench/testdata/restricted-psp.yaml
"$dir/psp" serve --dev --dev-dir "$dir/tls" --policies "$policy" --rbac "$policy" \
	--listen "127.0.0.1:$psp_port" --log-level warn > "$dir/psp.log" 2>&1 &
pids+=($!)
ready() { for _ in $(seq 100); do curl -sf --cacert "$dir/tls/ca.crt" "$1" > /dev/null 2>&1 && return 0; sleep 0.1; done; echo "not ready: $1" >&2; cat "$dir"/*.log >&2; exit 1; }
ready "https://127.0.0.1:$psp_port/readyz"
"$dir/psa-webhook" -dir "$dir/tls" -port "$psa_port" > "$dir/psa.log" 2>&1 &
pids+=($!)
ready "https://127.0.0.1:$psa_port/readyz"

load() { "$dir/loadgen" -ca "$dir/tls/ca.crt" -duration "$DURATION" -url "$@"; }
echo "$(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $DURATION per row"
echo
echo "| server | concurrency | rate | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | allowed per pod kind (compliant, defaulted, privileged, 20 containers) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for c in 1 4 16; do
	load "https://127.0.0.1:$psa_port/validate" -concurrency "$c" -row "PSA webhook"
	load "https://127.0.0.1:$psp_port/validate" -concurrency "$c" -row "psp serve /validate"
	load "https://127.0.0.1:$psp_port/mutate" -concurrency "$c" -row "psp serve /mutate"
done
for rate in 300 1000; do
	load "https://127.0.0.1:$psa_port/validate" -concurrency 8 -rate "$rate" -row "PSA webhook"
	load "https://127.0.0.1:$psp_port/validate" -concurrency 8 -rate "$rate" -row "psp serve /validate"
	load "https://127.0.0.1:$psp_port/mutate" -concurrency 8 -rate "$rate" -row "psp serve /mutate"
done
