package generate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/engine"
)

// tightest is the tightest policy for some pods.
type tightest struct {
	spec        policyv1.PodSecurityPolicySpec
	annotations map[string]string
	// notes say where the policy allows more than the pods use.
	notes []string
	// err says why no policy of the API version admits the pods unchanged.
	err string
}

// tightestFor builds, control by control, the tightest policy that admits
// every pod of usages unchanged: each allowance is exactly what some pod
// uses, each requirement what every pod already satisfies, and no default
// that would change a pod. Where v1.24's controls cannot say "only what is
// used" (a seccomp profile set on some containers only, AppArmor profiles
// set on some containers only), the policy allows the least that admits the
// pods and a note says so.
func tightestFor(usages []engine.PodUsage, apiVersion string) tightest {
	t := tightest{annotations: map[string]string{}}
	s := &t.spec
	var containers []engine.ContainerUsage
	for _, u := range usages {
		containers = append(containers, u.Containers...)
	}

	// Host namespaces and Windows HostProcess (which needs privileged and
	// hostNetwork).
	hostProcess := false
	for _, u := range usages {
		s.HostNetwork = s.HostNetwork || u.HostNetwork
		s.HostPID = s.HostPID || u.HostPID
		s.HostIPC = s.HostIPC || u.HostIPC
		hostProcess = hostProcess || u.HostProcess
	}
	for _, c := range containers {
		s.Privileged = s.Privileged || c.Privileged
	}
	if hostProcess && !(s.Privileged && s.HostNetwork) {
		s.Privileged, s.HostNetwork = true, true
		t.notes = append(t.notes, "privileged and hostNetwork are allowed because a Windows HostProcess pod is admitted only by a policy that allows both")
	}

	// Host ports: each port used, as a range of one.
	var ports []int64
	for _, c := range containers {
		for _, p := range c.HostPorts {
			ports = append(ports, int64(p))
		}
	}
	for _, r := range exactRanges(ports) {
		s.HostPorts = append(s.HostPorts, policyv1.HostPortRange{Min: int32(r.Min), Max: int32(r.Max)})
	}

	t.volumes(usages, apiVersion)
	t.capabilities(containers)
	t.users(containers)
	t.groups(usages, containers)
	t.seLinux(usages, containers)
	t.seccomp(usages, containers)
	t.appArmor(containers)
	t.sysctls(usages)

	// procMount: the types used besides Default (empty allows Default only).
	var procMounts []corev1.ProcMountType
	for _, c := range containers {
		if c.ProcMount != corev1.DefaultProcMount && !slices.Contains(procMounts, c.ProcMount) {
			procMounts = append(procMounts, c.ProcMount)
		}
	}
	if len(procMounts) > 0 {
		s.AllowedProcMountTypes = append([]corev1.ProcMountType{corev1.DefaultProcMount}, sorted(procMounts)...)
	}

	// readOnlyRootFilesystem when every container has it.
	s.ReadOnlyRootFilesystem = len(containers) > 0 && all(containers, func(c engine.ContainerUsage) bool {
		return c.ReadOnlyRootFilesystem != nil && *c.ReadOnlyRootFilesystem
	})

	// allowPrivilegeEscalation false when every container says false; else
	// allowed, with defaultAllowPrivilegeEscalation false when every
	// container says something (so the default changes none of them and
	// keeps new containers from escalating).
	noEscalation := all(containers, func(c engine.ContainerUsage) bool {
		return c.AllowPrivilegeEscalation != nil && !*c.AllowPrivilegeEscalation
	})
	s.AllowPrivilegeEscalation = ptr(!noEscalation)
	if !noEscalation && all(containers, func(c engine.ContainerUsage) bool { return c.AllowPrivilegeEscalation != nil }) {
		s.DefaultAllowPrivilegeEscalation = ptr(false)
	}

	// runtimeClass: the names used (none allowed when no pod names one).
	names := []string{}
	for _, u := range usages {
		if u.RuntimeClassName != nil && !slices.Contains(names, *u.RuntimeClassName) {
			names = append(names, *u.RuntimeClassName)
		}
	}
	s.RuntimeClass = &policyv1.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: append([]string{}, sorted(names)...)}

	// requireUserNamespace (policy.kube-psp.io/v1 only) when every pod runs
	// in a user namespace.
	if all(usages, func(u engine.PodUsage) bool { return u.HostUsers != nil && !*u.HostUsers }) {
		if apiVersion == policyv1.APIVersion {
			s.RequireUserNamespace = true
		} else {
			t.notes = append(t.notes, fmt.Sprintf("a user namespace is not required although every pod runs in one: requireUserNamespace needs --api-version %s", policyv1.APIVersion))
		}
	}
	if len(t.annotations) == 0 {
		t.annotations = nil
	}
	return t
}

// volumes: the types used; host paths, flexVolume and CSI drivers exactly.
func (t *tightest) volumes(usages []engine.PodUsage, apiVersion string) {
	s := &t.spec
	var types []policyv1.FSType
	type hostPath struct {
		path     string
		readOnly bool
	}
	var paths []hostPath
	var flex, csi []string
	unknown := false
	for _, u := range usages {
		for _, v := range u.Volumes {
			switch v.Type {
			case "":
				unknown = true
				continue
			case policyv1.HostPath:
				i := slices.IndexFunc(paths, func(p hostPath) bool { return p.path == v.HostPath })
				if i < 0 {
					paths = append(paths, hostPath{v.HostPath, v.ReadOnly})
				} else {
					paths[i].readOnly = paths[i].readOnly && v.ReadOnly
				}
			case policyv1.FlexVolume:
				if !slices.Contains(flex, v.Driver) {
					flex = append(flex, v.Driver)
				}
			case policyv1.CSI:
				if !slices.Contains(csi, v.Driver) {
					csi = append(csi, v.Driver)
				}
			}
			if !slices.Contains(types, v.Type) {
				types = append(types, v.Type)
			}
		}
	}
	switch {
	case unknown:
		s.Volumes = []policyv1.FSType{policyv1.All}
		t.notes = append(t.notes, "volumes: '*' because a volume has a source this build does not know, which only '*' allows")
	case slices.ContainsFunc(types, func(f policyv1.FSType) bool { return slices.Contains(policyv1.ExtensionFSTypes, f) }) && apiVersion != policyv1.APIVersion:
		t.err = fmt.Sprintf("its pods use volume types added after v1.24 (%s), which a %s policy allows only with volumes: ['*']: use --api-version %s", joinFSTypes(policyv1.ExtensionFSTypes), apiVersion, policyv1.APIVersion)
		return
	default:
		// An empty list allows no volume at all.
		s.Volumes = sorted(types)
		if s.Volumes == nil {
			s.Volumes = []policyv1.FSType{}
		}
	}
	slices.SortFunc(paths, func(a, b hostPath) int { return cmp.Compare(a.path, b.path) })
	for _, p := range paths {
		s.AllowedHostPaths = append(s.AllowedHostPaths, policyv1.AllowedHostPath{PathPrefix: p.path, ReadOnly: p.readOnly})
	}
	for _, d := range sorted(flex) {
		s.AllowedFlexVolumes = append(s.AllowedFlexVolumes, policyv1.AllowedFlexVolume{Driver: d})
	}
	for _, d := range sorted(csi) {
		s.AllowedCSIDrivers = append(s.AllowedCSIDrivers, policyv1.AllowedCSIDriver{Name: d})
	}
}

func joinFSTypes(types []policyv1.FSType) string {
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// capabilities: the ones added; required drops are the drops every
// container makes (ALL when all drop ALL), less any capability some
// container adds (v1.24 validation refuses a capability both allowed and
// required to be dropped).
func (t *tightest) capabilities(containers []engine.ContainerUsage) {
	var added []corev1.Capability
	var common []corev1.Capability
	for i, c := range containers {
		var add, drop []corev1.Capability
		if c.Capabilities != nil {
			add, drop = c.Capabilities.Add, c.Capabilities.Drop
		}
		for _, a := range add {
			if !slices.Contains(added, a) {
				added = append(added, a)
			}
		}
		if i == 0 {
			common = slices.Clone(drop)
		} else {
			common = slices.DeleteFunc(common, func(d corev1.Capability) bool { return !slices.Contains(drop, d) })
		}
	}
	common = slices.DeleteFunc(common, func(d corev1.Capability) bool { return slices.Contains(added, d) })
	t.spec.AllowedCapabilities = sorted(added)
	t.spec.RequiredDropCapabilities = sorted(dedupe(common))
}

// users: MustRunAs the exact UIDs when every container sets one;
// MustRunAsNonRoot when the others all say runAsNonRoot and none runs as
// root; else RunAsAny (some container runs as its image's user, which may
// be root).
func (t *tightest) users(containers []engine.ContainerUsage) {
	s := &t.spec
	var uids []int64
	allSet, nonRoot := true, true
	for _, c := range containers {
		if c.RunAsUser != nil {
			uids = append(uids, *c.RunAsUser)
			if *c.RunAsUser == 0 {
				nonRoot = false
			}
		} else {
			allSet = false
			if c.RunAsNonRoot == nil || !*c.RunAsNonRoot {
				nonRoot = false
			}
		}
		if c.RunAsNonRoot != nil && !*c.RunAsNonRoot {
			nonRoot = false
		}
	}
	switch {
	case allSet && len(uids) > 0:
		s.RunAsUser = policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAs, Ranges: exactRanges(uids)}
	case nonRoot && len(containers) > 0:
		s.RunAsUser = policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAsNonRoot}
	default:
		s.RunAsUser = policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyRunAsAny}
	}
}

// groups: runAsGroup, fsGroup and supplementalGroups each MustRunAs the
// exact IDs when every container (pod) sets them, MayRunAs the IDs set when
// some do (MayRunAs never defaults), RunAsAny when none does: a range
// cannot say "none".
func (t *tightest) groups(usages []engine.PodUsage, containers []engine.ContainerUsage) {
	s := &t.spec
	var ids []int64
	set := 0
	for _, c := range containers {
		if c.RunAsGroup != nil {
			ids = append(ids, *c.RunAsGroup)
			set++
		}
	}
	rule, ranges := groupRule(set, len(containers), ids)
	if rule != "RunAsAny" {
		s.RunAsGroup = &policyv1.RunAsGroupStrategyOptions{Rule: policyv1.RunAsGroupStrategy(rule), Ranges: ranges}
	}

	ids, set = nil, 0
	for _, u := range usages {
		if u.FSGroup != nil {
			ids = append(ids, *u.FSGroup)
			set++
		}
	}
	rule, ranges = groupRule(set, len(usages), ids)
	s.FSGroup = policyv1.FSGroupStrategyOptions{Rule: policyv1.FSGroupStrategyType(rule), Ranges: ranges}

	ids, set = nil, 0
	for _, u := range usages {
		if len(u.SupplementalGroups) > 0 {
			ids = append(ids, u.SupplementalGroups...)
			set++
		}
	}
	rule, ranges = groupRule(set, len(usages), ids)
	s.SupplementalGroups = policyv1.SupplementalGroupsStrategyOptions{Rule: policyv1.SupplementalGroupsStrategyType(rule), Ranges: ranges}
}

func groupRule(set, total int, ids []int64) (string, []policyv1.IDRange) {
	switch {
	case set == 0:
		return "RunAsAny", nil
	case set == total:
		return "MustRunAs", exactRanges(ids)
	}
	return "MayRunAs", exactRanges(ids)
}

// seLinux: MustRunAs when every pod sets the same pod-level options and
// every container runs with them; else RunAsAny.
func (t *tightest) seLinux(usages []engine.PodUsage, containers []engine.ContainerUsage) {
	t.spec.SELinux = policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyRunAsAny}
	if len(usages) == 0 || usages[0].SELinux == nil {
		return
	}
	want := usages[0].SELinux
	same := func(o *corev1.SELinuxOptions) bool { return o != nil && equality.Semantic.DeepEqual(*o, *want) }
	if all(usages, func(u engine.PodUsage) bool { return same(u.SELinux) }) && all(containers, func(c engine.ContainerUsage) bool { return same(c.SELinux) }) {
		o := *want
		t.spec.SELinux = policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyMustRunAs, SELinuxOptions: &o}
	}
}

// seccomp: the profiles used. With none set anywhere, no annotation (no
// profile may be set); with some unset, only "*" admits the pods unchanged.
// The default profile is set when every pod has a pod-level profile and
// there is one profile: the default then changes none of them.
func (t *tightest) seccomp(usages []engine.PodUsage, containers []engine.ContainerUsage) {
	var profiles []string
	unset := false
	add := func(p string) {
		if p == "" {
			unset = true
		} else if !slices.Contains(profiles, p) {
			profiles = append(profiles, p)
		}
	}
	for _, u := range usages {
		for _, p := range u.SeccompProfiles {
			add(p)
		}
	}
	for _, c := range containers {
		add(c.SeccompProfile)
	}
	switch {
	case len(profiles) == 0:
		return
	case unset:
		t.annotations[policyv1.SeccompAllowedProfilesAnnotationKey] = policyv1.SeccompAllowAny
		t.notes = append(t.notes, fmt.Sprintf("seccomp: '*' because some pods or containers set no profile while others set %s, and v1.24's seccomp control admits both only with '*'", strings.Join(sorted(profiles), ", ")))
		return
	}
	t.annotations[policyv1.SeccompAllowedProfilesAnnotationKey] = strings.Join(sorted(profiles), ",")
	if len(profiles) == 1 && all(usages, func(u engine.PodUsage) bool { return u.SeccompProfiles[0] != "" }) {
		t.annotations[policyv1.SeccompDefaultProfileAnnotationKey] = profiles[0]
	}
}

// appArmor: the profiles used when every container sets one; with some
// unset, no annotation, which allows any profile (an allowed list refuses a
// container without a profile).
func (t *tightest) appArmor(containers []engine.ContainerUsage) {
	var profiles []string
	unset := false
	for _, c := range containers {
		switch {
		case c.AppArmorProfile == "":
			unset = true
		case !slices.Contains(profiles, c.AppArmorProfile):
			profiles = append(profiles, c.AppArmorProfile)
		}
	}
	if len(profiles) == 0 {
		return
	}
	if unset {
		t.notes = append(t.notes, fmt.Sprintf("AppArmor: any profile, because some containers set none while others set %s, and an allowed list refuses a container without a profile", strings.Join(sorted(profiles), ", ")))
		return
	}
	t.annotations[policyv1.AppArmorAllowedProfilesAnnotationKey] = strings.Join(sorted(profiles), ",")
}

// sysctls: the unsafe sysctls used are allowed; every safe sysctl not used
// is forbidden ("*" when the pods use none).
func (t *tightest) sysctls(usages []engine.PodUsage) {
	var used, unsafe []string
	for _, u := range usages {
		used = append(used, u.Sysctls...)
		unsafe = append(unsafe, u.UnsafeSysctls...)
	}
	if len(used) == 0 {
		t.spec.ForbiddenSysctls = []string{"*"}
		return
	}
	t.spec.AllowedUnsafeSysctls = sorted(dedupe(unsafe))
	for _, safe := range engine.SafeSysctls() {
		if !slices.Contains(used, safe) {
			t.spec.ForbiddenSysctls = append(t.spec.ForbiddenSysctls, safe)
		}
	}
	slices.Sort(t.spec.ForbiddenSysctls)
}

// exactRanges are the IDs as ranges, consecutive IDs joined.
func exactRanges(ids []int64) []policyv1.IDRange {
	ids = sorted(dedupe(ids))
	var out []policyv1.IDRange
	for _, id := range ids {
		if n := len(out); n > 0 && out[n-1].Max+1 == id {
			out[n-1].Max = id
			continue
		}
		out = append(out, policyv1.IDRange{Min: id, Max: id})
	}
	return out
}

func all[T any](items []T, f func(T) bool) bool {
	for _, it := range items {
		if !f(it) {
			return false
		}
	}
	return true
}

func sorted[T cmp.Ordered](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func dedupe[T comparable](s []T) []T {
	var out []T
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }
