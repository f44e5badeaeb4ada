// Package differential compares kube-psp's engine with Kubernetes v1.24.17's
// own PodSecurityPolicy admission plugin and RBAC authorizer (run by the
// separate bench module, bench/cmd/upstream124) on many generated policy sets, RBAC
// objects and pods. Its tests build the reference binary themselves.
package differential
