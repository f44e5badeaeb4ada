package explain

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
)

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", 200)
	got := Truncate(long)
	if len(got) > MaxWarningLength || !strings.HasSuffix(got, "...") || strings.ToValidUTF8(got, "\uFFFD") != got {
		t.Errorf("truncate: %d bytes %q", len(got), got)
	}
	if Truncate("short") != "short" {
		t.Error("short strings must stay")
	}
}

func TestAuthorizationErrorsAreExplained(t *testing.T) {
	d := engine.Decision{Attempts: []engine.Attempt{{Policy: "restricted", Outcome: engine.OutcomeUnauthorized,
		Authorization: &engine.Authorization{Errors: []string{"alice: SubjectAccessReview for use podsecuritypolicies.policy/restricted: connection refused"}}}}}
	e := Explain(engine.Request{Namespace: "ns", User: authorizer.UserInfo{Name: "alice"}, Pod: &corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: "app"}}}, d)
	if len(e.Policies) != 1 || len(e.Policies[0].AuthorizationErrors) != 1 {
		t.Fatalf("explanation: %+v", e)
	}
	w := e.Warnings()
	if len(w) == 0 || !strings.Contains(w[0], `policy "restricted": could not tell whether it may be used: alice: SubjectAccessReview`) {
		t.Fatalf("warnings: %q", w)
	}
}

// A v1.24 message naming the pod's seccomp annotation, for a pod that set
// only the field, is kept; the explanation names the field, and the webhook
// warnings carry the note on its own.
func TestAnnotationNotes(t *testing.T) {
	policy := &policyv1.PodSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: "restricted", Annotations: map[string]string{
		policyv1.SeccompAllowedProfilesAnnotationKey: "runtime/default"}},
		Spec: policyv1.PodSecurityPolicySpec{
			RunAsUser: policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyRunAsAny}, SELinux: policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyRunAsAny},
			SupplementalGroups: policyv1.SupplementalGroupsStrategyOptions{Rule: policyv1.SupplementalGroupsStrategyRunAsAny}, FSGroup: policyv1.FSGroupStrategyOptions{Rule: policyv1.FSGroupStrategyRunAsAny},
			Volumes: []policyv1.FSType{policyv1.All}}}
	set, err := engine.NewPolicySet([]*policyv1.PodSecurityPolicy{policy})
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}},
		Containers:      []corev1.Container{{Name: "app", Image: "x"}}}}
	req := engine.Request{Phase: engine.PhaseAdmit, Operation: engine.OperationCreate, Namespace: "ns", User: authorizer.UserInfo{Name: "alice"}, Pod: pod}
	d, err := engine.Decide(context.Background(), set, allowAlice{}, req, engine.Options{ExplainAll: true})
	if err != nil {
		t.Fatal(err)
	}
	const v124 = "pod.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: Forbidden: unconfined is not an allowed seccomp profile. Valid values are runtime/default"
	const note = "the pod has no annotation seccomp.security.alpha.kubernetes.io/pod: the profile is its spec.securityContext.seccompProfile"
	if d.Allowed || !strings.Contains(d.Message, v124+" ") {
		t.Fatalf("v1.24's message must stay: %s", d.Message)
	}
	e := Explain(req, d)
	if !slices.Contains(e.Notes, note) || len(e.Policies) != 1 || !slices.Contains(e.Policies[0].Errors, v124+" ("+note+")") {
		t.Errorf("explanation: notes %q, errors %q", e.Notes, e.Policies[0].Errors)
	}
	w := e.Warnings()
	if !slices.Contains(w, `policy "restricted": `+v124) || !slices.Contains(w, `policy "restricted": `+note) {
		t.Errorf("warnings: %q", w)
	}
}

type allowAlice struct{}

func (allowAlice) Authorize(_ context.Context, a authorizer.Attributes) (bool, string, error) {
	return a.User.Name == "alice", "", nil
}

// TestGrantKubectlAgrees: the suggested grant names group policy (the one
// kubectl create role accepts with verb use) and adds every other group of
// engine.GrantAPIGroups, the CRD's included, which `kubectl auth can-i` asks.
func TestGrantKubectlAgrees(t *testing.T) {
	g := grant(engine.Request{Namespace: "web", User: authorizer.UserInfo{Name: "alice"}, Pod: &corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: "app"}}}, "baseline")
	want := []string{
		"kubectl -n web create role psp-use-baseline --verb=use --resource=podsecuritypolicies.policy --resource-name=baseline",
		`kubectl -n web patch role psp-use-baseline --type=json -p='[{"op":"add","path":"/rules/0/apiGroups/-","value":"policy.kube-psp.io"}]'`,
		"kubectl -n web create rolebinding psp-use-baseline --role=psp-use-baseline --serviceaccount=web:app",
	}
	if strings.Join(g.Commands, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(g.Commands, "\n"), strings.Join(want, "\n"))
	}
	for _, group := range engine.GrantAPIGroups() {
		if !strings.Contains(strings.Join(g.Commands, " "), group) {
			t.Errorf("no command grants in group %q", group)
		}
	}
}
