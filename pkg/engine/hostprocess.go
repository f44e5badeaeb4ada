package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// hostProcess governs windowsOptions.hostProcess (added after v1.24): a
// Windows HostProcess container runs as a process on the node with the
// node's network, as powerful as a privileged container. Only a policy that
// allows both privileged containers and host network admits it.
type hostProcess struct{ allowed bool }

const hostProcessDetail = "HostProcess containers are not allowed: they need a policy that allows privileged containers and hostNetwork"

func newHostProcess(privileged, hostNetwork bool) hostProcess {
	return hostProcess{allowed: privileged && hostNetwork}
}

func (h hostProcess) checkPod(pod *corev1.Pod, errs field.ErrorList) field.ErrorList {
	if wo := podSC(pod).WindowsOptions; !h.allowed && wo != nil && wo.HostProcess != nil && *wo.HostProcess {
		errs = append(errs, field.Invalid(podSCPath.Child("windowsOptions", "hostProcess"), true, hostProcessDetail))
	}
	return errs
}

func (h hostProcess) checkContainer(_ *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	if wo := containerSC(ref.c).WindowsOptions; !h.allowed && wo != nil && wo.HostProcess != nil && *wo.HostProcess {
		errs = append(errs, field.Invalid(ref.sc.Child("windowsOptions", "hostProcess"), true, hostProcessDetail))
	}
	return errs
}
