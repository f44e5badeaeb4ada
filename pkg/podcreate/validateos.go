package podcreate

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// ValidateOS returns the errors the v1.37 apiserver's pod validation gives
// a pod for fields its spec.os.name rules out
// (pkg/apis/core/validation/validation.go, ValidatePodSpec calling
// validateWindows and validateLinux), in that function's order: on a
// Windows pod, the Linux-only security fields of the pod and of every init,
// regular and ephemeral container (pkg/apis/core/pods VisitContainersWithPath)
// and hostUsers, hostPID, hostIPC and shareProcessNamespace; on a Linux pod,
// windowsOptions. A pod without spec.os has none. The apiserver validates
// after mutating admission, so a PodSecurityPolicy that sets a Linux-only
// field (fsGroup, seccompProfile, ...) on a Windows pod makes it invalid:
// the pod is never created. Each error renders as the apiserver's, e.g.
// `spec.securityContext.seccompProfile: Forbidden: cannot be set for a
// windows pod`.
func ValidateOS(pod *corev1.Pod) field.ErrorList {
	if pod.Spec.OS == nil {
		return nil
	}
	switch pod.Spec.OS.Name {
	case corev1.Windows:
		return validateWindows(&pod.Spec)
	case corev1.Linux:
		return validateLinux(&pod.Spec)
	}
	return nil
}

// InvalidMessage is the apiserver's error for a pod its validation refuses
// (k8s.io/apimachinery v0.37 pkg/api/errors NewInvalid, with
// pkg/util/errors' aggregate: one error as is, several in brackets, repeats
// once): `Pod "NAME" is invalid: ...`. A pod created with generateName is
// named by the apiserver with five random characters, written xxxxx here.
func InvalidMessage(pod *corev1.Pod, errs field.ErrorList) string {
	name := pod.Name
	if name == "" {
		name = pod.GenerateName + "xxxxx"
	}
	var msgs []string
	for _, e := range errs {
		if m := e.Error(); !slices.Contains(msgs, m) {
			msgs = append(msgs, m)
		}
	}
	text := ""
	switch len(msgs) {
	case 0:
		return fmt.Sprintf("Pod %q is invalid", name)
	case 1:
		text = msgs[0]
	default:
		text = "[" + strings.Join(msgs, ", ") + "]"
	}
	return fmt.Sprintf("Pod %q is invalid: %s", name, text)
}

const forWindows = "cannot be set for a windows pod"

func validateWindows(spec *corev1.PodSpec) field.ErrorList {
	var errs field.ErrorList
	specPath := field.NewPath("spec")
	forbid := func(p *field.Path, set bool) {
		if set {
			errs = append(errs, field.Forbidden(p, forWindows))
		}
	}
	if sc := spec.SecurityContext; sc != nil {
		p := specPath.Child("securityContext")
		forbid(p.Child("appArmorProfile"), sc.AppArmorProfile != nil)
		forbid(p.Child("seLinuxOptions"), sc.SELinuxOptions != nil)
		forbid(p.Child("seccompProfile"), sc.SeccompProfile != nil)
		forbid(p.Child("fsGroup"), sc.FSGroup != nil)
		forbid(p.Child("fsGroupChangePolicy"), sc.FSGroupChangePolicy != nil)
		forbid(p.Child("sysctls"), len(sc.Sysctls) > 0)
		forbid(p.Child("runAsUser"), sc.RunAsUser != nil)
		forbid(p.Child("runAsGroup"), sc.RunAsGroup != nil)
		forbid(p.Child("supplementalGroups"), sc.SupplementalGroups != nil)
		forbid(p.Child("supplementalGroupsPolicy"), sc.SupplementalGroupsPolicy != nil)
		forbid(p.Child("seLinuxChangePolicy"), sc.SELinuxChangePolicy != nil)
	}
	forbid(specPath.Child("hostUsers"), spec.HostUsers != nil)
	forbid(specPath.Child("hostPID"), spec.HostPID)
	forbid(specPath.Child("hostIPC"), spec.HostIPC)
	forbid(specPath.Child("shareProcessNamespace"), spec.ShareProcessNamespace != nil)
	visitContainers(spec, func(sc *corev1.SecurityContext, c *field.Path) {
		if sc == nil {
			return
		}
		p := c.Child("securityContext")
		forbid(p.Child("appArmorProfile"), sc.AppArmorProfile != nil)
		forbid(p.Child("seLinuxOptions"), sc.SELinuxOptions != nil)
		forbid(p.Child("seccompProfile"), sc.SeccompProfile != nil)
		forbid(p.Child("capabilities"), sc.Capabilities != nil)
		forbid(p.Child("readOnlyRootFilesystem"), sc.ReadOnlyRootFilesystem != nil)
		forbid(p.Child("privileged"), sc.Privileged != nil)
		forbid(p.Child("allowPrivilegeEscalation"), sc.AllowPrivilegeEscalation != nil)
		forbid(p.Child("procMount"), sc.ProcMount != nil)
		forbid(p.Child("runAsUser"), sc.RunAsUser != nil)
		forbid(p.Child("runAsGroup"), sc.RunAsGroup != nil)
	})
	return errs
}

func validateLinux(spec *corev1.PodSpec) field.ErrorList {
	const forLinux = "windows options cannot be set for a linux pod"
	var errs field.ErrorList
	if sc := spec.SecurityContext; sc != nil && sc.WindowsOptions != nil {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "securityContext", "windowsOptions"), forLinux))
	}
	visitContainers(spec, func(sc *corev1.SecurityContext, c *field.Path) {
		if sc != nil && sc.WindowsOptions != nil {
			errs = append(errs, field.Forbidden(c.Child("securityContext", "windowsOptions"), forLinux))
		}
	})
	return errs
}

// visitContainers calls visit with the security context and path of every
// init, regular and ephemeral container, in that order (v1.37
// pkg/apis/core/pods VisitContainersWithPath).
func visitContainers(spec *corev1.PodSpec, visit func(*corev1.SecurityContext, *field.Path)) {
	for i := range spec.InitContainers {
		visit(spec.InitContainers[i].SecurityContext, field.NewPath("spec", "initContainers").Index(i))
	}
	for i := range spec.Containers {
		visit(spec.Containers[i].SecurityContext, field.NewPath("spec", "containers").Index(i))
	}
	for i := range spec.EphemeralContainers {
		visit(spec.EphemeralContainers[i].SecurityContext, field.NewPath("spec", "ephemeralContainers").Index(i))
	}
}
