#!/usr/bin/env bash
# Builds the real Kubernetes components the e2e suite runs (kube-apiserver,
# kube-controller-manager, kubectl at the version e2e/kube/go.mod requires)
# and etcd, through the Go module proxy, and prints the directory holding
# them. Binaries are cached outside the checkout, keyed by go.mod, go.sum and
# the Go version, so only the first run on a machine pays for the build
# (about 13 minutes cold on 2 cores).
#
#   hack/kube-binaries.sh            build if needed, print the directory
#   KUBE_PSP_KUBE_CACHE=DIR ...      cache root (default ~/.cache/kube-psp)
set -euo pipefail
cd "$(dirname "$0")/../e2e/kube"

version=$(awk '{ m = $1; v = $2 } $1 == "require" { m = $2; v = $3 } m == "k8s.io/kubernetes" && v ~ /^v/ { print v; exit }' go.mod)
[ -n "$version" ] || { echo "e2e/kube/go.mod: no 'require k8s.io/kubernetes vX.Y.Z' line" >&2; exit 1; }
key=$( (cat go.mod go.sum etcd/main.go; go version) | sha256sum | cut -c1-12)
root=${KUBE_PSP_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-psp}
dir="$root/kube-$version-$key"
commands="kube-apiserver kube-controller-manager kubectl etcd"

complete=1
for c in $commands; do [ -x "$dir/$c" ] || complete=0; done
if [ "$complete" = 1 ]; then echo "$dir"; exit 0; fi

# The version the binaries report (kubectl version, /version), as
# Kubernetes' own hack/lib/version.sh sets it.
major=${version#v}; major=${major%%.*}
minor=${version#v*.}; minor=${minor%%.*}
commit=$(go mod download -json "k8s.io/kubernetes@$version" | awk -F'"' '/"Origin"/{o=1} o && /"Hash"/{print $4; exit}')
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
	ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
	[ -z "$commit" ] || ldflags+=" -X $pkg.gitCommit=$commit"
done

mkdir -p "$root"
tmp=$(mktemp -d "$root/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for c in $commands; do
	pkg=k8s.io/kubernetes/cmd/$c
	[ "$c" = etcd ] && pkg=./etcd
	start=$SECONDS
	echo "building $c $version ..." >&2
	CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/$c" "$pkg"
	echo "built $c in $((SECONDS - start))s" >&2
done
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "$dir"
