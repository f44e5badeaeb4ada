package engine

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func TestUsage(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
			corev1.SeccompPodAnnotationKey:                                    "runtime/default",
			corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix + "app": "localhost/app",
		}},
		Spec: corev1.PodSpec{
			HostNetwork: true, HostIPC: true, HostUsers: ptr(false), RuntimeClassName: ptr("gvisor"),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsUser: ptr(int64(1000)), FSGroup: ptr(int64(2000)), SupplementalGroups: []int64{3000},
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr("p.json")},
				Sysctls:        []corev1.Sysctl{{Name: "kernel.shm_rmid_forced", Value: "1"}, {Name: "net.core.somaxconn", Value: "1024"}},
			},
			Volumes: []corev1.Volume{
				{Name: "logs", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
				{Name: "run", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/run"}}},
				{Name: "flex", VolumeSource: corev1.VolumeSource{FlexVolume: &corev1.FlexVolumeSource{Driver: "example/lvm"}}},
				{Name: "csi", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "csi.example.com"}}},
				{Name: "unknown"},
			},
			InitContainers: []corev1.Container{{Name: "init", VolumeMounts: []corev1.VolumeMount{{Name: "run", MountPath: "/run"}}}},
			Containers: []corev1.Container{{
				Name:         "app",
				Ports:        []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 81}},
				VolumeMounts: []corev1.VolumeMount{{Name: "logs", MountPath: "/logs", ReadOnly: true}, {Name: "run", MountPath: "/run", ReadOnly: true}},
				SecurityContext: &corev1.SecurityContext{
					Privileged: ptr(true), RunAsUser: ptr(int64(0)), RunAsNonRoot: ptr(false),
					Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"ALL"}},
					ProcMount:    ptr(corev1.UnmaskedProcMount), ReadOnlyRootFilesystem: ptr(true), AllowPrivilegeEscalation: ptr(true),
				},
			}},
		},
	}
	u := Usage(pod)
	if !u.HostNetwork || u.HostPID || !u.HostIPC || u.HostUsers == nil || *u.HostUsers || *u.RuntimeClassName != "gvisor" || *u.FSGroup != 2000 || !slices.Equal(u.SupplementalGroups, []int64{3000}) {
		t.Errorf("pod-level usage wrong: %+v", u)
	}
	if want := []string{"runtime/default", "localhost/p.json"}; !slices.Equal(u.SeccompProfiles, want) {
		t.Errorf("SeccompProfiles = %q, want %q", u.SeccompProfiles, want)
	}
	if !slices.Equal(u.Sysctls, []string{"kernel.shm_rmid_forced", "net.core.somaxconn"}) || !slices.Equal(u.UnsafeSysctls, []string{"net.core.somaxconn"}) {
		t.Errorf("sysctls = %q, unsafe %q", u.Sysctls, u.UnsafeSysctls)
	}
	wantVolumes := []VolumeUsage{
		{Name: "logs", Type: policyv1.HostPath, HostPath: "/var/log", ReadOnly: true},
		{Name: "run", Type: policyv1.HostPath, HostPath: "/run", ReadOnly: false},
		{Name: "flex", Type: policyv1.FlexVolume, Driver: "example/lvm"},
		{Name: "csi", Type: policyv1.CSI, Driver: "csi.example.com"},
		{Name: "unknown"},
	}
	if !equality.Semantic.DeepEqual(u.Volumes, wantVolumes) {
		t.Errorf("Volumes = %+v, want %+v", u.Volumes, wantVolumes)
	}
	if len(u.Containers) != 2 || u.Containers[0].Name != "init" || u.Containers[1].Name != "app" {
		t.Fatalf("Containers = %+v", u.Containers)
	}
	init, app := u.Containers[0], u.Containers[1]
	if init.Privileged || *init.RunAsUser != 1000 || init.ProcMount != corev1.DefaultProcMount || init.SeccompProfile != "localhost/p.json" || init.AppArmorProfile != "" {
		t.Errorf("init container usage = %+v", init)
	}
	if !app.Privileged || *app.RunAsUser != 0 || *app.RunAsNonRoot || app.ProcMount != corev1.UnmaskedProcMount || app.AppArmorProfile != "localhost/app" ||
		!slices.Equal(app.HostPorts, []int32{8080}) || !*app.ReadOnlyRootFilesystem || !*app.AllowPrivilegeEscalation || app.Capabilities.Add[0] != "NET_ADMIN" {
		t.Errorf("app container usage = %+v", app)
	}
	if u.HostProcess {
		t.Error("HostProcess set for a Linux pod")
	}
	pod.Spec.Containers[0].SecurityContext.WindowsOptions = &corev1.WindowsSecurityContextOptions{HostProcess: ptr(true)}
	if !Usage(pod).HostProcess {
		t.Error("HostProcess not seen on a container")
	}
}

func TestSafeSysctlsIsACopy(t *testing.T) {
	s := SafeSysctls()
	s[0] = "changed"
	if SafeSysctls()[0] == "changed" {
		t.Error("SafeSysctls returns the engine's own slice")
	}
}
