package podcreate

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestValidateOS: the v1.37 apiserver's messages for fields the pod's OS
// rules out (pkg/apis/core/validation validateWindows, validateLinux), in
// its order: pod fields, then init, regular and ephemeral containers.
func TestValidateOS(t *testing.T) {
	yes, id := true, int64(1000)
	windows := &corev1.PodOS{Name: corev1.Windows}
	tests := []struct {
		name string
		pod  corev1.Pod
		want string
	}{
		{"no os", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{HostPID: true, Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{Privileged: &yes}}}}}, ""},
		{"windows, nothing linux", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{OS: windows, Containers: []corev1.Container{{Name: "c"}}}}, ""},
		{"windows, one field", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{OS: windows, SecurityContext: &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}}},
			`Pod "p" is invalid: spec.securityContext.seccompProfile: Forbidden: cannot be set for a windows pod`},
		{"windows, pod and containers", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{OS: windows, HostPID: true, HostIPC: true, ShareProcessNamespace: &yes, HostUsers: &yes,
			SecurityContext:     &corev1.PodSecurityContext{FSGroup: &id, RunAsUser: &id, Sysctls: []corev1.Sysctl{{Name: "a", Value: "b"}}},
			InitContainers:      []corev1.Container{{Name: "i", SecurityContext: &corev1.SecurityContext{RunAsGroup: &id}}},
			Containers:          []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{Privileged: &yes, Capabilities: &corev1.Capabilities{}}}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "e", SecurityContext: &corev1.SecurityContext{ReadOnlyRootFilesystem: &yes}}}}}},
			`Pod "p" is invalid: [spec.securityContext.fsGroup: Forbidden: cannot be set for a windows pod, spec.securityContext.sysctls: Forbidden: cannot be set for a windows pod, ` +
				`spec.securityContext.runAsUser: Forbidden: cannot be set for a windows pod, spec.hostUsers: Forbidden: cannot be set for a windows pod, ` +
				`spec.hostPID: Forbidden: cannot be set for a windows pod, spec.hostIPC: Forbidden: cannot be set for a windows pod, ` +
				`spec.shareProcessNamespace: Forbidden: cannot be set for a windows pod, spec.initContainers[0].securityContext.runAsGroup: Forbidden: cannot be set for a windows pod, ` +
				`spec.containers[0].securityContext.capabilities: Forbidden: cannot be set for a windows pod, spec.containers[0].securityContext.privileged: Forbidden: cannot be set for a windows pod, ` +
				`spec.ephemeralContainers[0].securityContext.readOnlyRootFilesystem: Forbidden: cannot be set for a windows pod]`},
		{"linux with windowsOptions, generated name", corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "web-"}, Spec: corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Linux},
			Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{WindowsOptions: &corev1.WindowsSecurityContextOptions{}}}}}},
			`Pod "web-xxxxx" is invalid: spec.containers[0].securityContext.windowsOptions: Forbidden: windows options cannot be set for a linux pod`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := ValidateOS(&tt.pod)
			got := ""
			if len(errs) > 0 {
				got = InvalidMessage(&tt.pod, errs)
			}
			if got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
