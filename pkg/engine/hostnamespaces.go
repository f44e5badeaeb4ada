package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// hostNamespaces is the hostNetwork, hostPID and hostIPC control. v1.24 kept
// these fields in the internal pod's security context and reported them at
// "spec.securityContext.hostNetwork" etc.; kept.
type hostNamespaces struct{ network, pid, ipc bool }

var (
	hostNetworkPath = podSCPath.Child("hostNetwork")
	hostPIDPath     = podSCPath.Child("hostPID")
	hostIPCPath     = podSCPath.Child("hostIPC")
)

func (h hostNamespaces) checkPod(pod *corev1.Pod, errs field.ErrorList) field.ErrorList {
	if !h.network && pod.Spec.HostNetwork {
		errs = append(errs, field.Invalid(hostNetworkPath, true, "Host network is not allowed to be used"))
	}
	if !h.pid && pod.Spec.HostPID {
		errs = append(errs, field.Invalid(hostPIDPath, true, "Host PID is not allowed to be used"))
	}
	if !h.ipc && pod.Spec.HostIPC {
		errs = append(errs, field.Invalid(hostIPCPath, true, "Host IPC is not allowed to be used"))
	}
	return errs
}
