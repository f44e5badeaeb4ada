#!/usr/bin/env bash
# The scale test of issue 14 (e2e/scale_test.go, TestScale) at the sizes
# given, each on a fresh cluster (etcd, kube-apiserver and
# kube-controller-manager v1.37.2 on 127.0.0.1), printing one table a size.
#
#   hack/scale.sh                                     the three sizes of docs/performance.md
#   hack/scale.sh 100/5000/500                        one size: policies/bindings/namespaces
#   KUBE_PSP_SCALE_SERVE_ARGS="--sar-qps 5000" hack/scale.sh 100/5000/500
#                                                     with flags added to psp serve
#   KUBE_PSP_SCALE_MODES=rbac hack/scale.sh 500/20000/2000
#                                                     one --authorization mode only
#
# Needs helm at .cache/tools/helm-v4.3.1 (hack/test.sh installs it) to
# render the chart whose RBAC psp serve runs with.
set -euo pipefail
cd "$(dirname "$0")/.."
HELM=${HELM:-.cache/tools/helm-v4.3.1}
[ -x "$HELM" ] || { echo "no helm at $HELM: run hack/test.sh once, or set HELM" >&2; exit 1; }
[ $# -gt 0 ] || set -- 10/100/10 100/5000/500 500/20000/2000

KUBE_BIN=$(hack/kube-binaries.sh)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
go build -o "$WORK/psp" ./cmd/psp
mkdir -p "$WORK/chart"
CHART_RENDER_DIR="$WORK/chart" hack/chart.sh --check "$HELM" "$WORK/psp" >/dev/null

for size in "$@"; do
	echo "==> $size"
	KUBE_PSP_SCALE=$size KUBE_PSP_E2E_KUBE_BIN="$KUBE_BIN" KUBE_PSP_E2E_CHART_DIR="$WORK/chart" KUBE_PSP_E2E_PSP="$WORK/psp" \
		go test -count=1 -v -timeout 90m -run '^TestScale$' ./e2e/
done
