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
