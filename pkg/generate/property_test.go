package generate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/manifest"
)

// TestPropertyTightest generates random pods (a fixed seed, so failures
// repeat) and checks for each, with the policy generated for it alone:
// (a) the real check admits the pod unchanged by that policy; (b) the pod
// with any one privilege raised by one step is refused.
func TestPropertyTightest(t *testing.T) {
	iterations := 400
	if testing.Short() {
		iterations = 50
	}
	rng := rand.New(rand.NewPCG(17, 2026))
	user := authorizer.Impersonate("tester", nil)
	ctx := context.Background()
	for i := range iterations {
		pod := randomPod(rng, i)
		w := podWorkload(pod)
		res, err := Generate([]manifest.Workload{w}, Options{})
		if err != nil {
			t.Fatalf("pod %d: %v", i, err)
		}
		findings, _, err := Prove(ctx, res, ProveOptions{User: user})
		if err != nil {
			t.Fatalf("pod %d: %v", i, err)
		}
		if !findings[0].OK() {
			t.Errorf("pod %d (%s): (a) not admitted unchanged by its own policy: %s\npolicy: %s", i, toJSON(pod), findings[0].Problem, toJSON(res.Policies[0].Policy))
			continue
		}
		policy := res.Policies[0].Policy
		for _, step := range raises(pod, policy) {
			raised := pod.DeepCopy()
			step.raise(raised)
			proof := *res
			proof.Workloads = []manifest.Workload{podWorkload(raised)}
			f, _, err := Prove(ctx, &proof, ProveOptions{User: user})
			if err != nil {
				t.Fatalf("pod %d, %s: %v", i, step.name, err)
			}
			if f[0].Admitted {
				t.Errorf("pod %d: (b) raised by %s, still admitted by %q with changes %v\npod: %s\npolicy: %s", i, step.name, f[0].Policy, f[0].Changes, toJSON(raised), toJSON(policy))
			}
		}
	}
}

type raise struct {
	name  string
	raise func(*corev1.Pod)
}

// raises are the one-step raises of privilege that apply to pod: those
// that ask for something the pod does not already have.
func raises(pod *corev1.Pod, policy *policyv1.PodSecurityPolicy) []raise {
	var out []raise
	c0 := func(p *corev1.Pod) *corev1.SecurityContext { return sc(p) }
	if !slices.ContainsFunc(pod.Spec.Containers, func(c corev1.Container) bool {
		return c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged
	}) {
		out = append(out, raise{"privileged", func(p *corev1.Pod) { c0(p).Privileged = ptr(true); c0(p).AllowPrivilegeEscalation = nil }})
	}
	out = append(out, raise{"one more capability", func(p *corev1.Pod) {
		s := c0(p)
		if s.Capabilities == nil {
			s.Capabilities = &corev1.Capabilities{}
		}
		s.Capabilities.Add = append(s.Capabilities.Add, "SYS_ADMIN")
	}})
	out = append(out, raise{"one more host path", func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "raised", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/raised/path"}}})
		p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "raised", MountPath: "/raised", ReadOnly: true})
	}})
	for _, hp := range policy.Spec.AllowedHostPaths {
		if !hp.ReadOnly {
			continue
		}
		out = append(out, raise{"host path " + hp.PathPrefix + " writable", func(p *corev1.Pod) {
			for _, v := range p.Spec.Volumes {
				if v.HostPath != nil && v.HostPath.Path == hp.PathPrefix {
					p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: "/writable"})
					return
				}
			}
		}})
	}
	if !pod.Spec.HostNetwork {
		out = append(out, raise{"hostNetwork", func(p *corev1.Pod) { p.Spec.HostNetwork = true }})
	}
	if !pod.Spec.HostPID {
		out = append(out, raise{"hostPID", func(p *corev1.Pod) { p.Spec.HostPID = true }})
	}
	if !pod.Spec.HostIPC {
		out = append(out, raise{"hostIPC", func(p *corev1.Pod) { p.Spec.HostIPC = true }})
	}
	// Root is a raise unless the pod may already run as root: as its
	// image's user (RunAsAny) or with UID 0.
	if r := policy.Spec.RunAsUser; r.Rule != policyv1.RunAsUserStrategyRunAsAny && !slices.ContainsFunc(r.Ranges, func(x policyv1.IDRange) bool { return x.Min == 0 }) {
		out = append(out, raise{"root", func(p *corev1.Pod) { c0(p).RunAsUser = ptr(int64(0)); c0(p).RunAsNonRoot = nil }})
	}
	out = append(out, raise{"a new volume type", func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "raised-nfs", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs", Path: "/"}}})
	}})
	out = append(out, raise{"a different host port", func(p *corev1.Pod) {
		port := int32(40000)
		if p.Spec.HostNetwork {
			// With hostNetwork, the apiserver makes hostPort the containerPort.
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{ContainerPort: port})
			return
		}
		p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{ContainerPort: 8000, HostPort: port})
	}})
	return out
}

// randomPod is a pod using a random share of every control.
func randomPod(rng *rand.Rand, i int) *corev1.Pod {
	pick := func(p float64) bool { return rng.Float64() < p }
	one := func(xs ...int64) *int64 { v := xs[rng.IntN(len(xs))]; return &v }
	pod := basePod(fmt.Sprintf("pod-%d", i))
	pod.Spec.AutomountServiceAccountToken = ptr(pick(0.5))
	pod.Spec.HostNetwork, pod.Spec.HostPID, pod.Spec.HostIPC = pick(0.15), pick(0.15), pick(0.15)
	psc := podSC(pod)
	if pick(0.3) {
		psc.RunAsUser = one(0, 1000, 1001, 65534)
	}
	if pick(0.3) {
		psc.RunAsNonRoot = ptr(true)
	}
	if pick(0.3) {
		psc.RunAsGroup = one(0, 1000, 3000)
	}
	if pick(0.3) {
		psc.FSGroup = one(1000, 2000)
	}
	if pick(0.2) {
		psc.SupplementalGroups = []int64{*one(4000, 4001), *one(5000)}
	}
	if pick(0.3) {
		psc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	}
	if pick(0.15) {
		psc.Sysctls = []corev1.Sysctl{{Name: "net.ipv4.ip_local_port_range", Value: "1024 65000"}}
		if pick(0.5) {
			psc.Sysctls = append(psc.Sysctls, corev1.Sysctl{Name: "net.core.somaxconn", Value: "1024"})
		}
	}
	paths := []string{"/var/log", "/etc/ssl/certs", "/var/run/app", "/data"}
	volumeTypes := []func(n string) corev1.Volume{
		func(n string) corev1.Volume {
			return corev1.Volume{Name: n, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
		},
		func(n string) corev1.Volume {
			return corev1.Volume{Name: n, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}}
		},
		func(n string) corev1.Volume {
			return corev1.Volume{Name: n, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}}
		},
		func(n string) corev1.Volume {
			return corev1.Volume{Name: n, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}}
		},
		func(n string) corev1.Volume {
			return corev1.Volume{Name: n, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: paths[rng.IntN(len(paths))]}}}
		},
	}
	for v := range rng.IntN(4) {
		pod.Spec.Volumes = append(pod.Spec.Volumes, volumeTypes[rng.IntN(len(volumeTypes))](fmt.Sprintf("v%d", v)))
	}
	caps := []corev1.Capability{"NET_ADMIN", "NET_BIND_SERVICE", "SYS_TIME", "CHOWN"}
	n := 1 + rng.IntN(3)
	pod.Spec.Containers = nil
	for c := range n {
		ctr := corev1.Container{Name: fmt.Sprintf("c%d", c), Image: "app:1"}
		s := &corev1.SecurityContext{}
		if pick(0.15) {
			s.Privileged = ptr(true)
		} else if pick(0.5) {
			s.AllowPrivilegeEscalation = ptr(pick(0.7) == false)
		}
		if pick(0.3) {
			s.RunAsUser = one(0, 1000, 1002)
		}
		if pick(0.2) {
			s.RunAsNonRoot = ptr(true)
		}
		if pick(0.4) {
			s.ReadOnlyRootFilesystem = ptr(true)
		}
		if pick(0.5) {
			s.Capabilities = &corev1.Capabilities{}
			if pick(0.6) {
				s.Capabilities.Drop = []corev1.Capability{"ALL"}
			}
			for _, c := range caps {
				if pick(0.2) {
					s.Capabilities.Add = append(s.Capabilities.Add, c)
				}
			}
		}
		if pick(0.2) {
			port := int32(1000 + rng.IntN(50))
			ctr.Ports = []corev1.ContainerPort{{ContainerPort: port, HostPort: port}}
		}
		for _, v := range pod.Spec.Volumes {
			if pick(0.7) {
				ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: "/mnt/" + v.Name, ReadOnly: pick(0.5)})
			}
		}
		ctr.SecurityContext = s
		pod.Spec.Containers = append(pod.Spec.Containers, ctr)
	}
	return pod
}
