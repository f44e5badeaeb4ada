#!/usr/bin/env bash
# Keeps the Helm chart's generated parts current and checks the chart:
#   - deploy/helm/kube-psp/crds is deploy/crds (the CRD controller-gen makes);
#   - deploy/helm/kube-psp/files/presets is `psp init --preset ...`;
#   - deploy/manifests/kube-psp.yaml is the chart rendered for kubectl apply
#     (certificates from cert-manager, so the output is reproducible);
#   - helm lint, and helm template with every certificate source and preset.
#
#   hack/chart.sh HELM PSP            regenerate
#   hack/chart.sh --check HELM PSP    fail if anything was stale (CI)
# With $CHART_RENDER_DIR set, leaves the chart rendered there for the e2e
# suite: kube-psp-chart.yaml (defaults) and kube-psp-chart-sar.yaml
# (authorization=subjectaccessreview).
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
helm=${1:?usage: hack/chart.sh [--check] HELM PSP}
psp=${2:?usage: hack/chart.sh [--check] HELM PSP}
chart=deploy/helm/kube-psp

generated="$chart/crds/policy.kube-psp.io_podsecuritypolicies.yaml deploy/manifests/kube-psp.yaml"
for p in restricted baseline privileged eks; do generated+=" $chart/files/presets/$p.yaml"; done
fingerprint() { for f in $generated; do sha256sum "$f" 2>/dev/null || echo "missing $f"; done; }
before=$(fingerprint)

cp deploy/crds/policy.kube-psp.io_podsecuritypolicies.yaml "$chart/crds/"
for p in restricted baseline privileged eks; do "$psp" init --preset "$p" > "$chart/files/presets/$p.yaml"; done
mkdir -p deploy/manifests
{
	echo "# kube-psp for kubectl apply: the Helm chart deploy/helm/kube-psp rendered by"
	echo "# hack/chart.sh (release kube-psp, namespace kube-psp, certificates from"
	echo "# cert-manager). Apply the namespace and the CRD first; see docs/install.md."
	echo "---"
	echo "apiVersion: v1"
	echo "kind: Namespace"
	echo "metadata:"
	echo "  name: kube-psp"
	"$helm" template kube-psp "$chart" --namespace kube-psp --include-crds --set certificates.source=cert-manager
} > deploy/manifests/kube-psp.yaml

if [ "$check" = 1 ] && [ "$before" != "$(fingerprint)" ]; then
	git status --short -- $generated
	echo "the chart's generated files were stale and have been regenerated: commit them"; exit 1
fi

"$helm" lint --strict "$chart"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$helm" template kube-psp "$chart" -n kube-psp > "$out/generate.yaml"
"$helm" template kube-psp "$chart" -n kube-psp --set certificates.source=secret,certificates.secretName=tls,certificates.caBundle=Cg== > "$out/secret.yaml"
"$helm" template kube-psp "$chart" -n kube-psp --set authorization=subjectaccessreview,mode=warn,presets.install=true,presets.grant=eks > "$out/sar.yaml"
grep -q "kind: SubjectAccessReview\|subjectaccessreviews" "$out/sar.yaml"
grep -q "name: eks.privileged" "$out/sar.yaml"
# Bad values are refused with a message naming them.
if "$helm" template kube-psp "$chart" --set mode=strict > /dev/null 2> "$out/err"; then echo "mode=strict was accepted"; exit 1; fi
grep -q 'mode must be enforce, warn or audit' "$out/err"
# Generated certificates: one CA, in the Secret and in every caBundle.
[ "$(grep -o 'caBundle: .*' "$out/generate.yaml" | sort -u | wc -l)" = 1 ] || { echo "caBundles differ"; exit 1; }
ca=$(grep -m1 -o 'caBundle: .*' "$out/generate.yaml" | cut -d' ' -f2)
grep -q "ca.crt: $ca" "$out/generate.yaml" || { echo "the Secret's ca.crt is not the caBundle"; exit 1; }
# kube-psp's own pod passes the restricted policy (created by the
# replicaset controller, with kube-psp's ServiceAccount).
"$psp" check --preset restricted -f "$out/generate.yaml" -o json > "$out/check.json" || { cat "$out/check.json"; echo "the chart's pods are not admitted by the restricted preset"; exit 1; }
if [ -n "${CHART_RENDER_DIR:-}" ]; then
	cp "$out/generate.yaml" "$CHART_RENDER_DIR/kube-psp-chart.yaml"
	cp "$out/sar.yaml" "$CHART_RENDER_DIR/kube-psp-chart-sar.yaml"
fi
echo "chart ok"
