package engine

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

// PodUsage is what a pod uses of each control, in the terms the controls
// read it: the values a policy must allow for the controls' checks to pass.
// `psp generate` builds the tightest policy from it; the controls' own
// helpers compute it, so that a pod is read here exactly as it is judged.
type PodUsage struct {
	HostNetwork, HostPID, HostIPC bool
	// HostUsers is spec.hostUsers (requireUserNamespace needs false).
	HostUsers *bool
	// Volumes are the pod's volumes, in order.
	Volumes []VolumeUsage
	// FSGroup and SupplementalGroups are the pod-level settings.
	FSGroup            *int64
	SupplementalGroups []int64
	// SELinux is the pod-level seLinuxOptions.
	SELinux *corev1.SELinuxOptions
	// SeccompProfiles are the pod-level seccomp profiles the seccomp control
	// validates, in annotation form ("runtime/default", "localhost/NAME",
	// "unconfined"; "" for none): the annotation or the field, and the
	// field too when it differs from the annotation.
	SeccompProfiles []string
	// Sysctls are the names of spec.securityContext.sysctls; UnsafeSysctls
	// those of them that are not in v1.24's safe set.
	Sysctls, UnsafeSysctls []string
	// RuntimeClassName is spec.runtimeClassName.
	RuntimeClassName *string
	// HostProcess is set when the pod or a container is a Windows
	// HostProcess one (admitted only with privileged and hostNetwork).
	HostProcess bool
	// Containers are the init containers, containers and ephemeral
	// containers, in that order.
	Containers []ContainerUsage
}

// VolumeUsage is one volume.
type VolumeUsage struct {
	Name string
	// Type is the volume type a policy lists; "" for a volume source this
	// build does not know, which only "*" allows.
	Type policyv1.FSType
	// HostPath is the path of a hostPath volume; ReadOnly is set when every
	// mount of the volume, in every container, is read-only.
	HostPath string
	ReadOnly bool
	// Driver is the flexVolume or CSI driver.
	Driver string
}

// ContainerUsage is one container's effective settings (its own, else the
// pod's, where the pod level is inherited).
type ContainerUsage struct {
	Name                     string
	Privileged               bool
	Capabilities             *corev1.Capabilities
	RunAsUser, RunAsGroup    *int64
	RunAsNonRoot             *bool
	SELinux                  *corev1.SELinuxOptions
	ProcMount                corev1.ProcMountType
	ReadOnlyRootFilesystem   *bool
	AllowPrivilegeEscalation *bool
	// SeccompProfile is the profile the seccomp control validates for the
	// container, in annotation form; "" for none.
	SeccompProfile string
	// AppArmorProfile is the container's AppArmor profile in annotation
	// form (field, annotation, else the pod's field); "" for none.
	AppArmorProfile string
	// HostPorts are the non-zero hostPorts of its ports.
	HostPorts []int32
}

// Usage reads what pod uses of every control. pod is the pod as admission
// receives it (podcreate.Create for a manifest's pod).
func Usage(pod *corev1.Pod) PodUsage {
	sc := podSC(pod)
	u := PodUsage{
		HostNetwork: pod.Spec.HostNetwork, HostPID: pod.Spec.HostPID, HostIPC: pod.Spec.HostIPC,
		HostUsers: pod.Spec.HostUsers, FSGroup: sc.FSGroup, SupplementalGroups: sc.SupplementalGroups,
		SELinux: sc.SELinuxOptions, RuntimeClassName: pod.Spec.RuntimeClassName,
		SeccompProfiles: []string{podSeccompProfile(pod)},
	}
	if sp := sc.SeccompProfile; sp != nil {
		if fieldProfile := seccompAnnotationForField(sp); !sameSeccompProfile(fieldProfile, podSeccompProfile(pod)) {
			u.SeccompProfiles = append(u.SeccompProfiles, fieldProfile)
		}
	}
	for _, s := range sc.Sysctls {
		u.Sysctls = append(u.Sysctls, s.Name)
		if !slices.Contains(safeSysctls, s.Name) {
			u.UnsafeSysctls = append(u.UnsafeSysctls, s.Name)
		}
	}
	if wo := sc.WindowsOptions; wo != nil && wo.HostProcess != nil && *wo.HostProcess {
		u.HostProcess = true
	}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		vu := VolumeUsage{Name: v.Name, Type: volumeFSType(v)}
		switch {
		case v.HostPath != nil:
			vu.HostPath, vu.ReadOnly = v.HostPath.Path, mountsReadOnly(pod, v.Name)
		case v.FlexVolume != nil:
			vu.Driver = v.FlexVolume.Driver
		case v.CSI != nil:
			vu.Driver = v.CSI.Driver
		}
		u.Volumes = append(u.Volumes, vu)
	}
	visitContainers(&pod.Spec, func(ref containerRef) {
		csc := containerSC(ref.c)
		cu := ContainerUsage{
			Name:                     ref.c.Name,
			Privileged:               csc.Privileged != nil && *csc.Privileged,
			Capabilities:             csc.Capabilities,
			RunAsUser:                effectiveRunAsUser(pod, ref.c),
			RunAsGroup:               effectiveRunAsGroup(pod, ref.c),
			RunAsNonRoot:             effectiveRunAsNonRoot(pod, ref.c),
			SELinux:                  effectiveSELinuxOptions(pod, ref.c),
			ProcMount:                effectiveProcMount(ref.c),
			ReadOnlyRootFilesystem:   csc.ReadOnlyRootFilesystem,
			AllowPrivilegeEscalation: csc.AllowPrivilegeEscalation,
			SeccompProfile:           containerSeccompProfile(pod, ref.c),
		}
		cu.AppArmorProfile, _ = appArmor{}.containerProfile(pod, ref)
		for _, p := range ref.c.Ports {
			if p.HostPort > 0 {
				cu.HostPorts = append(cu.HostPorts, p.HostPort)
			}
		}
		if wo := csc.WindowsOptions; wo != nil && wo.HostProcess != nil && *wo.HostProcess {
			u.HostProcess = true
		}
		u.Containers = append(u.Containers, cu)
	})
	return u
}

// mountsReadOnly reports whether every mount of the named volume is
// read-only, as the host path control requires of a readOnly path.
func mountsReadOnly(pod *corev1.Pod, volume string) bool {
	readOnly := true
	visitContainers(&pod.Spec, func(ref containerRef) {
		for _, m := range ref.c.VolumeMounts {
			if m.Name == volume && !m.ReadOnly {
				readOnly = false
			}
		}
	})
	return readOnly
}

// SafeSysctls are the sysctls v1.24 allowed without allowedUnsafeSysctls,
// which only forbiddenSysctls can forbid (v1.24
// pkg/security/podsecuritypolicy/sysctl/mustmatchpatterns.go SafeSysctlAllowlist).
func SafeSysctls() []string { return slices.Clone(safeSysctls) }
