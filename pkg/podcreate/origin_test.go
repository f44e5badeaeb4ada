package podcreate

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// Origin names what Create set and nothing the author wrote.
func TestOrigin(t *testing.T) {
	written := basePod()
	written.Spec.HostNetwork = true
	written.Spec.ServiceAccountName = "quiet"
	written.Spec.InitContainers[0].Ports = []corev1.ContainerPort{{ContainerPort: 9050}}
	written.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}, {ContainerPort: 9100}}
	written.Spec.Volumes = []corev1.Volume{{Name: "scratch"}, {Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}}
	created := Create(written, nil)
	for _, tc := range []struct{ path, how, avoid string }{
		{"spec.containers[0].ports[1].hostPort", "the apiserver sets hostPort to containerPort 9100 because hostNetwork is true (v1 defaults)", ""},
		{"spec.initContainers[0].ports[0].hostPort", "the apiserver sets hostPort to containerPort 9050 because hostNetwork is true (v1 defaults)", ""},
		{"spec.containers[0].ports[0].hostPort", "", ""},
		{"spec.containers[0].ports[2].hostPort", "", ""},
		{"spec.containers[1].ports[0].hostPort", "", ""},
		{"spec.volumes[0]", `volume "scratch" names no source, so the apiserver makes it an emptyDir (v1 defaults)`, "give it a source"},
		{"spec.volumes[1]", "", ""},
		{"spec.volumes[2]", "the ServiceAccount admission plugin adds the projected volume kube-api-access-… with the token of ServiceAccount quiet",
			"set automountServiceAccountToken: false on the pod or its ServiceAccount"},
		{"spec.volumes[3]", "", ""},
		{"spec.hostNetwork", "", ""},
	} {
		how, avoid := Origin(written, created, &corev1.ServiceAccount{}, tc.path)
		if how != tc.how || avoid != tc.avoid {
			t.Errorf("%s: got %q, %q; want %q, %q", tc.path, how, avoid, tc.how, tc.avoid)
		}
	}

	// A pod read back from a cluster has both already: nothing was set.
	if how, _ := Origin(written, created, nil, "spec.volumes[2]"); how != "the ServiceAccount admission plugin adds the projected volume kube-api-access-… with the token of ServiceAccount quiet (its object not given, so automountServiceAccountToken is taken as unset)" {
		t.Errorf("a token volume of an unknown ServiceAccount: %q", how)
	}
	on := true
	written.Spec.AutomountServiceAccountToken = &on
	if how, _ := Origin(written, Create(written, nil), nil, "spec.volumes[2]"); how != "the ServiceAccount admission plugin adds the projected volume kube-api-access-… with the token of ServiceAccount quiet" {
		t.Errorf("a token volume the pod asks for: %q", how)
	}
	if how, _ := Origin(created, Create(created, nil), nil, "spec.volumes[2]"); how != "" {
		t.Errorf("a token volume the pod already has: %q", how)
	}
	if how, _ := Origin(created, Create(created, nil), nil, "spec.containers[0].ports[1].hostPort"); how != "" {
		t.Errorf("a hostPort the pod already has: %q", how)
	}
}
