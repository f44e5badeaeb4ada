package podcreate

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/engine"
)

// Names the ServiceAccount admission plugin uses.
const (
	// DefaultServiceAccountName is the ServiceAccount of a pod that names none.
	DefaultServiceAccountName = "default"
	// TokenVolumePrefix starts the name of the token volume; the apiserver
	// appends 5 random characters.
	TokenVolumePrefix = "kube-api-access-"
	// TokenVolumeName is the name given offline to the token volume. The
	// apiserver's is random; "00000" is outside its alphabet, so it never
	// names a real one.
	TokenVolumeName = TokenVolumePrefix + "00000"
	// TokenMountPath is where every container gets the token.
	TokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// mirrorPodAnnotation marks a static pod's mirror, which the plugin
	// leaves alone.
	mirrorPodAnnotation = "kubernetes.io/config.mirror"
)

// AdmitServiceAccount does to pod, in place, what the v1.37 ServiceAccount
// admission plugin does on CREATE before PodSecurityPolicy sees it
// (plugin/pkg/admission/serviceaccount/admission.go, Admit and
// mountServiceAccountToken):
//
//   - spec.serviceAccountName (and its alias) defaults to "default";
//   - unless spec.automountServiceAccountToken is false, each init and
//     regular container without a mount at TokenMountPath gets a read-only
//     one of the token volume, and the pod gets that projected volume (token,
//     kube-root-ca.crt, namespace) when some container needed it and no
//     volume named kube-api-access-* exists.
//
// Whether the token is mounted is upstream's shouldAutomount: the pod's
// automountServiceAccountToken when set, else the ServiceAccount's, else
// true. sa is the pod's ServiceAccount object, nil when unknown (offline,
// when the input does not have it): then its automountServiceAccountToken
// is taken as unset. Its existence is assumed either way (the apiserver
// refuses a pod whose ServiceAccount does not exist). Mirror pods are left
// alone.
func AdmitServiceAccount(pod *corev1.Pod, sa *corev1.ServiceAccount) {
	if _, mirror := pod.Annotations[mirrorPodAnnotation]; mirror {
		return
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = DefaultServiceAccountName
		pod.Spec.DeprecatedServiceAccount = DefaultServiceAccountName
	}
	if !shouldAutomount(pod, sa) {
		return
	}
	volume := TokenVolumeName
	hasVolume := false
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, TokenVolumePrefix) {
			volume, hasVolume = v.Name, true
			break
		}
	}
	needed := false
	mount := func(cs []corev1.Container) {
		for i := range cs {
			if slices.ContainsFunc(cs[i].VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == TokenMountPath }) {
				continue
			}
			cs[i].VolumeMounts = append(cs[i].VolumeMounts, corev1.VolumeMount{Name: volume, ReadOnly: true, MountPath: TokenMountPath})
			needed = true
		}
	}
	mount(pod.Spec.InitContainers)
	mount(pod.Spec.Containers)
	if needed && !hasVolume {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{Projected: tokenVolumeSource()}})
	}
}

// shouldAutomount is upstream's: the pod's preference wins, then the
// ServiceAccount's, then true.
func shouldAutomount(pod *corev1.Pod, sa *corev1.ServiceAccount) bool {
	if a := pod.Spec.AutomountServiceAccountToken; a != nil {
		return *a
	}
	if sa != nil && sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// ServiceAccountName is the name of the ServiceAccount whose token pod gets,
// as the apiserver resolves it before the ServiceAccount admission plugin:
// spec.serviceAccountName, else the deprecated spec.serviceAccount (the
// rule the engine reads a ServiceAccount by, engine.PodServiceAccount), else
// "default".
func ServiceAccountName(pod *corev1.Pod) string {
	if sa := engine.PodServiceAccount(pod); sa != "" {
		return sa
	}
	return DefaultServiceAccountName
}

// tokenVolumeSource is the projected token volume, as upstream's
// TokenVolumeSource: mode 0644, a token valid 3607 seconds, the cluster's CA
// and the pod's namespace.
func tokenVolumeSource() *corev1.ProjectedVolumeSource {
	expiration := int64(3607)
	mode := int32(corev1.ProjectedVolumeSourceDefaultMode)
	return &corev1.ProjectedVolumeSource{DefaultMode: &mode, Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: &expiration, Path: "token"}},
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
			Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
		{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
	}}
}
