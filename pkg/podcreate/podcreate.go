// Package podcreate is the pod a Kubernetes v1.37 apiserver hands to
// mutating admission on CREATE: it turns a manifest's bare Pod, or a
// workload's pod template as its controller instantiates it, into the pod
// PodSecurityPolicy's admit phase receives, and the admitted pod into the one
// its validate phase receives.
//
// The steps, in the apiserver's order (each function names its upstream
// source, read as reference only):
//
//  1. FromTemplate: what a workload's controller sets on the pod it creates
//     (name or generateName, namespace, owner reference) and who creates it
//     (ControllerUser).
//  2. Default: the v1 defaults of every field a PodSecurityPolicy control
//     reads or whose default changes a control's outcome, and the deprecated
//     spec.serviceAccount alias. Inventory lists them.
//  3. AdmitServiceAccount: the ServiceAccount admission plugin.
//  4. (PodSecurityPolicy's admit phase, in package engine.)
//  5. PrepareForCreate: what the pod registry changes between mutating and
//     validating admission.
//  6. ValidateOS: the pod registry's validation of the fields spec.os.name
//     rules out, which refuses a pod before validating admission.
//
// Create runs steps 2 and 3. The webhook does not use this package: the
// apiserver has already done all of it to the pods it receives. It must not
// import k8s.io/kubernetes, and it decides nothing about policies.
package podcreate

import (
	corev1 "k8s.io/api/core/v1"
)

// Create returns the pod a v1.37 apiserver hands to mutating admission (so
// to PodSecurityPolicy's admit phase) when pod is created: a deep copy,
// defaulted (Default) and passed through the ServiceAccount admission plugin
// (AdmitServiceAccount with sa, the pod's ServiceAccount object or nil when
// unknown). pod must have its namespace set. Create is
// idempotent: a pod read back from a cluster comes out unchanged, except for
// a token volume or mount that was removed from it.
func Create(pod *corev1.Pod, sa *corev1.ServiceAccount) *corev1.Pod {
	p := pod.DeepCopy()
	Default(p)
	AdmitServiceAccount(p, sa)
	return p
}
