package podcreate

import (
	"fmt"
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
)

// controllerServiceAccounts are the ServiceAccounts of kube-controller-manager
// that create the pods of each workload kind and of each kind that owns
// pods (a CronJob creates Jobs, whose pods the Job controller creates; a
// Deployment creates ReplicaSets).
var controllerServiceAccounts = map[string]string{
	"Deployment":            "replicaset-controller",
	"ReplicaSet":            "replicaset-controller",
	"StatefulSet":           "statefulset-controller",
	"DaemonSet":             "daemon-set-controller",
	"ReplicationController": "replication-controller",
	"Job":                   "job-controller",
	"CronJob":               "job-controller",
}

// ControllerUser is the identity of the controller that creates the pods of
// a workload kind, or of pods owned by an object of that kind, as
// kube-controller-manager authenticates with --use-service-account-credentials:
// system:serviceaccount:kube-system:NAME in groups system:serviceaccounts,
// system:serviceaccounts:kube-system and system:authenticated (the groups
// of a ServiceAccount token, as authorizer.Impersonate gives them). False for
// kinds no controller of kube-controller-manager creates pods for.
func ControllerUser(kind string) (authorizer.UserInfo, bool) {
	sa, ok := controllerServiceAccounts[kind]
	if !ok {
		return authorizer.UserInfo{}, false
	}
	return authorizer.Impersonate(authorizer.ServiceAccountUsername("kube-system", sa), nil), true
}

// ownerKinds are, per workload kind, the API version and kind of the object
// that owns its pods.
var ownerKinds = map[string][2]string{
	"Deployment":            {"apps/v1", "ReplicaSet"},
	"ReplicaSet":            {"apps/v1", "ReplicaSet"},
	"StatefulSet":           {"apps/v1", "StatefulSet"},
	"DaemonSet":             {"apps/v1", "DaemonSet"},
	"ReplicationController": {"v1", "ReplicationController"},
	"Job":                   {"batch/v1", "Job"},
	"CronJob":               {"batch/v1", "Job"},
}

// FromWorkload returns the pod that the controller of a workload creates
// from its pod template, before the apiserver sees it, as v1.37's
// pkg/controller/controller_utils.go GetPodFromTemplate does: the
// template's labels, annotations, finalizers and spec, generateName
// "NAME-", the workload's namespace and a controller owner reference.
// StatefulSets follow pkg/controller/statefulset/stateful_set_utils.go
// newStatefulSetPod for the first replica: name NAME-0, hostname and
// subdomain, the pod-name and pod-index labels, and one
// persistentVolumeClaim volume per volumeClaimTemplate (replacing a
// template volume of the same name; in the claim templates' order, where the
// controller's order varies).
//
// A Deployment's pods are owned by a ReplicaSet and a CronJob's by a Job
// whose names carry a hash or a schedule time known only in the cluster:
// the owner reference and generateName use the workload's name instead,
// which no PodSecurityPolicy control reads. A PodTemplate, which no
// controller of kube-controller-manager instantiates, gets generateName and
// no owner.
//
// obj is one of *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet,
// *appsv1.ReplicaSet, *corev1.ReplicationController, *batchv1.Job,
// *batchv1.CronJob, *corev1.PodTemplate, with its namespace set. Errors:
// another type, or a ReplicationController without spec.template.
func FromWorkload(obj metav1.Object) (*corev1.Pod, error) {
	var tmpl *corev1.PodTemplateSpec
	var kind string
	switch o := obj.(type) {
	case *appsv1.Deployment:
		kind, tmpl = "Deployment", &o.Spec.Template
	case *appsv1.StatefulSet:
		kind, tmpl = "StatefulSet", &o.Spec.Template
	case *appsv1.DaemonSet:
		kind, tmpl = "DaemonSet", &o.Spec.Template
	case *appsv1.ReplicaSet:
		kind, tmpl = "ReplicaSet", &o.Spec.Template
	case *corev1.ReplicationController:
		kind, tmpl = "ReplicationController", o.Spec.Template
	case *batchv1.Job:
		kind, tmpl = "Job", &o.Spec.Template
	case *batchv1.CronJob:
		kind, tmpl = "CronJob", &o.Spec.JobTemplate.Spec.Template
	case *corev1.PodTemplate:
		kind, tmpl = "PodTemplate", &o.Template
	default:
		return nil, fmt.Errorf("%T is not a workload with a pod template", obj)
	}
	if tmpl == nil {
		return nil, fmt.Errorf("%s %q has no spec.template", kind, obj.GetName())
	}
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Labels:      maps.Clone(tmpl.Labels),
			Annotations: maps.Clone(tmpl.Annotations),
			Finalizers:  append([]string(nil), tmpl.Finalizers...),
			Namespace:   obj.GetNamespace(),
		},
		Spec: *tmpl.Spec.DeepCopy(),
	}
	pod.GenerateName = obj.GetName() + "-"
	owner, ok := ownerKinds[kind]
	if !ok {
		return pod, nil
	}
	yes := true
	pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: owner[0], Kind: owner[1], Name: obj.GetName(), UID: obj.GetUID(),
		Controller: &yes, BlockOwnerDeletion: &yes}}
	if set, ok := obj.(*appsv1.StatefulSet); ok {
		statefulSetPod(set, pod, 0)
	}
	return pod, nil
}

// statefulSetPod gives pod the identity and storage of replica ordinal.
func statefulSetPod(set *appsv1.StatefulSet, pod *corev1.Pod, ordinal int) {
	pod.GenerateName = ""
	pod.Name = set.Name + "-" + strconv.Itoa(ordinal)
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.StatefulSetPodNameLabel] = pod.Name
	pod.Labels[appsv1.PodIndexLabel] = strconv.Itoa(ordinal)
	pod.Spec.Hostname, pod.Spec.Subdomain = pod.Name, set.Spec.ServiceName
	claims := map[string]bool{}
	volumes := make([]corev1.Volume, 0, len(set.Spec.VolumeClaimTemplates)+len(pod.Spec.Volumes))
	for _, c := range set.Spec.VolumeClaimTemplates {
		claims[c.Name] = true
		volumes = append(volumes, corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
			ClaimName: fmt.Sprintf("%s-%s-%d", c.Name, set.Name, ordinal)}}})
	}
	for _, v := range pod.Spec.Volumes {
		if !claims[v.Name] {
			volumes = append(volumes, v)
		}
	}
	if len(volumes) > 0 {
		pod.Spec.Volumes = volumes
	}
}
