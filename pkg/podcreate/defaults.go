package podcreate

import (
	corev1 "k8s.io/api/core/v1"
)

// Default applies, in place, the v1 defaults that a v1.37 apiserver applies
// to a pod it decodes and that matter to PodSecurityPolicy, as
// pkg/apis/core/v1/defaults.go (SetDefaults_Pod, SetDefaults_PodSpec,
// SetDefaults_Volume) and its generated SetObjectDefaults_Pod do:
//
//   - spec.serviceAccountName from the deprecated spec.serviceAccount when
//     empty, then the alias from serviceAccountName (SetDefaults_PodSpec);
//   - spec.securityContext: {} when absent (SetDefaults_PodSpec);
//   - a volume with no source: emptyDir (SetDefaults_Volume);
//   - with spec.hostNetwork, every container and init container port's
//     hostPort from its containerPort when 0 (SetDefaults_Pod). v1.37 does
//     this on pods only, not on pod templates (the gate
//     DefaultHostNetworkHostPortsInPodTemplates that once did it in
//     templates is gone), so a workload's pods get it from the apiserver
//     when the controller creates them, whatever the template says.
//
// Defaults that no control reads (probes, pull policy, protocols, volume
// modes, ...) are left out; Inventory lists what is applied and which
// control-read fields have no default.
func Default(pod *corev1.Pod) {
	spec := &pod.Spec
	if spec.ServiceAccountName == "" {
		spec.ServiceAccountName = spec.DeprecatedServiceAccount
	}
	spec.DeprecatedServiceAccount = spec.ServiceAccountName
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	for i := range spec.Volumes {
		if volumeSourceEmpty(&spec.Volumes[i].VolumeSource) {
			spec.Volumes[i].VolumeSource = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
		}
	}
	if spec.HostNetwork {
		defaultHostNetworkPorts(spec.Containers)
		defaultHostNetworkPorts(spec.InitContainers)
	}
}

// defaultHostNetworkPorts sets each unset hostPort to the containerPort: with
// the node's network, the container listens on the node's port.
func defaultHostNetworkPorts(containers []corev1.Container) {
	for i := range containers {
		for j := range containers[i].Ports {
			if p := &containers[i].Ports[j]; p.HostPort == 0 {
				p.HostPort = p.ContainerPort
			}
		}
	}
}

// volumeSourceEmpty reports whether no volume source is set: upstream's
// ptr.AllPtrFieldsNil on VolumeSource, every field of which is a pointer.
func volumeSourceEmpty(v *corev1.VolumeSource) bool {
	return *v == corev1.VolumeSource{}
}
