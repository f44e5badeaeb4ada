package engine

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// volumes is the volumes control: every volume's type must be in the
// policy's volumes ("*" allows all). A projected volume made only of the
// ServiceAccount token sources Kubernetes itself injects is allowed wherever
// secret volumes are. Volumes of an allowed type then go through the checks
// of their type (host paths, flexVolume drivers, CSI drivers).
type volumes struct {
	allowAll bool
	allowed  map[policyv1.FSType]bool
	byType   map[policyv1.FSType]volumeChecker
}

// volumeChecker checks one volume of the type it is registered for.
type volumeChecker interface {
	checkVolume(pod *corev1.Pod, index int, v *corev1.Volume, errs field.ErrorList) field.ErrorList
}

// fsTypeImage is the image volume type, added to pods after v1.24: allowed
// by "*" or, in a policy.kube-psp.io/v1 policy, by listing "image".
const fsTypeImage = policyv1.Image

var volumesPath = specPath.Child("volumes")

func (vc volumes) checkPod(pod *corev1.Pod, errs field.ErrorList) field.ErrorList {
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		fsType := volumeFSType(v)
		if fsType == "" {
			// A volume whose source this build does not know (a type added
			// to Kubernetes after it): only "*" allows it.
			if !vc.allowAll {
				errs = append(errs, field.Invalid(volumesPath.Index(i), "", fmt.Sprintf("unknown volume type for volume: %q; only a policy allowing all volume types (\"*\") admits it", v.Name)))
			}
			continue
		}
		if !vc.allowAll && !vc.allowed[fsType] && !vc.allowedAsServiceAccountToken(fsType, v) {
			errs = append(errs, field.Invalid(volumesPath.Index(i), string(fsType), fmt.Sprintf("%s volumes are not allowed to be used", fsType)))
			continue
		}
		if check, ok := vc.byType[fsType]; ok {
			errs = check.checkVolume(pod, i, v, errs)
		}
	}
	return errs
}

// allowedAsServiceAccountToken: when secret volumes are allowed, so are
// projected volumes with only the token, kube-root-ca.crt and namespace
// sources of an injected ServiceAccount token volume.
func (vc volumes) allowedAsServiceAccountToken(fsType policyv1.FSType, v *corev1.Volume) bool {
	return fsType == policyv1.Projected && vc.allowed[policyv1.Secret] && isOnlyServiceAccountTokenSources(v.Projected)
}

func isOnlyServiceAccountTokenSources(p *corev1.ProjectedVolumeSource) bool {
	for _, s := range p.Sources {
		if s.ServiceAccountToken == nil && s.ConfigMap == nil && s.DownwardAPI == nil {
			return false
		}
		if t := s.ServiceAccountToken; t != nil && (t.Path != "token" || t.Audience != "") {
			return false
		}
		if s.ConfigMap != nil && s.ConfigMap.Name != "kube-root-ca.crt" {
			return false
		}
		if s.DownwardAPI != nil {
			for _, d := range s.DownwardAPI.Items {
				if d.Path != "namespace" || d.FieldRef == nil || d.FieldRef.APIVersion != "v1" || d.FieldRef.FieldPath != "metadata.namespace" {
					return false
				}
			}
		}
	}
	return true
}

// volumeFSType is the policy volume type of a volume, in v1.24's order of
// precedence; "" when the volume has no known source.
func volumeFSType(v *corev1.Volume) policyv1.FSType {
	switch {
	case v.HostPath != nil:
		return policyv1.HostPath
	case v.EmptyDir != nil:
		return policyv1.EmptyDir
	case v.GCEPersistentDisk != nil:
		return policyv1.GCEPersistentDisk
	case v.AWSElasticBlockStore != nil:
		return policyv1.AWSElasticBlockStore
	case v.GitRepo != nil:
		return policyv1.GitRepo
	case v.Secret != nil:
		return policyv1.Secret
	case v.NFS != nil:
		return policyv1.NFS
	case v.ISCSI != nil:
		return policyv1.ISCSI
	case v.Glusterfs != nil:
		return policyv1.Glusterfs
	case v.PersistentVolumeClaim != nil:
		return policyv1.PersistentVolumeClaim
	case v.RBD != nil:
		return policyv1.RBD
	case v.FlexVolume != nil:
		return policyv1.FlexVolume
	case v.Cinder != nil:
		return policyv1.Cinder
	case v.CephFS != nil:
		return policyv1.CephFS
	case v.Flocker != nil:
		return policyv1.Flocker
	case v.DownwardAPI != nil:
		return policyv1.DownwardAPI
	case v.FC != nil:
		return policyv1.FC
	case v.AzureFile != nil:
		return policyv1.AzureFile
	case v.ConfigMap != nil:
		return policyv1.ConfigMap
	case v.VsphereVolume != nil:
		return policyv1.VsphereVolume
	case v.Quobyte != nil:
		return policyv1.Quobyte
	case v.AzureDisk != nil:
		return policyv1.AzureDisk
	case v.PhotonPersistentDisk != nil:
		return policyv1.PhotonPersistentDisk
	case v.StorageOS != nil:
		return policyv1.StorageOS
	case v.Projected != nil:
		return policyv1.Projected
	case v.PortworxVolume != nil:
		return policyv1.PortworxVolume
	case v.ScaleIO != nil:
		return policyv1.ScaleIO
	case v.CSI != nil:
		return policyv1.CSI
	case v.Ephemeral != nil:
		return policyv1.Ephemeral
	case v.Image != nil:
		return fsTypeImage
	}
	return ""
}
