package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// SetFieldNote finds the port or volume an error reports, asks origin about
// it, and adds what the policy would have to allow.
func TestSetFieldNote(t *testing.T) {
	token := corev1.Volume{Name: "kube-api-access-00000", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}}
	own := corev1.Volume{Name: "creds", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}}}}}}}
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Ports: []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100}}}},
		Containers:     []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 9100, HostPort: 9100}}}},
		Volumes:        []corev1.Volume{own, token},
	}}
	// origin knows the second port of the app container and the token volume.
	origin := func(path string) (string, string) {
		switch path {
		case "spec.containers[0].ports[1].hostPort":
			return "set by defaults", ""
		case "spec.volumes[1]", "spec.volumes[0]":
			return "added by a plugin", "turn it off"
		}
		return "", ""
	}
	for _, tc := range []struct {
		name string
		err  *field.Error
		want string
	}{
		{"the port whose hostPort is the value", field.Invalid(containersPath.Index(0).Child("hostPort"), int32(9100), "Host port 9100 is not allowed to be used"),
			"set by defaults; let the policy's hostPorts allow 9100"},
		{"a port the author wrote", field.Invalid(containersPath.Index(0).Child("hostPort"), int32(8080), "Host port 8080 is not allowed to be used"), ""},
		{"the same port of another container", field.Invalid(initContainersPath.Index(0).Child("hostPort"), int32(9100), "Host port 9100 is not allowed to be used"), ""},
		{"a token volume, which a policy may admit as a secret", field.Invalid(volumesPath.Index(1), "projected", "projected volumes are not allowed to be used"),
			"added by a plugin; turn it off, or let the policy's volumes allow projected or secret"},
		{"another projected volume", field.Invalid(volumesPath.Index(0), "projected", "projected volumes are not allowed to be used"),
			"added by a plugin; turn it off, or let the policy's volumes allow projected"},
		{"no such volume", field.Invalid(volumesPath.Index(2), "projected", "projected volumes are not allowed to be used"), ""},
		{"another field", field.Invalid(specPath.Child("hostNetwork"), true, "Host network is not allowed to be used"), ""},
		{"not an Invalid error", field.Forbidden(volumesPath.Index(1), "no"), ""},
	} {
		if got := SetFieldNote(pod, tc.err, origin); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := SetFieldNote(pod, field.Invalid(volumesPath.Index(1), "projected", "x"), nil); got != "" {
		t.Errorf("without an origin: %q", got)
	}
}
