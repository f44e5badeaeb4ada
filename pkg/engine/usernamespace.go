package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// userNamespace is kube-psp's requireUserNamespace control (a
// policy.kube-psp.io/v1 field; v1.24 had none): the pod must set
// hostUsers: false, so that root in its containers is not root on the node.
// It is not defaulted: user namespaces need node support and change volume
// ownership, so a pod must ask for them.
type userNamespace struct{ required bool }

var hostUsersPath = specPath.Child("hostUsers")

func (u userNamespace) checkPod(pod *corev1.Pod, errs field.ErrorList) field.ErrorList {
	if u.required && (pod.Spec.HostUsers == nil || *pod.Spec.HostUsers) {
		errs = append(errs, field.Invalid(hostUsersPath, pod.Spec.HostUsers, "the policy requires a user namespace: set hostUsers: false"))
	}
	return errs
}
