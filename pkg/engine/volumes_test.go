package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func withVolumes(types ...policyv1.FSType) func(*policyv1.PodSecurityPolicy) {
	return func(p *policyv1.PodSecurityPolicy) { p.Spec.Volumes = types }
}

func addVolume(v corev1.Volume, mounts ...corev1.VolumeMount) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, v)
		p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, mounts...)
	}
}

func TestVolumes(t *testing.T) {
	hostPath := corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}}
	saToken := corev1.Volume{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
		{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
	}}}}
	otherProjected := corev1.Volume{Name: "p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "vault"}},
	}}}}
	runControlCases(t, []controlCase{
		{name: "wildcard", pod: addVolume(hostPath)},
		{name: "type not allowed", policy: withVolumes("emptyDir"), pod: addVolume(hostPath), wantErrors: []string{
			`spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used`}},
		{name: "service account token allowed with secret", policy: withVolumes("secret"), pod: addVolume(saToken)},
		{name: "other projected needs projected", policy: withVolumes("secret"), pod: addVolume(otherProjected), wantErrors: []string{
			`spec.volumes[0]: Invalid value: "projected": projected volumes are not allowed to be used`}},
		{name: "image volumes only with wildcard", policy: withVolumes("emptyDir"), pod: addVolume(corev1.Volume{Name: "i", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "x"}}}),
			wantErrors: []string{`spec.volumes[0]: Invalid value: "image": image volumes are not allowed to be used`}},
		{name: "unknown type allowed by wildcard", pod: addVolume(corev1.Volume{Name: "future"})},
		{name: "unknown type refused otherwise", policy: withVolumes("emptyDir", "image"), pod: addVolume(corev1.Volume{Name: "future"}), wantErrors: []string{
			`spec.volumes[0]: Invalid value: "": unknown volume type for volume: "future"; only a policy allowing all volume types ("*") admits it`}},
		{name: "image volumes when listed", policy: withVolumes("image"), pod: addVolume(corev1.Volume{Name: "i", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "x"}}})},
	})
}

func TestHostPaths(t *testing.T) {
	paths := func(a ...policyv1.AllowedHostPath) func(*policyv1.PodSecurityPolicy) {
		return func(p *policyv1.PodSecurityPolicy) { p.Spec.AllowedHostPaths = a }
	}
	vol := func(path string, readOnly bool) func(*corev1.Pod) {
		return addVolume(corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}}},
			corev1.VolumeMount{Name: "h", MountPath: "/h", ReadOnly: readOnly})
	}
	runControlCases(t, []controlCase{
		{name: "no list allows all", pod: vol("/", false)},
		{name: "under prefix", policy: paths(policyv1.AllowedHostPath{PathPrefix: "/var/log"}), pod: vol("/var/log/pods", false)},
		{name: "segment boundary", policy: paths(policyv1.AllowedHostPath{PathPrefix: "/var/log"}), pod: vol("/var/logs", false), wantErrors: []string{
			`spec.volumes[0].hostPath.pathPrefix: Invalid value: "/var/logs": is not allowed to be used`}},
		{name: "trailing slashes", policy: paths(policyv1.AllowedHostPath{PathPrefix: "/var/log/"}), pod: vol("/var/log/", false)},
		{name: "read-only prefix needs read-only mounts", policy: paths(policyv1.AllowedHostPath{PathPrefix: "/var/log", ReadOnly: true}), pod: vol("/var/log", false),
			wantErrors: []string{"spec.containers[0].volumeMounts[0].readOnly: Invalid value: false: must be read-only"}},
		{name: "read-only prefix, read-only mount", policy: paths(policyv1.AllowedHostPath{PathPrefix: "/var/log", ReadOnly: true}), pod: vol("/var/log", true)},
		{name: "a writable prefix wins over a read-only one", policy: paths(policyv1.AllowedHostPath{PathPrefix: "/var", ReadOnly: true}, policyv1.AllowedHostPath{PathPrefix: "/var/log"}),
			pod: vol("/var/log", false)},
	})
}

func TestFlexAndCSIDrivers(t *testing.T) {
	flex := addVolume(corev1.Volume{Name: "f", VolumeSource: corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: "example/lvm"}}})
	csi := addVolume(corev1.Volume{Name: "c", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "secrets-store.csi.k8s.io"}}})
	runControlCases(t, []controlCase{
		{name: "flex: no list allows all", pod: flex},
		{name: "flex: listed", policy: func(p *policyv1.PodSecurityPolicy) {
			p.Spec.AllowedFlexVolumes = []policyv1.AllowedFlexVolume{{Driver: "example/lvm"}}
		}, pod: flex},
		{name: "flex: not listed", policy: func(p *policyv1.PodSecurityPolicy) {
			p.Spec.AllowedFlexVolumes = []policyv1.AllowedFlexVolume{{Driver: "example/nfs"}}
		}, pod: flex,
			wantErrors: []string{`spec.volumes[0].driver: Invalid value: "example/lvm": Flexvolume driver is not allowed to be used`}},
		{name: "csi: not listed", policy: func(p *policyv1.PodSecurityPolicy) {
			p.Spec.AllowedCSIDrivers = []policyv1.AllowedCSIDriver{{Name: "other"}}
		}, pod: csi,
			wantErrors: []string{`spec.volumes[0].csi.driver: Invalid value: "secrets-store.csi.k8s.io": Inline CSI driver is not allowed to be used`}},
		{name: "csi: listed", policy: func(p *policyv1.PodSecurityPolicy) {
			p.Spec.AllowedCSIDrivers = []policyv1.AllowedCSIDriver{{Name: "secrets-store.csi.k8s.io"}}
		}, pod: csi},
	})
}
