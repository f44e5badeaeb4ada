//go:build tools

// The commands the e2e suite builds, imported here so that go.mod and go.sum
// cover every package they need (hack/kube-binaries.sh builds them).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
