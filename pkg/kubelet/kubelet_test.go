package kubelet

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The image users of the kubelet's and the runtimes' tests, and the
// message verifyRunAsNonRoot gives for each (v1.37
// kuberuntime/security_context_others_test.go; containerd's and CRI-O's
// getUserFromImage).
func TestVerifyImageUser(t *testing.T) {
	for _, tc := range []struct{ user, want string }{
		{"", "container has runAsNonRoot and image will run as root"},
		{"0", "container has runAsNonRoot and image will run as root"},
		{"0:0", "container has runAsNonRoot and image will run as root"},
		{"0:1000", "container has runAsNonRoot and image will run as root"},
		{":1000", "container has runAsNonRoot and image will run as root"}, // no user part: the kubelet's default, root
		{"root", "container has runAsNonRoot and image has non-numeric user (root), cannot verify user is non-root"},
		{"app:app", "container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root"},
		{"nobody:0", "container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root"},
		{"1000", ""},
		{"1000:1000", ""},
		{"65534:0", ""},
		{"+1000", ""}, // strconv.ParseInt reads the sign, as the runtimes do
		{"2147483647", ""},
		{"-1", "container has runAsNonRoot and image has an invalid user id (-1). (Must be 1-(2147483647)): must be between 0 and 2147483647, inclusive"},
		{"2147483648", "container has runAsNonRoot and image has an invalid user id (2147483648). (Must be 1-(2147483647)): must be between 0 and 2147483647, inclusive"},
		{"99999999999999999999", "container has runAsNonRoot and image has non-numeric user (99999999999999999999), cannot verify user is non-root"}, // beyond int64
	} {
		got := ""
		if err := verifyImageUser(tc.user); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("user %q: got %q, want %q", tc.user, got, tc.want)
		}
	}
}

func TestEffective(t *testing.T) {
	yes, no := true, false
	uid0, uid1000 := int64(0), int64(1000)
	for _, tc := range []struct {
		name      string
		pod       *corev1.PodSecurityContext
		container *corev1.SecurityContext
		nonRoot   bool
		runAsUser *int64
	}{
		{"nothing set", nil, nil, false, nil},
		{"pod only", &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid1000}, nil, true, &uid1000},
		{"container only", nil, &corev1.SecurityContext{RunAsNonRoot: &yes}, true, nil},
		{"container false overrides pod true", &corev1.PodSecurityContext{RunAsNonRoot: &yes}, &corev1.SecurityContext{RunAsNonRoot: &no}, false, nil},
		{"container user overrides pod user", &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid1000}, &corev1.SecurityContext{RunAsUser: &uid0}, true, &uid0},
		{"empty container context keeps the pod's", &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid0}, &corev1.SecurityContext{}, true, &uid0},
	} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{SecurityContext: tc.pod}}
		nonRoot, user := effective(pod, &corev1.Container{SecurityContext: tc.container})
		if nonRoot != tc.nonRoot || (user == nil) != (tc.runAsUser == nil) || (user != nil && *user != *tc.runAsUser) {
			t.Errorf("%s: got %v, %v; want %v, %v", tc.name, nonRoot, user, tc.nonRoot, tc.runAsUser)
		}
	}
}
