package generate

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/yamlfile"
)

// basePod is a pod that uses nothing: one container, no token volume.
func basePod(name string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team"},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: ptr(false),
			Containers:                   []corev1.Container{{Name: "app", Image: "app:1"}},
		},
	}
}

func podWorkload(pod *corev1.Pod) manifest.Workload {
	return manifest.Workload{Source: manifest.Location{Position: yamlfile.Position{File: "test.yaml", Document: 1, Line: 1}}, Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, Pod: pod}
}

func sc(pod *corev1.Pod) *corev1.SecurityContext {
	c := &pod.Spec.Containers[0]
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

func podSC(pod *corev1.Pod) *corev1.PodSecurityContext {
	if pod.Spec.SecurityContext == nil {
		pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	return pod.Spec.SecurityContext
}

// generateAndProve generates for the pods (one ServiceAccount) and fails
// unless the proof admits each unchanged by the one policy.
func generateAndProve(t *testing.T, pods ...*corev1.Pod) *policyv1.PodSecurityPolicy {
	t.Helper()
	var ws []manifest.Workload
	for _, p := range pods {
		ws = append(ws, podWorkload(p))
	}
	res, err := Generate(ws, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Policies) != 1 {
		t.Fatalf("%d policies, want 1", len(res.Policies))
	}
	findings, _, err := Prove(context.Background(), res, ProveOptions{User: authorizer.Impersonate("tester", nil)})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if !f.OK() {
			t.Errorf("%s: %s", f.Name, f.Problem)
		}
	}
	return res.Policies[0].Policy
}

func TestTightestPerControl(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pods  func() []*corev1.Pod
		check func(t *testing.T, p *policyv1.PodSecurityPolicy)
	}{
		{"nothing used: nothing allowed", func() []*corev1.Pod { return []*corev1.Pod{basePod("a")} }, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			s := p.Spec
			if s.Privileged || s.HostNetwork || s.HostPID || s.HostIPC || len(s.HostPorts) > 0 || len(s.Volumes) != 0 || s.Volumes == nil ||
				len(s.AllowedCapabilities) > 0 || len(s.AllowedHostPaths) > 0 || len(s.AllowedUnsafeSysctls) > 0 || len(s.ForbiddenSysctls) != 1 ||
				s.RuntimeClass == nil || len(s.RuntimeClass.AllowedRuntimeClassNames) != 0 || len(p.Annotations) != 1 {
				t.Errorf("policy allows something unused: %s", toJSON(p))
			}
		}},
		{"privileged", func() []*corev1.Pod { p := basePod("a"); sc(p).Privileged = ptr(true); return []*corev1.Pod{p} }, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if !p.Spec.Privileged {
				t.Error("privileged not allowed")
			}
		}},
		{"host namespaces each", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			a.Spec.HostPID = true
			b.Spec.HostIPC = true
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if p.Spec.HostNetwork || !p.Spec.HostPID || !p.Spec.HostIPC {
				t.Errorf("host namespaces %v %v %v, want PID and IPC only", p.Spec.HostNetwork, p.Spec.HostPID, p.Spec.HostIPC)
			}
		}},
		{"host ports exact, consecutive joined", func() []*corev1.Pod {
			a := basePod("a")
			a.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 81, HostPort: 8081}, {ContainerPort: 9000, HostPort: 9000}, {ContainerPort: 5000}}
			return []*corev1.Pod{a}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			want := []policyv1.HostPortRange{{Min: 8080, Max: 8081}, {Min: 9000, Max: 9000}}
			if !equality.Semantic.DeepEqual(p.Spec.HostPorts, want) {
				t.Errorf("hostPorts %v, want %v", p.Spec.HostPorts, want)
			}
		}},
		{"volumes, host paths read-only only when every mount is", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			a.Spec.Volumes = []corev1.Volume{
				{Name: "logs", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
				{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}},
			}
			a.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "logs", MountPath: "/l", ReadOnly: true}, {Name: "cfg", MountPath: "/c"}}
			b.Spec.Volumes = []corev1.Volume{
				{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}}},
				{Name: "flex", VolumeSource: corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: "example/lvm"}}},
				{Name: "csi", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "csi.example.com"}}},
			}
			b.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/d"}}
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			wantVolumes := []policyv1.FSType{policyv1.ConfigMap, policyv1.CSI, policyv1.FlexVolume, policyv1.HostPath}
			wantPaths := []policyv1.AllowedHostPath{{PathPrefix: "/data"}, {PathPrefix: "/var/log", ReadOnly: true}}
			if !equality.Semantic.DeepEqual(p.Spec.Volumes, wantVolumes) || !equality.Semantic.DeepEqual(p.Spec.AllowedHostPaths, wantPaths) {
				t.Errorf("volumes %v paths %v, want %v %v", p.Spec.Volumes, p.Spec.AllowedHostPaths, wantVolumes, wantPaths)
			}
			if len(p.Spec.AllowedFlexVolumes) != 1 || p.Spec.AllowedFlexVolumes[0].Driver != "example/lvm" || len(p.Spec.AllowedCSIDrivers) != 1 || p.Spec.AllowedCSIDrivers[0].Name != "csi.example.com" {
				t.Errorf("drivers %v %v", p.Spec.AllowedFlexVolumes, p.Spec.AllowedCSIDrivers)
			}
		}},
		{"image volume (post-1.24)", func() []*corev1.Pod {
			a := basePod("a")
			a.Spec.Volumes = []corev1.Volume{{Name: "model", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "model:1"}}}}
			return []*corev1.Pod{a}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if !equality.Semantic.DeepEqual(p.Spec.Volumes, []policyv1.FSType{policyv1.Image}) {
				t.Errorf("volumes %v, want [image]", p.Spec.Volumes)
			}
		}},
		{"capabilities: added, and drops every container makes", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			sc(a).Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}, Drop: []corev1.Capability{"ALL"}}
			sc(b).Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL", "NET_RAW"}}
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if !equality.Semantic.DeepEqual(p.Spec.AllowedCapabilities, []corev1.Capability{"NET_BIND_SERVICE"}) || !equality.Semantic.DeepEqual(p.Spec.RequiredDropCapabilities, []corev1.Capability{"ALL"}) {
				t.Errorf("allowed %v required drop %v", p.Spec.AllowedCapabilities, p.Spec.RequiredDropCapabilities)
			}
		}},
		{"capabilities: no required drop when a container drops nothing", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			sc(a).Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if len(p.Spec.RequiredDropCapabilities) > 0 {
				t.Errorf("required drop %v", p.Spec.RequiredDropCapabilities)
			}
		}},
		{"runAsUser MustRunAs exact UIDs", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			podSC(a).RunAsUser = ptr(int64(1000))
			sc(b).RunAsUser = ptr(int64(2000))
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			want := policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAs, Ranges: []policyv1.IDRange{{Min: 1000, Max: 1000}, {Min: 2000, Max: 2000}}}
			if !equality.Semantic.DeepEqual(p.Spec.RunAsUser, want) {
				t.Errorf("runAsUser %+v, want %+v", p.Spec.RunAsUser, want)
			}
		}},
		{"runAsUser MustRunAsNonRoot when the image's user is asked to be non-root", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			podSC(a).RunAsNonRoot = ptr(true)
			sc(b).RunAsUser = ptr(int64(1000))
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if p.Spec.RunAsUser.Rule != policyv1.RunAsUserStrategyMustRunAsNonRoot {
				t.Errorf("runAsUser %+v, want MustRunAsNonRoot", p.Spec.RunAsUser)
			}
		}},
		{"runAsUser RunAsAny when a pod relies on the image", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			sc(a).RunAsUser = ptr(int64(1000))
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if p.Spec.RunAsUser.Rule != policyv1.RunAsUserStrategyRunAsAny {
				t.Errorf("runAsUser %+v, want RunAsAny", p.Spec.RunAsUser)
			}
		}},
		{"groups: MustRunAs when all set, MayRunAs when some, RunAsAny when none", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			podSC(a).RunAsGroup, podSC(b).RunAsGroup = ptr(int64(3000)), ptr(int64(3001))
			podSC(a).FSGroup = ptr(int64(2000))
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if g := p.Spec.RunAsGroup; g == nil || g.Rule != policyv1.RunAsGroupStrategyMustRunAs || !equality.Semantic.DeepEqual(g.Ranges, []policyv1.IDRange{{Min: 3000, Max: 3001}}) {
				t.Errorf("runAsGroup %+v", g)
			}
			if g := p.Spec.FSGroup; g.Rule != policyv1.FSGroupStrategyMayRunAs || !equality.Semantic.DeepEqual(g.Ranges, []policyv1.IDRange{{Min: 2000, Max: 2000}}) {
				t.Errorf("fsGroup %+v", g)
			}
			if p.Spec.SupplementalGroups.Rule != policyv1.SupplementalGroupsStrategyRunAsAny {
				t.Errorf("supplementalGroups %+v", p.Spec.SupplementalGroups)
			}
		}},
		{"supplementalGroups MustRunAs the union", func() []*corev1.Pod {
			a := basePod("a")
			podSC(a).SupplementalGroups = []int64{5, 7}
			return []*corev1.Pod{a}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if g := p.Spec.SupplementalGroups; g.Rule != policyv1.SupplementalGroupsStrategyMustRunAs || !equality.Semantic.DeepEqual(g.Ranges, []policyv1.IDRange{{Min: 5, Max: 5}, {Min: 7, Max: 7}}) {
				t.Errorf("supplementalGroups %+v", g)
			}
		}},
		{"readOnlyRootFilesystem and no privilege escalation when every container has them", func() []*corev1.Pod {
			a := basePod("a")
			sc(a).ReadOnlyRootFilesystem, sc(a).AllowPrivilegeEscalation = ptr(true), ptr(false)
			return []*corev1.Pod{a}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if !p.Spec.ReadOnlyRootFilesystem || *p.Spec.AllowPrivilegeEscalation || p.Spec.DefaultAllowPrivilegeEscalation != nil {
				t.Errorf("readOnlyRootFilesystem %v allowPrivilegeEscalation %v default %v", p.Spec.ReadOnlyRootFilesystem, *p.Spec.AllowPrivilegeEscalation, p.Spec.DefaultAllowPrivilegeEscalation)
			}
		}},
		{"privilege escalation allowed, defaulted to false when every container says", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			sc(a).AllowPrivilegeEscalation, sc(b).AllowPrivilegeEscalation = ptr(true), ptr(false)
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if !*p.Spec.AllowPrivilegeEscalation || p.Spec.DefaultAllowPrivilegeEscalation == nil || *p.Spec.DefaultAllowPrivilegeEscalation || p.Spec.ReadOnlyRootFilesystem {
				t.Errorf("allowPrivilegeEscalation %v default %v", *p.Spec.AllowPrivilegeEscalation, p.Spec.DefaultAllowPrivilegeEscalation)
			}
		}},
		{"privilege escalation not defaulted when a container leaves it unset", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			sc(a).AllowPrivilegeEscalation = ptr(false)
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if !*p.Spec.AllowPrivilegeEscalation || p.Spec.DefaultAllowPrivilegeEscalation != nil {
				t.Errorf("allowPrivilegeEscalation %v default %v", *p.Spec.AllowPrivilegeEscalation, p.Spec.DefaultAllowPrivilegeEscalation)
			}
		}},
		{"SELinux MustRunAs the options every pod sets", func() []*corev1.Pod {
			a := basePod("a")
			podSC(a).SELinuxOptions = &corev1.SELinuxOptions{Level: "s0:c1,c2", Type: "container_t"}
			return []*corev1.Pod{a}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if p.Spec.SELinux.Rule != policyv1.SELinuxStrategyMustRunAs || p.Spec.SELinux.SELinuxOptions.Level != "s0:c1,c2" {
				t.Errorf("seLinux %+v", p.Spec.SELinux)
			}
		}},
		{"SELinux RunAsAny when pods differ", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			podSC(a).SELinuxOptions = &corev1.SELinuxOptions{Level: "s0:c1,c2"}
			podSC(b).SELinuxOptions = &corev1.SELinuxOptions{Level: "s0:c3,c4"}
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if p.Spec.SELinux.Rule != policyv1.SELinuxStrategyRunAsAny {
				t.Errorf("seLinux %+v", p.Spec.SELinux)
			}
		}},
		{"seccomp: the profile used, defaulted when every pod sets it", func() []*corev1.Pod {
			a := basePod("a")
			podSC(a).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
			return []*corev1.Pod{a}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if p.Annotations[policyv1.SeccompAllowedProfilesAnnotationKey] != "runtime/default" || p.Annotations[policyv1.SeccompDefaultProfileAnnotationKey] != "runtime/default" {
				t.Errorf("annotations %v", p.Annotations)
			}
		}},
		{"seccomp: container profiles only, no default", func() []*corev1.Pod {
			a := basePod("a")
			sc(a).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("app.json")}
			return []*corev1.Pod{a}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if p.Annotations[policyv1.SeccompAllowedProfilesAnnotationKey] != "*" {
				t.Errorf("annotations %v", p.Annotations)
			}
		}},
		{"AppArmor: the profiles when every container sets one", func() []*corev1.Pod {
			a := basePod("a")
			sc(a).AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
			return []*corev1.Pod{a}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if p.Annotations[policyv1.AppArmorAllowedProfilesAnnotationKey] != "runtime/default" {
				t.Errorf("annotations %v", p.Annotations)
			}
		}},
		{"sysctls: unsafe ones used allowed, unused safe ones forbidden", func() []*corev1.Pod {
			a := basePod("a")
			podSC(a).Sysctls = []corev1.Sysctl{{Name: "net.ipv4.tcp_syncookies", Value: "1"}, {Name: "net.core.somaxconn", Value: "1024"}}
			return []*corev1.Pod{a}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			want := []string{"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ping_group_range"}
			if !equality.Semantic.DeepEqual(p.Spec.AllowedUnsafeSysctls, []string{"net.core.somaxconn"}) || !equality.Semantic.DeepEqual(p.Spec.ForbiddenSysctls, want) {
				t.Errorf("allowed %v forbidden %v", p.Spec.AllowedUnsafeSysctls, p.Spec.ForbiddenSysctls)
			}
		}},
		{"procMount", func() []*corev1.Pod {
			a := basePod("a")
			a.Spec.HostUsers = ptr(false)
			sc(a).ProcMount = ptr(corev1.UnmaskedProcMount)
			return []*corev1.Pod{a}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if !equality.Semantic.DeepEqual(p.Spec.AllowedProcMountTypes, []corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount}) {
				t.Errorf("allowedProcMountTypes %v", p.Spec.AllowedProcMountTypes)
			}
		}},
		{"runtimeClass names used", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			a.Spec.RuntimeClassName = ptr("gvisor")
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if !equality.Semantic.DeepEqual(p.Spec.RuntimeClass.AllowedRuntimeClassNames, []string{"gvisor"}) || p.Spec.RuntimeClass.DefaultRuntimeClassName != nil {
				t.Errorf("runtimeClass %+v", p.Spec.RuntimeClass)
			}
		}},
		{"Windows HostProcess (post-1.24): privileged and hostNetwork", func() []*corev1.Pod {
			a := basePod("a")
			a.Spec.OS = &corev1.PodOS{Name: corev1.Windows}
			a.Spec.HostNetwork = true
			podSC(a).WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: ptr(true)}
			return []*corev1.Pod{a}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if !p.Spec.Privileged || !p.Spec.HostNetwork {
				t.Errorf("privileged %v hostNetwork %v, want both", p.Spec.Privileged, p.Spec.HostNetwork)
			}
		}},
		{"requireUserNamespace when every pod has hostUsers: false", func() []*corev1.Pod {
			a := basePod("a")
			a.Spec.HostUsers = ptr(false)
			return []*corev1.Pod{a}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if !p.Spec.RequireUserNamespace {
				t.Error("requireUserNamespace not set")
			}
		}},
		{"no requireUserNamespace when a pod uses the host's", func() []*corev1.Pod {
			a, b := basePod("a"), basePod("b")
			a.Spec.HostUsers = ptr(false)
			return []*corev1.Pod{a, b}
		}, func(t *testing.T, p *policyv1.PodSecurityPolicy) {
			if p.Spec.RequireUserNamespace {
				t.Error("requireUserNamespace set")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, generateAndProve(t, tc.pods()...))
		})
	}
}

func toJSON(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// policy/v1beta1 cannot express the post-1.24 controls: image volumes are
// refused (only '*' would admit them), a user namespace is not required and
// a note says so.
func TestLegacyAPIVersion(t *testing.T) {
	image := basePod("image")
	image.Spec.Volumes = []corev1.Volume{{Name: "model", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "model:1"}}}}
	_, err := Generate([]manifest.Workload{podWorkload(image)}, Options{APIVersion: policyv1.LegacyPolicyAPIVersion})
	if err == nil || !strings.Contains(err.Error(), "Pod team/image: its pods use volume types added after v1.24 (image)") || !strings.Contains(err.Error(), "--api-version policy.kube-psp.io/v1") {
		t.Errorf("image volume in policy/v1beta1: err = %v", err)
	}
	userns := basePod("userns")
	userns.Spec.HostUsers = ptr(false)
	res, err := Generate([]manifest.Workload{podWorkload(userns)}, Options{APIVersion: policyv1.LegacyPolicyAPIVersion})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Policies[0]
	if p.Policy.APIVersion != policyv1.LegacyPolicyAPIVersion || p.Policy.Spec.RequireUserNamespace || len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "requireUserNamespace needs") {
		t.Errorf("user namespace in policy/v1beta1: %s, notes %q", p.Policy.APIVersion, p.Notes)
	}
	var out strings.Builder
	if err := WriteYAML(&out, res); err != nil || !strings.Contains(out.String(), "apiVersion: policy/v1beta1") || !strings.Contains(out.String(), "# Allows more than used: a user namespace is not required") {
		t.Errorf("WriteYAML: %v\n%s", err, out.String())
	}
}

// Identical policies are merged under a name from their content; the
// grants bind each ServiceAccount in its own namespace.
func TestMergeAndGrants(t *testing.T) {
	a, b, c := basePod("a"), basePod("b"), basePod("c")
	a.Spec.ServiceAccountName = "one"
	b.Namespace, b.Spec.ServiceAccountName = "other", "two"
	c.Spec.HostPID = true
	res, err := Generate([]manifest.Workload{podWorkload(a), podWorkload(b), podWorkload(c)}, Options{NamePrefix: "x."})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Policies) != 2 {
		t.Fatalf("%d policies, want 2", len(res.Policies))
	}
	shared, own := res.Policies[0], res.Policies[1] // in name order
	if !strings.HasPrefix(shared.Policy.Name, "x.shared-") || len(shared.Policy.Name) != len("x.shared-")+10 || own.Policy.Name != "x.team.default" {
		t.Errorf("names %q, %q", shared.Policy.Name, own.Policy.Name)
	}
	if !slices.Equal(shared.Identities, []string{"ServiceAccount other/two", "ServiceAccount team/one"}) || shared.Policy.Annotations[GeneratedForAnnotation] != "Pod team/a\nPod other/b" {
		t.Errorf("identities %q, generated-for %q", shared.Identities, shared.Policy.Annotations[GeneratedForAnnotation])
	}
	if len(shared.RoleBindings) != 2 || shared.RoleBindings[0].Namespace != "other" || shared.RoleBindings[0].Subjects[0].Name != "two" ||
		shared.RoleBindings[1].Namespace != "team" || shared.RoleBindings[1].Subjects[0].Name != "one" || shared.RoleBindings[0].RoleRef.Name != shared.ClusterRole.Name {
		t.Errorf("bindings %+v", shared.RoleBindings)
	}
	if !slices.Equal(res.PolicyOf, []string{shared.Policy.Name, shared.Policy.Name, own.Policy.Name}) {
		t.Errorf("PolicyOf %q", res.PolicyOf)
	}
}
