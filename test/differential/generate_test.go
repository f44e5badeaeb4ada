package differential

import (
	"fmt"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

// gen draws random but valid inputs; every choice is from small sets of
// values that exercise the edges of each control.
type gen struct{ r *rand.Rand }

func pick[T any](g gen, options ...T) T { return options[g.r.IntN(len(options))] }

func (g gen) chance(p float64) bool { return g.r.Float64() < p }

func ptr[T any](v T) *T { return &v }

var policyNames = []string{"a-restricted", "b-baseline", "c-custom", "eks.privileged", "z-last"}

func (g gen) ranges() []policyv1.IDRange {
	return pick(g, []policyv1.IDRange{{Min: 1, Max: 65535}}, []policyv1.IDRange{{Min: 1000, Max: 2000}, {Min: 5, Max: 5}}, []policyv1.IDRange{{Min: 0, Max: 0}})
}

func (g gen) caps(max int) []corev1.Capability {
	all := []corev1.Capability{"NET_BIND_SERVICE", "NET_RAW", "SYS_ADMIN", "CHOWN", "ALL"}
	var out []corev1.Capability
	for _, c := range all {
		if len(out) < max && g.chance(0.25) {
			out = append(out, c)
		}
	}
	return out
}

func (g gen) policy(name string) *policyv1.PodSecurityPolicy {
	p := &policyv1.PodSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{}}}
	s := &p.Spec
	s.Privileged = g.chance(0.3)
	s.HostNetwork, s.HostPID, s.HostIPC = g.chance(0.3), g.chance(0.3), g.chance(0.3)
	s.HostPorts = pick(g, nil, []policyv1.HostPortRange{{Min: 0, Max: 65535}}, []policyv1.HostPortRange{{Min: 80, Max: 80}, {Min: 1025, Max: 65535}})
	s.Volumes = pick(g, []policyv1.FSType{"*"}, []policyv1.FSType{"configMap", "secret", "emptyDir", "downwardAPI"},
		[]policyv1.FSType{"hostPath", "emptyDir", "projected", "flexVolume", "csi"}, []policyv1.FSType{"secret"}, nil)
	s.AllowedHostPaths = pick(g, nil, []policyv1.AllowedHostPath{{PathPrefix: "/var/log"}},
		[]policyv1.AllowedHostPath{{PathPrefix: "/var/log", ReadOnly: true}}, []policyv1.AllowedHostPath{{PathPrefix: "/var", ReadOnly: true}, {PathPrefix: "/var/log/"}})
	s.AllowedFlexVolumes = pick(g, nil, []policyv1.AllowedFlexVolume{{Driver: "example/lvm"}})
	s.AllowedCSIDrivers = pick(g, nil, []policyv1.AllowedCSIDriver{{Name: "csi.example.com"}})
	switch g.r.IntN(3) {
	case 0:
		s.RunAsUser.Rule = policyv1.RunAsUserStrategyRunAsAny
	case 1:
		s.RunAsUser.Rule = policyv1.RunAsUserStrategyMustRunAsNonRoot
	default:
		s.RunAsUser = policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAs, Ranges: g.ranges()}
	}
	switch g.r.IntN(4) {
	case 1:
		s.RunAsGroup = &policyv1.RunAsGroupStrategyOptions{Rule: policyv1.RunAsGroupStrategyRunAsAny}
	case 2:
		s.RunAsGroup = &policyv1.RunAsGroupStrategyOptions{Rule: policyv1.RunAsGroupStrategyMustRunAs, Ranges: g.ranges()}
	case 3:
		s.RunAsGroup = &policyv1.RunAsGroupStrategyOptions{Rule: policyv1.RunAsGroupStrategyMayRunAs, Ranges: g.ranges()}
	}
	s.FSGroup.Rule = pick(g, policyv1.FSGroupStrategyRunAsAny, policyv1.FSGroupStrategyMustRunAs, policyv1.FSGroupStrategyMayRunAs)
	if s.FSGroup.Rule != policyv1.FSGroupStrategyRunAsAny {
		s.FSGroup.Ranges = g.ranges()
	}
	s.SupplementalGroups.Rule = pick(g, policyv1.SupplementalGroupsStrategyRunAsAny, policyv1.SupplementalGroupsStrategyMustRunAs, policyv1.SupplementalGroupsStrategyMayRunAs)
	if s.SupplementalGroups.Rule != policyv1.SupplementalGroupsStrategyRunAsAny {
		s.SupplementalGroups.Ranges = g.ranges()
	}
	s.SELinux.Rule = policyv1.SELinuxStrategyRunAsAny
	if g.chance(0.25) {
		s.SELinux = policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{User: "u", Role: "r", Type: "t", Level: "s0:c1,c2"}}
	}
	s.ReadOnlyRootFilesystem = g.chance(0.3)
	s.AllowPrivilegeEscalation = pick(g, nil, ptr(true), ptr(false))
	if s.AllowPrivilegeEscalation == nil || *s.AllowPrivilegeEscalation {
		s.DefaultAllowPrivilegeEscalation = pick(g, nil, ptr(true), ptr(false))
	} else {
		s.DefaultAllowPrivilegeEscalation = pick(g, nil, ptr(false))
	}
	s.RequiredDropCapabilities = g.caps(2)
	if g.chance(0.2) && len(s.RequiredDropCapabilities) == 0 {
		s.AllowedCapabilities = []corev1.Capability{"*"}
	} else {
		s.AllowedCapabilities = without(g.caps(2), s.RequiredDropCapabilities)
	}
	s.DefaultAddCapabilities = without(g.caps(1), s.RequiredDropCapabilities)
	pair := pick(g, [2][]string{nil, nil}, [2][]string{{"kernel.msg*"}, nil}, [2][]string{{"*"}, nil},
		[2][]string{nil, {"kernel.shm_rmid_forced"}}, [2][]string{{"kernel.msgmax"}, {"net.*"}})
	s.AllowedUnsafeSysctls, s.ForbiddenSysctls = pair[0], pair[1]
	s.AllowedProcMountTypes = pick(g, nil, []corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount})
	s.RuntimeClass = pick(g, nil, &policyv1.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"gvisor"}, DefaultRuntimeClassName: ptr("gvisor")},
		&policyv1.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"*"}}, &policyv1.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{}})
	switch g.r.IntN(4) {
	case 1:
		p.Annotations[policyv1.SeccompAllowedProfilesAnnotationKey] = "*"
	case 2:
		p.Annotations[policyv1.SeccompAllowedProfilesAnnotationKey] = "docker/default,localhost/a.json"
		p.Annotations[policyv1.SeccompDefaultProfileAnnotationKey] = "docker/default"
	case 3:
		p.Annotations[policyv1.SeccompAllowedProfilesAnnotationKey] = "runtime/default"
	}
	switch g.r.IntN(3) {
	case 1:
		p.Annotations[policyv1.AppArmorAllowedProfilesAnnotationKey] = "runtime/default,localhost/a"
		p.Annotations[policyv1.AppArmorDefaultProfileAnnotationKey] = "runtime/default"
	case 2:
		p.Annotations[policyv1.AppArmorAllowedProfilesAnnotationKey] = "runtime/default"
	}
	return p
}

func without(caps, drop []corev1.Capability) []corev1.Capability {
	var out []corev1.Capability
	for _, c := range caps {
		keep := true
		for _, d := range drop {
			keep = keep && c != d
		}
		if keep {
			out = append(out, c)
		}
	}
	return out
}

func (g gen) container(name string) corev1.Container {
	c := corev1.Container{Name: name, Image: "img"}
	if g.chance(0.2) {
		c.Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: pick(g, int32(80), int32(443), int32(8080))}}
	}
	if g.chance(0.3) {
		c.VolumeMounts = []corev1.VolumeMount{{Name: "v0", MountPath: "/v", ReadOnly: g.chance(0.5)}}
	}
	if g.chance(0.25) {
		return c
	}
	sc := &corev1.SecurityContext{}
	if g.chance(0.2) {
		sc.Privileged = ptr(g.chance(0.6))
	}
	if g.chance(0.3) {
		sc.RunAsUser = ptr(pick(g, int64(0), int64(5), int64(1000), int64(70000)))
	}
	if g.chance(0.2) {
		sc.RunAsNonRoot = ptr(g.chance(0.7))
	}
	if g.chance(0.2) {
		sc.RunAsGroup = ptr(pick(g, int64(0), int64(5), int64(1500)))
	}
	if g.chance(0.25) {
		sc.ReadOnlyRootFilesystem = ptr(g.chance(0.6))
	}
	if g.chance(0.25) {
		sc.AllowPrivilegeEscalation = ptr(g.chance(0.4))
	}
	if g.chance(0.35) {
		sc.Capabilities = &corev1.Capabilities{Add: g.caps(2), Drop: g.caps(2)}
	}
	if g.chance(0.1) {
		sc.ProcMount = ptr(pick(g, corev1.DefaultProcMount, corev1.UnmaskedProcMount))
	}
	if g.chance(0.1) {
		sc.SELinuxOptions = &corev1.SELinuxOptions{User: "u", Role: "r", Type: pick(g, "t", "x"), Level: pick(g, "s0:c2,c1", "s0:c1")}
	}
	if g.chance(0.15) {
		sc.SeccompProfile = g.seccompProfile()
	}
	c.SecurityContext = sc
	return c
}

func (g gen) seccompProfile() *corev1.SeccompProfile {
	return pick(g, &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}, &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined},
		&corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("a.json")})
}

func (g gen) volume() corev1.Volume {
	v := corev1.Volume{Name: "v0"}
	switch g.r.IntN(8) {
	case 0:
		v.HostPath = &corev1.HostPathVolumeSource{Path: pick(g, "/var/log", "/var/logs", "/", "/var/log/pods", "/var/run/docker.sock")}
	case 1:
		v.EmptyDir = &corev1.EmptyDirVolumeSource{}
	case 2:
		v.Secret = &corev1.SecretVolumeSource{SecretName: "s"}
	case 3:
		v.ConfigMap = &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}
	case 4:
		v.Projected = &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: pick(g, "", "vault")}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
		}}
	case 5:
		v.FlexVolume = &corev1.FlexVolumeSource{Driver: pick(g, "example/lvm", "example/other")}
	case 6:
		v.CSI = &corev1.CSIVolumeSource{Driver: pick(g, "csi.example.com", "other.example.com")}
	default:
		v.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}
	}
	return v
}

func (g gen) pod() *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}}
	pod.Spec.Containers = []corev1.Container{g.container("app")}
	if g.chance(0.3) {
		pod.Spec.Containers = append(pod.Spec.Containers, g.container("sidecar"))
	}
	if g.chance(0.2) {
		pod.Spec.InitContainers = []corev1.Container{g.container("init")}
	}
	if g.chance(0.1) {
		pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon(g.container("debug"))}}
	}
	pod.Spec.HostNetwork, pod.Spec.HostPID, pod.Spec.HostIPC = g.chance(0.1), g.chance(0.1), g.chance(0.1)
	if g.chance(0.4) {
		pod.Spec.Volumes = []corev1.Volume{g.volume()}
	}
	if g.chance(0.5) {
		pod.Spec.ServiceAccountName = pick(g, "sa1", "sa2", "default")
	}
	if g.chance(0.1) {
		pod.Spec.RuntimeClassName = ptr(pick(g, "gvisor", "kata"))
	}
	if g.chance(0.5) {
		sc := &corev1.PodSecurityContext{}
		if g.chance(0.3) {
			sc.RunAsUser = ptr(pick(g, int64(0), int64(1000)))
		}
		if g.chance(0.2) {
			sc.RunAsNonRoot = ptr(g.chance(0.7))
		}
		if g.chance(0.2) {
			sc.RunAsGroup = ptr(pick(g, int64(0), int64(1500)))
		}
		if g.chance(0.3) {
			sc.FSGroup = ptr(pick(g, int64(0), int64(1), int64(1500)))
		}
		if g.chance(0.3) {
			sc.SupplementalGroups = pick(g, []int64{0}, []int64{1, 70000}, []int64{1500})
		}
		if g.chance(0.15) {
			sc.SELinuxOptions = &corev1.SELinuxOptions{User: "u", Role: "r", Type: "t", Level: pick(g, "s0:c2,c1", "s1:c1")}
		}
		if g.chance(0.2) {
			sc.Sysctls = []corev1.Sysctl{{Name: pick(g, "kernel.shm_rmid_forced", "kernel.msgmax", "net.core.somaxconn", "net.ipv4.tcp_syncookies"), Value: "1"}}
		}
		if g.chance(0.2) {
			sc.SeccompProfile = g.seccompProfile()
		}
		pod.Spec.SecurityContext = sc
	}
	defer dropSeccompMismatch(pod)
	if g.chance(0.3) {
		pod.Annotations = map[string]string{}
		if g.chance(0.5) {
			pod.Annotations[corev1.SeccompPodAnnotationKey] = pick(g, "runtime/default", "docker/default", "unconfined", "localhost/a.json")
		}
		if g.chance(0.3) {
			pod.Annotations[corev1.SeccompContainerAnnotationKeyPrefix+"app"] = pick(g, "runtime/default", "unconfined", "")
		}
		if g.chance(0.5) {
			pod.Annotations[corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+"app"] = pick(g, "runtime/default", "unconfined", "localhost/a", "")
		}
		if g.chance(0.2) {
			pod.Annotations["kubernetes.io/psp"] = pick(g, policyNames...)
		}
	}
	return pod
}

// rbac grants `use` in assorted ways: per policy or all, through policy,
// extensions or wildcard groups, by ClusterRoleBinding or RoleBinding, to
// users, groups and ServiceAccounts.
func (g gen) rbac(policies []*policyv1.PodSecurityPolicy) rbacObjects {
	var o rbacObjects
	rule := func(group string, names ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: []string{group}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: names}
	}
	o.ClusterRoles = append(o.ClusterRoles,
		rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "use-all"}, Rules: []rbacv1.PolicyRule{rule("policy")}},
		rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "extensions-everything"}, Rules: []rbacv1.PolicyRule{{APIGroups: []string{"extensions"}, Resources: []string{"*"}, Verbs: []string{"*"}}}},
		rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "wrong-verb"}, Rules: []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"get"}}}},
	)
	for _, p := range policies {
		o.ClusterRoles = append(o.ClusterRoles, rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "psp:" + p.Name}, Rules: []rbacv1.PolicyRule{rule(pick(g, "policy", "extensions", "*"), p.Name)}})
	}
	o.Roles = append(o.Roles, rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "ns-use", Namespace: "ns"}, Rules: []rbacv1.PolicyRule{rule("policy", policies[0].Name)}})
	subjects := []rbacv1.Subject{
		{Kind: "Group", Name: "system:authenticated", APIGroup: rbacv1.GroupName},
		{Kind: "Group", Name: "system:serviceaccounts", APIGroup: rbacv1.GroupName},
		{Kind: "Group", Name: "system:serviceaccounts:ns", APIGroup: rbacv1.GroupName},
		{Kind: "User", Name: "alice", APIGroup: rbacv1.GroupName},
		{Kind: "User", Name: "system:serviceaccount:ns:sa2", APIGroup: rbacv1.GroupName},
		{Kind: "ServiceAccount", Name: "sa1", Namespace: "ns"},
		{Kind: "ServiceAccount", Name: "sa1"},
		{Kind: "ServiceAccount", Name: "sa2", Namespace: "other"},
	}
	roleNames := []string{"use-all", "extensions-everything", "wrong-verb", "missing-role"}
	for _, p := range policies {
		roleNames = append(roleNames, "psp:"+p.Name)
	}
	if g.chance(0.6) {
		// Most clusters grant something to everyone, as EKS does.
		o.ClusterRoleBindings = append(o.ClusterRoleBindings, rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "everyone"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: pick(g, roleNames...)},
			Subjects: []rbacv1.Subject{subjects[0], subjects[1]}})
	}
	for i, n := 0, g.r.IntN(4); i < n; i++ {
		ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: pick(g, roleNames...)}
		subj := []rbacv1.Subject{pick(g, subjects...)}
		if g.chance(0.5) {
			o.ClusterRoleBindings = append(o.ClusterRoleBindings, rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crb%d", i)}, RoleRef: ref, Subjects: subj})
			continue
		}
		if g.chance(0.3) {
			ref.Kind, ref.Name = "Role", "ns-use"
		}
		o.RoleBindings = append(o.RoleBindings, rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rb%d", i), Namespace: pick(g, "ns", "other")}, RoleRef: ref, Subjects: subj})
	}
	return o
}

type rbacObjects struct {
	Roles               []rbacv1.Role               `json:"roles,omitempty"`
	ClusterRoles        []rbacv1.ClusterRole        `json:"clusterRoles,omitempty"`
	RoleBindings        []rbacv1.RoleBinding        `json:"roleBindings,omitempty"`
	ClusterRoleBindings []rbacv1.ClusterRoleBinding `json:"clusterRoleBindings,omitempty"`
}

// dropSeccompMismatch removes a pod seccomp annotation that disagrees with
// the pod's seccompProfile field. The apiserver (v1.24 and today) refuses
// such a pod in validation; kube-psp deliberately checks the field too there
// (the kubelet runs the field), so the two plugins may word the refusal
// differently, and such pods are left out of the comparison.
func dropSeccompMismatch(pod *corev1.Pod) {
	sc := pod.Spec.SecurityContext
	ann, ok := pod.Annotations[corev1.SeccompPodAnnotationKey]
	if sc == nil || sc.SeccompProfile == nil || !ok {
		return
	}
	want := map[corev1.SeccompProfileType]string{corev1.SeccompProfileTypeRuntimeDefault: "runtime/default", corev1.SeccompProfileTypeUnconfined: "unconfined"}[sc.SeccompProfile.Type]
	if sc.SeccompProfile.Type == corev1.SeccompProfileTypeLocalhost && sc.SeccompProfile.LocalhostProfile != nil {
		want = "localhost/" + *sc.SeccompProfile.LocalhostProfile
	}
	if ann != want && !(want == "runtime/default" && ann == "docker/default") {
		delete(pod.Annotations, corev1.SeccompPodAnnotationKey)
	}
}
