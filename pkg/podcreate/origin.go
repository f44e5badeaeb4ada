package podcreate

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

var (
	hostPortPath = regexp.MustCompile(`^spec\.(containers|initContainers)\[(\d+)\]\.ports\[(\d+)\]\.hostPort$`)
	volumePath   = regexp.MustCompile(`^spec\.volumes\[(\d+)\]$`)
)

// Origin reports, for the field at path of created (the pod Create made of
// written with sa, nil when the ServiceAccount is unknown), which step of the
// apiserver set it when written (the pod as its creator sent it) does not
// have that value (how), and a change to written that avoids it (avoid, ""
// when there is none to suggest). It knows the fields a policy refuses that
// Create sets:
//
//   - "spec.containers[0].ports[0].hostPort" (and init containers'): the
//     hostPort Default copies from containerPort with hostNetwork;
//   - "spec.volumes[2]": the token volume AdmitServiceAccount adds, or a
//     volume without a source that Default makes an emptyDir.
//
// how is "" for any other path, and when written has the value. Create
// keeps the order of containers, ports and written volumes, so a path means
// the same field in both pods.
func Origin(written, created *corev1.Pod, sa *corev1.ServiceAccount, path string) (how, avoid string) {
	if m := hostPortPath.FindStringSubmatch(path); m != nil {
		i, _ := strconv.Atoi(m[2])
		j, _ := strconv.Atoi(m[3])
		wrote, set := containerPort(written, m[1], i, j), containerPort(created, m[1], i, j)
		if wrote == nil || set == nil || wrote.HostPort != 0 || set.HostPort == 0 || !created.Spec.HostNetwork {
			return "", ""
		}
		return fmt.Sprintf("the apiserver sets hostPort to containerPort %d because hostNetwork is true (v1 defaults)", set.ContainerPort), ""
	}
	m := volumePath.FindStringSubmatch(path)
	if m == nil {
		return "", ""
	}
	i, _ := strconv.Atoi(m[1])
	if i >= len(created.Spec.Volumes) {
		return "", ""
	}
	v := &created.Spec.Volumes[i]
	if i < len(written.Spec.Volumes) {
		if v.EmptyDir != nil && volumeSourceEmpty(&written.Spec.Volumes[i].VolumeSource) {
			return fmt.Sprintf("volume %q names no source, so the apiserver makes it an emptyDir (v1 defaults)", v.Name),
				"give it a source"
		}
		return "", ""
	}
	if !strings.HasPrefix(v.Name, TokenVolumePrefix) || v.Projected == nil {
		return "", ""
	}
	how = fmt.Sprintf("the ServiceAccount admission plugin adds the projected volume %s… with the token of ServiceAccount %s", TokenVolumePrefix, created.Spec.ServiceAccountName)
	if sa == nil && written.Spec.AutomountServiceAccountToken == nil {
		how += " (its object not given, so automountServiceAccountToken is taken as unset)"
	}
	return how, "set automountServiceAccountToken: false on the pod or its ServiceAccount"
}

// containerPort is port j of container i in the list named list, or nil.
func containerPort(pod *corev1.Pod, list string, i, j int) *corev1.ContainerPort {
	cs := pod.Spec.Containers
	if list == "initContainers" {
		cs = pod.Spec.InitContainers
	}
	if i >= len(cs) || j >= len(cs[i].Ports) {
		return nil
	}
	return &cs[i].Ports[j]
}
