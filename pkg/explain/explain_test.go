package explain

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

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
