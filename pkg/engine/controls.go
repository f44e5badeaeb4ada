package engine

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// The parts a control may have. Each control file implements some of them.
type (
	podDefaulter interface{ defaultPod(m *mutation) }
	// containerDefaulter defaults one container; m.pod is its pod.
	containerDefaulter interface {
		defaultContainer(m *mutation, ref containerRef)
	}
	podChecker interface {
		checkPod(pod *corev1.Pod, errs field.ErrorList) field.ErrorList
	}
	containerChecker interface {
		checkContainer(pod *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList
	}
)

// provider applies one compiled policy to pods: its controls in the orders
// v1.24's provider used. The orders matter: errors are reported in check
// order, and the runAsNonRoot default depends on the runAsUser default.
type provider struct {
	name                string
	podDefaulters       []podDefaulter
	containerDefaulters []containerDefaulter
	podCheckers         []podChecker
	containerCheckers   []containerChecker
}

// newProvider compiles a policy into its controls. It fails where v1.24's
// provider factory failed (a MustRunAs rule without ranges or SELinux
// options, an unknown rule); v1.24 then skipped the policy.
func newProvider(psp *policyv1.PodSecurityPolicy) (*provider, error) {
	spec := &psp.Spec
	var errs []error
	userRule, err := newRunAsUser(spec.RunAsUser)
	errs = append(errs, err)
	groupRuleName, groupRanges := "RunAsAny", []policyv1.IDRange(nil)
	if spec.RunAsGroup != nil {
		groupRuleName, groupRanges = string(spec.RunAsGroup.Rule), spec.RunAsGroup.Ranges
	}
	runAsGroupRule, err := newGroupRule(groupRuleName, groupRanges)
	errs = append(errs, wrapRule("RunAsGroup", err))
	seLinuxRule, err := newSELinux(spec.SELinux)
	errs = append(errs, err)
	fsGroupRule, err := newGroupRule(string(spec.FSGroup.Rule), spec.FSGroup.Ranges)
	errs = append(errs, wrapRule("FSGroup", err))
	supplementalRule, err := newGroupRule(string(spec.SupplementalGroups.Rule), spec.SupplementalGroups.Ranges)
	errs = append(errs, wrapRule("SupplementalGroups", err))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	allowPrivilegeEscalation := spec.AllowPrivilegeEscalation == nil || *spec.AllowPrivilegeEscalation
	var (
		supGroups   = supplementalGroups{supplementalRule}
		fsGrp       = fsGroup{fsGroupRule}
		seccompCtl  = newSeccomp(psp.Annotations)
		runtimeCls  = runtimeClass{spec.RuntimeClass}
		userCtl     = userRule
		groupCtl    = runAsGroup{runAsGroupRule}
		appArmorCtl = newAppArmor(psp.Annotations)
		capsCtl     = newCapabilities(spec)
		readOnlyFS  = readOnlyRootFilesystem{spec.ReadOnlyRootFilesystem}
		escalation  = privilegeEscalation{defaultAllow: spec.DefaultAllowPrivilegeEscalation, allow: allowPrivilegeEscalation}
		volumesCtl  = newVolumes(spec)
	)
	return &provider{
		name: psp.Name,
		// v1.24 MutatePod: pod-level defaults, then each container.
		podDefaulters:       []podDefaulter{supGroups, fsGrp, seLinuxRule, seccompCtl, runtimeCls},
		containerDefaulters: []containerDefaulter{userCtl, groupCtl, seLinuxRule, appArmorCtl, capsCtl, readOnlyFS, escalation},
		// v1.24 ValidatePod: pod-level checks, then each container.
		podCheckers: []podChecker{
			fsGrp, supGroups, seccompCtl, seLinuxRule,
			hostNamespaces{network: spec.HostNetwork, pid: spec.HostPID, ipc: spec.HostIPC},
			sysctls{allowedUnsafe: newSysctlPatterns(spec.AllowedUnsafeSysctls), forbidden: newSysctlPatterns(spec.ForbiddenSysctls)},
			volumesCtl, runtimeCls,
			// Controls for fields added after v1.24; silent for pods that do not use them.
			newHostProcess(spec.Privileged, spec.HostNetwork), userNamespace{spec.RequireUserNamespace},
		},
		containerCheckers: []containerChecker{
			userCtl, groupCtl, seLinuxRule, appArmorCtl, seccompCtl,
			privileged{spec.Privileged}, newProcMount(spec.AllowedProcMountTypes), capsCtl,
			newHostPorts(spec.HostPorts), readOnlyFS, escalation,
			newHostProcess(spec.Privileged, spec.HostNetwork),
		},
	}, nil
}

func newVolumes(spec *policyv1.PodSecurityPolicySpec) volumes {
	v := volumes{allowed: make(map[policyv1.FSType]bool, len(spec.Volumes)), byType: map[policyv1.FSType]volumeChecker{
		policyv1.HostPath:   hostPaths{spec.AllowedHostPaths},
		policyv1.FlexVolume: flexVolumes{driverNames(spec.AllowedFlexVolumes, func(f policyv1.AllowedFlexVolume) string { return f.Driver })},
		policyv1.CSI:        csiDrivers{driverNames(spec.AllowedCSIDrivers, func(c policyv1.AllowedCSIDriver) string { return c.Name })},
	}}
	for _, t := range spec.Volumes {
		v.allowed[t] = true
	}
	v.allowAll = v.allowed[policyv1.All]
	return v
}

func driverNames[T any](items []T, name func(T) string) []string {
	names := make([]string, len(items))
	for i, item := range items {
		names[i] = name(item)
	}
	return names
}

func wrapRule(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// apply defaults and then validates a pod copy in place, returning the
// changes made and the validation errors. v1.24 defaulted in both phases; the
// validate phase then refuses a policy that changed the pod.
func (p *provider) apply(pod *corev1.Pod) ([]Change, field.ErrorList) {
	m := &mutation{pod: pod}
	for _, d := range p.podDefaulters {
		d.defaultPod(m)
	}
	visitContainers(&pod.Spec, func(ref containerRef) {
		for _, d := range p.containerDefaulters {
			d.defaultContainer(m, ref)
		}
	})
	var errs field.ErrorList
	for _, c := range p.podCheckers {
		errs = c.checkPod(pod, errs)
	}
	visitContainers(&pod.Spec, func(ref containerRef) {
		for _, c := range p.containerCheckers {
			errs = c.checkContainer(pod, ref, errs)
		}
	})
	return m.changes, errs
}
