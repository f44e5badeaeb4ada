#!/usr/bin/env bash
# Runs every check and test of kube-psp. It installs what it needs itself
# (tools from the Go module proxy into .cache/tools; Kubernetes v1.37 and
# etcd for the e2e suite, built from the module proxy and cached in
# ~/.cache/kube-psp), so it works the same on a fresh machine and in CI.
#
#   hack/test.sh                  everything
#   FUZZ_SCALE=10 hack/test.sh    ten times more fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."

STATICCHECK_VERSION=v0.8.2
CONTROLLER_GEN_VERSION=v0.23.0
HELM_VERSION=v4.3.1
# Fuzz budgets are execution counts, not durations: with a duration, Go
# 1.26's fuzz coordinator can fail a run with a spurious "context deadline
# exceeded" at the deadline (golang/go#75804, fixed in Go 1.27).
FUZZ_SCALE=${FUZZ_SCALE:-1}
TOOLS="$PWD/.cache/tools"
mkdir -p "$TOOLS"

step() { printf '\n==> %s\n' "$*"; }

step "go version"
go version

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))
if [ -n "$unformatted" ]; then
	echo "not gofmt-clean:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...
(cd bench && go vet ./...)
(cd bench/psa && go vet ./...)
(cd e2e/kube && go vet ./...)

step "staticcheck $STATICCHECK_VERSION"
[ -x "$TOOLS/staticcheck-$STATICCHECK_VERSION" ] || {
	GOBIN="$TOOLS" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
	mv "$TOOLS/staticcheck" "$TOOLS/staticcheck-$STATICCHECK_VERSION"
}
"$TOOLS/staticcheck-$STATICCHECK_VERSION" ./...

step "generated code is up to date (controller-gen $CONTROLLER_GEN_VERSION)"
[ -x "$TOOLS/controller-gen-$CONTROLLER_GEN_VERSION" ] || {
	GOBIN="$TOOLS" go install "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_GEN_VERSION"
	mv "$TOOLS/controller-gen" "$TOOLS/controller-gen-$CONTROLLER_GEN_VERSION"
}
generated="pkg/apis/policy/v1/zz_generated.deepcopy.go deploy/crds/policy.kube-psp.io_podsecuritypolicies.yaml"
before=$(sha256sum $generated)
"$TOOLS/controller-gen-$CONTROLLER_GEN_VERSION" object crd paths=./pkg/apis/... output:crd:artifacts:config=deploy/crds
if [ "$before" != "$(sha256sum $generated)" ]; then
	echo "generated code or CRD was stale and has been regenerated ($generated): commit it"; exit 1
fi

step "helm $HELM_VERSION; the chart is current, lints, renders, and its pod passes the restricted preset"
[ -x "$TOOLS/helm-$HELM_VERSION" ] || {
	GOBIN="$TOOLS" go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
	mv "$TOOLS/helm" "$TOOLS/helm-$HELM_VERSION"
}
go build -o "$TOOLS/psp" ./cmd/psp
CHART_DIR="$TOOLS/chart"
mkdir -p "$CHART_DIR"
CHART_RENDER_DIR="$CHART_DIR" hack/chart.sh --check "$TOOLS/helm-$HELM_VERSION" "$TOOLS/psp"

step "Kubernetes binaries for the e2e suite (built once per machine, about 13 minutes cold)"
start=$SECONDS
KUBE_BIN=$(hack/kube-binaries.sh)
echo "$KUBE_BIN ($((SECONDS - start))s)"

step "build the v1.24.17 reference plugin (bench/cmd/upstream124)"
(cd bench && go build -o "$TOOLS/upstream124" ./cmd/upstream124)

step "go test (unit, golden, differential against v1.24.17, webhook process, e2e on a real cluster)"
KUBE_PSP_UPSTREAM124="$TOOLS/upstream124" KUBE_PSP_DIFF_CASES="${KUBE_PSP_DIFF_CASES:-10000}" \
KUBE_PSP_E2E_KUBE_BIN="$KUBE_BIN" KUBE_PSP_E2E_CHART_DIR="$CHART_DIR" KUBE_PSP_E2E_PSP="$TOOLS/psp" \
	go test -count=1 ./...

step "fuzz (execution budgets x$FUZZ_SCALE)"
fuzz() { go test -run '^$' -fuzz "^$1\$" -fuzztime "$(($2 * FUZZ_SCALE))x" "$3"; }
fuzz FuzzDecide 100000 ./pkg/engine
fuzz FuzzLoadReader 60000 ./pkg/loader
fuzz FuzzDecodeReview 50000 ./pkg/webhook
fuzz FuzzCreate 300000 ./pkg/jsonpatch

step "main job: psp check -f examples/ (some examples must be denied: exit 1)"
set +e
"$TOOLS/psp" check -f examples/ > /dev/null
code=$?
set -e
[ "$code" -eq 1 ] || { echo "psp check -f examples/ exited $code, want 1"; exit 1; }

echo
echo "all checks passed"
