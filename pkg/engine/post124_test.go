package engine

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/apimachinery/pkg/api/resource"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

// modernRestricted is the seed's restricted policy with the seccomp and
// AppArmor annotations of Kubernetes' documented restricted PSP.
func modernRestricted() *policyv1.PodSecurityPolicy {
	p := restrictedPolicy("restricted")
	p.Annotations = map[string]string{
		policyv1.SeccompAllowedProfilesAnnotationKey:  "docker/default,runtime/default",
		policyv1.SeccompDefaultProfileAnnotationKey:   "runtime/default",
		policyv1.AppArmorAllowedProfilesAnnotationKey: "runtime/default",
		policyv1.AppArmorDefaultProfileAnnotationKey:  "runtime/default",
	}
	return p
}

// compliantPod passes modernRestricted unchanged.
func compliantPod() *corev1.Pod {
	pod := newPod(corev1.Container{Name: "app", Image: "x", SecurityContext: &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true), RunAsNonRoot: ptr(true),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}})
	pod.Annotations = map[string]string{
		"seccomp.security.alpha.kubernetes.io/pod":           "runtime/default",
		"container.apparmor.security.beta.kubernetes.io/app": "runtime/default",
	}
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{FSGroup: ptr(int64(1)), SupplementalGroups: []int64{1},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
	return pod
}

// post124Case: restricted must refuse pod (with errors containing want), and
// allowing must admit it; a case without want must be admitted by restricted.
type post124Case struct {
	name     string
	pod      func(*corev1.Pod)
	want     []string
	allowing func(*policyv1.PodSecurityPolicy)
}

func TestFieldsAddedAfter124(t *testing.T) {
	appArmorProfile := func(typ corev1.AppArmorProfileType, name string) *corev1.AppArmorProfile {
		p := &corev1.AppArmorProfile{Type: typ}
		if name != "" {
			p.LocalhostProfile = &name
		}
		return p
	}
	csc := func(p *corev1.Pod) *corev1.SecurityContext { return p.Spec.Containers[0].SecurityContext }
	cases := []post124Case{
		{name: "container appArmorProfile Unconfined",
			pod: func(p *corev1.Pod) {
				csc(p).AppArmorProfile = appArmorProfile(corev1.AppArmorProfileTypeUnconfined, "")
			},
			want: []string{`spec.containers[0].securityContext.appArmorProfile: Forbidden: unconfined is not an allowed profile. Allowed values: "runtime/default"`},
			allowing: func(p *policyv1.PodSecurityPolicy) {
				p.Annotations[policyv1.AppArmorAllowedProfilesAnnotationKey] = "runtime/default,unconfined"
			}},
		{name: "allowed annotation cannot mask an unconfined field",
			pod: func(p *corev1.Pod) {
				csc(p).AppArmorProfile = appArmorProfile(corev1.AppArmorProfileTypeLocalhost, "evil")
			},
			want: []string{"spec.containers[0].securityContext.appArmorProfile: Forbidden: localhost/evil is not an allowed profile"},
			allowing: func(p *policyv1.PodSecurityPolicy) {
				p.Annotations[policyv1.AppArmorAllowedProfilesAnnotationKey] = "runtime/default,localhost/evil"
			}},
		{name: "pod appArmorProfile Unconfined",
			pod: func(p *corev1.Pod) {
				delete(p.Annotations, "container.apparmor.security.beta.kubernetes.io/app")
				p.Spec.SecurityContext.AppArmorProfile = appArmorProfile(corev1.AppArmorProfileTypeUnconfined, "")
			},
			want: []string{"spec.securityContext.appArmorProfile: Forbidden: unconfined is not an allowed profile"},
			allowing: func(p *policyv1.PodSecurityPolicy) {
				p.Annotations[policyv1.AppArmorAllowedProfilesAnnotationKey] = "unconfined"
			}},
		{name: "pod appArmorProfile RuntimeDefault is a setting: no annotation default needed", pod: func(p *corev1.Pod) {
			delete(p.Annotations, "container.apparmor.security.beta.kubernetes.io/app")
			p.Spec.SecurityContext.AppArmorProfile = appArmorProfile(corev1.AppArmorProfileTypeRuntimeDefault, "")
		}},
		{name: "pod seccompProfile field differing from an allowed annotation",
			pod: func(p *corev1.Pod) {
				p.Spec.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
			},
			want:     []string{"spec.securityContext.seccompProfile: Forbidden: unconfined is not an allowed seccomp profile"},
			allowing: func(p *policyv1.PodSecurityPolicy) { p.Annotations[policyv1.SeccompAllowedProfilesAnnotationKey] = "*" }},
		{name: "container Localhost seccomp profile",
			pod: func(p *corev1.Pod) {
				csc(p).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("audit.json")}
			},
			want: []string{"pod.metadata.annotations[container.seccomp.security.alpha.kubernetes.io/app]: Forbidden: localhost/audit.json is not an allowed seccomp profile"},
			allowing: func(p *policyv1.PodSecurityPolicy) {
				p.Annotations[policyv1.SeccompAllowedProfilesAnnotationKey] = "runtime/default,localhost/audit.json"
			}},
		{name: "pod hostProcess",
			pod: func(p *corev1.Pod) {
				p.Spec.HostNetwork = true
				p.Spec.SecurityContext.WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: ptr(true)}
			},
			want:     []string{"spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used", "spec.securityContext.windowsOptions.hostProcess: Invalid value: true: HostProcess containers are not allowed"},
			allowing: func(p *policyv1.PodSecurityPolicy) { p.Spec.Privileged, p.Spec.HostNetwork = true, true }},
		{name: "container hostProcess needs privileged too, not only hostNetwork",
			pod: func(p *corev1.Pod) {
				csc(p).WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: ptr(true)}
			},
			want:     []string{"spec.containers[0].securityContext.windowsOptions.hostProcess: Invalid value: true: HostProcess containers are not allowed"},
			allowing: func(p *policyv1.PodSecurityPolicy) { p.Spec.Privileged, p.Spec.HostNetwork = true, true }},
		{name: "image volume",
			pod:      addVolume(corev1.Volume{Name: "models", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "registry/models:1"}}}),
			want:     []string{`spec.volumes[0]: Invalid value: "image": image volumes are not allowed to be used`},
			allowing: func(p *policyv1.PodSecurityPolicy) { p.Spec.Volumes = append(p.Spec.Volumes, "image") }},
		{name: "volume type unknown to this build",
			pod:      addVolume(corev1.Volume{Name: "future"}),
			want:     []string{`spec.volumes[0]: Invalid value: "": unknown volume type for volume: "future"`},
			allowing: func(p *policyv1.PodSecurityPolicy) { p.Spec.Volumes = []policyv1.FSType{"*"} }},
		{name: "procMount Unmasked, even in a user namespace",
			pod: func(p *corev1.Pod) {
				p.Spec.HostUsers = ptr(false)
				csc(p).ProcMount = ptr(corev1.UnmaskedProcMount)
			},
			want: []string{`spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": ProcMountType is not allowed`},
			allowing: func(p *policyv1.PodSecurityPolicy) {
				p.Spec.AllowedProcMountTypes = []corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount}
			}},
		{name: "privileged sidecar init container",
			pod: func(p *corev1.Pod) {
				sidecar := p.Spec.Containers[0].DeepCopy()
				sidecar.Name, sidecar.RestartPolicy = "proxy", ptr(corev1.ContainerRestartPolicyAlways)
				sidecar.SecurityContext.Privileged = ptr(true)
				p.Spec.InitContainers = []corev1.Container{*sidecar}
				p.Annotations["container.apparmor.security.beta.kubernetes.io/proxy"] = "runtime/default"
			},
			want:     []string{"spec.initContainers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed"},
			allowing: func(p *policyv1.PodSecurityPolicy) { p.Spec.Privileged = true }},
		{name: "user namespace (harmless)", pod: func(p *corev1.Pod) { p.Spec.HostUsers = ptr(false) }},
		{name: "supplementalGroupsPolicy Strict (harmless)", pod: func(p *corev1.Pod) {
			p.Spec.SecurityContext.SupplementalGroupsPolicy = ptr(corev1.SupplementalGroupsPolicyStrict)
		}},
		{name: "seLinuxChangePolicy (harmless)", pod: func(p *corev1.Pod) {
			p.Spec.SecurityContext.SELinuxChangePolicy = ptr(corev1.SELinuxChangePolicyMountOption)
		}},
		{name: "resizePolicy (harmless)", pod: func(p *corev1.Pod) {
			p.Spec.Containers[0].ResizePolicy = []corev1.ContainerResizePolicy{{ResourceName: corev1.ResourceCPU, RestartPolicy: corev1.NotRequired}}
		}},
		{name: "os (harmless)", pod: func(p *corev1.Pod) { p.Spec.OS = &corev1.PodOS{Name: corev1.Linux} }},
		{name: "resourceClaims (harmless)", pod: func(p *corev1.Pod) {
			p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: ptr("gpu-claim")}}
			p.Spec.Containers[0].Resources.Claims = []corev1.ResourceClaim{{Name: "gpu"}}
		}},
		{name: "pod-level resources (harmless)", pod: func(p *corev1.Pod) {
			p.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resourcev1.MustParse("1")}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := compliantPod()
			tc.pod(pod)
			d := decide(t, mustSet(t, modernRestricted()), allowAll(), Request{Pod: pod})
			if tc.want == nil {
				if !d.Allowed || len(d.Changes) != 1 {
					t.Fatalf("restricted must admit it unchanged: %s %+v", d.Message, d.Changes)
				}
				return
			}
			if d.Allowed {
				t.Fatalf("restricted admitted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(d.Message, w) {
					t.Errorf("message lacks %q:\n%s", w, d.Message)
				}
			}
			allowing := modernRestricted()
			tc.allowing(allowing)
			if d := decide(t, mustSet(t, allowing), allowAll(), Request{Pod: pod}); !d.Allowed {
				t.Errorf("the policy that allows it refused: %s", d.Message)
			}
		})
	}
}

func TestRequireUserNamespace(t *testing.T) {
	p := permissivePolicy("userns")
	p.Spec.RequireUserNamespace = true
	set := mustSet(t, p)
	d := decide(t, set, allowAll(), Request{Pod: newPod()})
	if d.Allowed || d.Message != "PodSecurityPolicy: unable to admit pod: [spec.hostUsers: Invalid value: null: the policy requires a user namespace: set hostUsers: false]" {
		t.Errorf("got %s", d.Message)
	}
	pod := newPod()
	pod.Spec.HostUsers = ptr(false)
	if d := decide(t, set, allowAll(), Request{Pod: pod}); !d.Allowed {
		t.Errorf("refused a pod in a user namespace: %s", d.Message)
	}
}

func TestAppArmorDefaultDoesNotContradictField(t *testing.T) {
	pod := compliantPod()
	delete(pod.Annotations, "container.apparmor.security.beta.kubernetes.io/app")
	pod.Spec.Containers[0].SecurityContext.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	d := decide(t, mustSet(t, modernRestricted()), allowAll(), Request{Pod: pod})
	if !d.Allowed {
		t.Fatal(d.Message)
	}
	if _, ok := d.Pod.Annotations["container.apparmor.security.beta.kubernetes.io/app"]; ok {
		t.Error("the default annotation was added although the field sets the profile")
	}
}
