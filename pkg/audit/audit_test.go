package audit

import (
	"bytes"
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
	"github.com/kube-psp/kube-psp/pkg/source"
)

func restricted() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy.kube-psp.io/v1", "kind": "PodSecurityPolicy", "metadata": map[string]any{"name": "restricted"},
		"spec": map[string]any{
			"runAsUser": map[string]any{"rule": "MustRunAsNonRoot"}, "seLinux": map[string]any{"rule": "RunAsAny"},
			"supplementalGroups": map[string]any{"rule": "RunAsAny"}, "fsGroup": map[string]any{"rule": "RunAsAny"},
			"volumes": []any{"projected"},
		},
	}}
}

func pod(name, sa string, privileged bool, owner string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name},
		Spec: corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{{Name: "c", Image: "nginx",
			SecurityContext: &corev1.SecurityContext{Privileged: &privileged}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if owner != "" {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: owner, Name: name + "-owner", UID: "u", Controller: &yes}}
	}
	return p
}

func TestAuditChecksRunningPodsAsTheirCreators(t *testing.T) {
	useRole := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "use-restricted"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: []string{"restricted"}}}}
	// The ServiceAccount "app" may use the policy; nobody else.
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "app"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "use-restricted"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "team", Name: "app"}}}
	client := fake.NewClientset(useRole, binding,
		pod("web-1", "app", false, "ReplicaSet"),                                  // admitted: its ServiceAccount may use restricted
		pod("root-1", "app", true, "ReplicaSet"),                                  // refused: privileged
		pod("stray", "default", false, ""),                                        // refused: nobody grants it a policy
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "x"}}) // another namespace
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{source.PolicyResource: "PodSecurityPolicyList"}, restricted())
	user := authorizer.UserInfo{Name: "kube-psp:audit", Groups: []string{authorizer.GroupAuthenticated}}
	results, warnings, err := Run(context.Background(), client, dyn, Options{Namespace: "team", User: user})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("err %v, warnings %v", err, warnings)
	}
	got := map[string]bool{}
	for _, r := range results {
		got[r.Workload.Name] = r.Admitted
		if r.Workload.Name == "web-1" && (r.Requester.Name != "system:serviceaccount:kube-system:replicaset-controller" || r.Policy != "restricted") {
			t.Errorf("web-1: requester %q, policy %q", r.Requester.Name, r.Policy)
		}
		if r.Workload.Name == "stray" && r.Requester.Name != "kube-psp:audit" {
			t.Errorf("a bare pod's requester: %q", r.Requester.Name)
		}
		if r.Workload.Source.String() != "pod/team/"+r.Workload.Name {
			t.Errorf("source: %q", r.Workload.Source)
		}
	}
	want := map[string]bool{"web-1": true, "root-1": false, "stray": false}
	if len(got) != len(want) {
		t.Fatalf("results: %v", got)
	}
	for name, admitted := range want {
		if got[name] != admitted {
			t.Errorf("%s: admitted %v, want %v", name, got[name], admitted)
		}
	}
}

// TestStoredPodsPassThePodPathUnchanged: a pod as a cluster stores it has
// been through the apiserver's defaults and the ServiceAccount plugin
// already; check's podcreate steps leave its spec as it is.
func TestStoredPodsPassThePodPathUnchanged(t *testing.T) {
	p := pod("agent-1", "agent", false, "DaemonSet")
	p.Spec.DeprecatedServiceAccount = "agent"
	p.Spec.HostNetwork = true
	p.Spec.SecurityContext = &corev1.PodSecurityContext{}
	p.Annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/c": "runtime/default"}
	c := &p.Spec.Containers[0]
	c.Ports = []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100, Protocol: corev1.ProtocolTCP}}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "kube-api-access-x7k2p", ReadOnly: true, MountPath: podcreate.TokenMountPath}}
	c.SecurityContext.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	p.Spec.Volumes = []corev1.Volume{{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}}}

	w := RecreatedWorkload(p)
	created := podcreate.Create(w.Pod, w.ServiceAccount)
	podcreate.PrepareForCreate(created)
	if !equality.Semantic.DeepEqual(created.Spec, p.Spec) || !equality.Semantic.DeepEqual(created.Annotations, p.Annotations) {
		t.Errorf("the pod path changed a stored pod:\n got %+v\nwant %+v", created.Spec, p.Spec)
	}
	if w.Creator == nil || w.Creator.Name != "system:serviceaccount:kube-system:daemon-set-controller" {
		t.Errorf("creator %+v", w.Creator)
	}
}

// A pod stored without a token volume (its ServiceAccount turned
// automounting off) is not given one when the audit creates it again: a
// policy without projected volumes must not refuse it for a volume it does
// not have.
func TestStoredPodWithoutTokenGetsNone(t *testing.T) {
	p := pod("quiet-1", "quiet", false, "ReplicaSet")
	p.Spec.Volumes, p.Spec.Containers[0].VolumeMounts = nil, nil
	w := RecreatedWorkload(p)
	if created := podcreate.Create(w.Pod, w.ServiceAccount); len(created.Spec.Volumes) != 0 || len(created.Spec.Containers[0].VolumeMounts) != 0 {
		t.Errorf("the pod path added volumes %+v, mounts %+v", created.Spec.Volumes, created.Spec.Containers[0].VolumeMounts)
	}
}

// A pod admitted on the seccomp annotation alone (as v1.24's plugin did)
// runs Unconfined on a v1.27+ kubelet: re-created it would be admitted with
// the field, but as it runs it breaks its policy, and the audit says so.
func TestAuditReportsRunningSeccompProfiles(t *testing.T) {
	policy := restricted()
	policy.SetAnnotations(map[string]string{"seccomp.security.alpha.kubernetes.io/allowedProfileNames": "runtime/default",
		"seccomp.security.alpha.kubernetes.io/defaultProfileName": "runtime/default"})
	useRole := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "use-restricted"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: []string{"restricted"}}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "all"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "use-restricted"},
		Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: authorizer.GroupAuthenticated}}}
	annotationOnly := pod("annotation-only", "app", false, "ReplicaSet")
	annotationOnly.Annotations = map[string]string{"seccomp.security.alpha.kubernetes.io/pod": "runtime/default", "kubernetes.io/psp": "restricted"}
	withField := pod("with-field", "app", false, "ReplicaSet")
	withField.Annotations = annotationOnly.Annotations
	withField.Spec.SecurityContext = &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
	client := fake.NewClientset(useRole, binding, annotationOnly, withField)
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{source.PolicyResource: "PodSecurityPolicyList"}, policy)
	results, _, err := Run(context.Background(), client, dyn, Options{Namespace: "team", User: authorizer.UserInfo{Name: "kube-psp:audit", Groups: []string{authorizer.GroupAuthenticated}}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"annotation-only": {`policy "restricted": spec.containers[0].securityContext.seccompProfile: Forbidden: ` + engine.SeccompUnsetMessage + ". Valid values are runtime/default"},
		"with-field":      nil,
	}
	for _, r := range results {
		if !r.Admitted {
			t.Errorf("%s: re-created it would be admitted: %s", r.Workload.Name, r.Message)
		}
		if !slices.Equal(r.Running, want[r.Workload.Name]) {
			t.Errorf("%s: running problems %q, want %q", r.Workload.Name, r.Running, want[r.Workload.Name])
		}
	}
	if len(results) != 2 {
		t.Errorf("results: %d", len(results))
	}
	// The JSON report of an audit: a running pod's source is the object.
	var out bytes.Buffer
	if err := check.WriteReport(&out, "json", v1alpha1.KindAuditReport, results); err != nil {
		t.Fatal(err)
	}
	decoded, err := v1alpha1.Decode(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	report := decoded.(*v1alpha1.CheckReport)
	if report.Kind != v1alpha1.KindAuditReport || report.Summary.Running != 1 || len(report.Items) != 2 ||
		report.Items[0].Source != (v1alpha1.Source{Object: "pod/team/annotation-only"}) || len(report.Items[0].Running) != 1 {
		t.Errorf("audit report:\n%s", out.String())
	}
}
