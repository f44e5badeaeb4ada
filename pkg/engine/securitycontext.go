package engine

import (
	corev1 "k8s.io/api/core/v1"
)

// Effective values of a container's security context: the container's own
// setting, else the pod's, for the fields where the pod level is inherited
// (as v1.24's effective security context accessor).

func podSC(pod *corev1.Pod) *corev1.PodSecurityContext {
	if pod.Spec.SecurityContext == nil {
		return &emptyPodSC
	}
	return pod.Spec.SecurityContext
}

func containerSC(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		return &emptyContainerSC
	}
	return c.SecurityContext
}

// Shared read-only zero values; never written to.
var (
	emptyPodSC       corev1.PodSecurityContext
	emptyContainerSC corev1.SecurityContext
)

func effectiveRunAsUser(pod *corev1.Pod, c *corev1.Container) *int64 {
	if v := containerSC(c).RunAsUser; v != nil {
		return v
	}
	return podSC(pod).RunAsUser
}

func effectiveRunAsGroup(pod *corev1.Pod, c *corev1.Container) *int64 {
	if v := containerSC(c).RunAsGroup; v != nil {
		return v
	}
	return podSC(pod).RunAsGroup
}

func effectiveRunAsNonRoot(pod *corev1.Pod, c *corev1.Container) *bool {
	if v := containerSC(c).RunAsNonRoot; v != nil {
		return v
	}
	return podSC(pod).RunAsNonRoot
}

func effectiveSELinuxOptions(pod *corev1.Pod, c *corev1.Container) *corev1.SELinuxOptions {
	if v := containerSC(c).SELinuxOptions; v != nil {
		return v
	}
	return podSC(pod).SELinuxOptions
}

// effectiveProcMount is the container's procMount, "Default" when unset.
func effectiveProcMount(c *corev1.Container) corev1.ProcMountType {
	if v := containerSC(c).ProcMount; v != nil {
		return *v
	}
	return corev1.DefaultProcMount
}
