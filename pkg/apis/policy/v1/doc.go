// Package v1 holds kube-psp's PodSecurityPolicy API: group policy.kube-psp.io,
// version v1, kind PodSecurityPolicy (cluster-scoped).
//
// The spec is field for field, JSON name for JSON name, the spec of the
// policy/v1beta1 PodSecurityPolicy that Kubernetes v1.24 served (and of its
// older extensions/v1beta1 twin), so an old policy YAML decodes into these
// types unchanged. Only the group and version in apiVersion differ.
//
// +kubebuilder:object:generate=true
// +groupName=policy.kube-psp.io
package v1
