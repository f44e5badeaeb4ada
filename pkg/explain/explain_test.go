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
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/source"
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
	req := engine.Request{Namespace: "ns", User: authorizer.UserInfo{Name: "alice"}, Pod: &corev1.Pod{Spec: corev1.PodSpec{ServiceAccountName: "app"}}}
	e, err := Explain(context.Background(), Case{Request: req}, d, Options{DecidedWith: engine.Options{ExplainAll: true}})
	if err != nil {
		t.Fatal(err)
	}
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
	e, err := Explain(context.Background(), Case{Policies: set, Authorizer: allowAlice{}, Request: req}, d, Options{DecidedWith: engine.Options{ExplainAll: true}})
	if err != nil {
		t.Fatal(err)
	}
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

// TestGrantIsSafe: the grant suggested for a pod of the namespace's
// "default" ServiceAccount is for a new ServiceAccount of its own, says what
// the policy allows beyond the usable ones, and comes after the pod change
// that a usable policy asks for; the kubectl commands grant in every group
// of engine.GrantAPIGroups to that ServiceAccount.
func TestGrantIsSafe(t *testing.T) {
	snap := restrictedPreset(t)
	set, authz := snap.Policies, snap.Authorizer
	privileged := func(sa string) engine.Request {
		yes := true
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "agent-", Namespace: "ops"}, Spec: corev1.PodSpec{ServiceAccountName: sa,
			Containers: []corev1.Container{{Name: "c", Image: "x", SecurityContext: &corev1.SecurityContext{Privileged: &yes}}}}}
		return engine.Request{Phase: engine.PhaseAdmit, Operation: engine.OperationCreate, Namespace: "ops",
			User: authorizer.UserInfo{Name: "system:serviceaccount:kube-system:daemon-set-controller", Groups: []string{"system:authenticated"}}, Pod: pod}
	}
	// Decided as v1.24 did: Explain decides again with every policy.
	explainOf := func(req engine.Request) Explanation {
		d, err := engine.Decide(context.Background(), set, authz, req, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := Explain(context.Background(), Case{Policies: set, Authorizer: authz, Request: req}, d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}

	e := explainOf(privileged("default"))
	g := e.Grant
	if g == nil || g.Policy != "eks.privileged" || g.NewServiceAccount != "agent" || g.Subject != "ServiceAccount ops/agent" {
		t.Fatalf("grant %+v", g)
	}
	wantAllows := []string{"privileged containers", "every capability", "host namespaces", "every host path", "running as root"}
	if !slices.Equal(g.Allows, wantAllows) {
		t.Errorf("allows %q, want %q", g.Allows, wantAllows)
	}
	wantCommands := []string{
		"kubectl -n ops create serviceaccount agent",
		"kubectl -n ops create role psp-use-eks.privileged --verb=use --resource=podsecuritypolicies.policy --resource-name=eks.privileged",
		`kubectl -n ops patch role psp-use-eks.privileged --type=json -p='[{"op":"add","path":"/rules/0/apiGroups/-","value":"policy.kube-psp.io"}]'`,
		"kubectl -n ops create rolebinding psp-use-eks.privileged --role=psp-use-eks.privileged --serviceaccount=ops:agent",
	}
	if !slices.Equal(g.Commands, wantCommands) || !slices.Equal(engine.GrantAPIGroups(), []string{"policy", "policy.kube-psp.io"}) {
		t.Errorf("commands:\n%s", strings.Join(g.Commands, "\n"))
	}
	if e.PodFix == nil || e.PodFix.Policy != "restricted" {
		t.Errorf("pod fix %+v, want one for restricted", e.PodFix)
	}
	for _, c := range g.Commands {
		if strings.Contains(c, ":default") {
			t.Errorf("a command grants the default ServiceAccount: %s", c)
		}
	}
	w := strings.Join(e.Warnings(), "\n")
	fix := strings.Index(w, `to admit this pod, change it as policy "restricted"`)
	grant := strings.Index(w, `to admit this pod, create ServiceAccount ops/agent for this workload, set spec.serviceAccountName: agent in its pod, and let the ServiceAccount use policy "eks.privileged" in namespace ops:`)
	caution := strings.Index(w, `policy "eks.privileged" also allows privileged containers, every capability, host namespaces, every host path, running as root, for every pod of that ServiceAccount`)
	if fix < 0 || grant < fix || caution < grant || !strings.Contains(w, "letting ServiceAccount ops/default use it instead would let every pod of namespace ops") {
		t.Errorf("warnings:\n%s", w)
	}

	// A pod with its own ServiceAccount: the grant is for it.
	g = explainOf(privileged("agent-sa")).Grant
	if g == nil || g.NewServiceAccount != "" || g.Subject != "ServiceAccount ops/agent-sa" || strings.Contains(strings.Join(g.Commands, "\n"), "create serviceaccount") {
		t.Errorf("grant for a pod's own ServiceAccount: %+v", g)
	}
}

// TestExplainDecidesAgain: Explain decides again, with every policy
// evaluated, where the explanation needs them (a denial, or
// Options.EveryPolicy) and the decision it is given was made without;
// otherwise it explains the decision it is given.
func TestExplainDecidesAgain(t *testing.T) {
	snap := restrictedPreset(t)
	c := Case{Policies: snap.Policies, Authorizer: snap.Authorizer, Request: engine.Request{Phase: engine.PhaseAdmit, Operation: engine.OperationCreate, Namespace: "ops",
		User: authorizer.UserInfo{Name: "alice", Groups: []string{"system:authenticated"}},
		Pod:  &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ops"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x"}}}}}}
	all := len(snap.Policies.Policies())
	// Decisions that name one policy only, as no real decision of these
	// policies does: an explanation with every policy was decided again.
	allowed := engine.Decision{Allowed: true, Policy: "restricted", Attempts: []engine.Attempt{{Policy: "restricted", Outcome: engine.OutcomeAdmittedWithChanges, Chosen: true}}}
	denied := engine.Decision{Message: "denied", Attempts: []engine.Attempt{{Policy: "restricted", Outcome: engine.OutcomeInvalid}}}
	for _, tc := range []struct {
		name     string
		d        engine.Decision
		opts     Options
		policies int
	}{
		{"allowed", allowed, Options{}, 1},
		{"allowed, every policy", allowed, Options{EveryPolicy: true}, all},
		{"allowed, every policy, decided with every policy", allowed, Options{EveryPolicy: true, DecidedWith: engine.Options{ExplainAll: true}}, 1},
		{"denied", denied, Options{}, all},
		{"denied, decided with every policy", denied, Options{DecidedWith: engine.Options{ExplainAll: true}}, 1},
	} {
		e, err := Explain(context.Background(), c, tc.d, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Policies) != tc.policies {
			t.Errorf("%s: %d policies explained, want %d", tc.name, len(e.Policies), tc.policies)
		}
		if tc.policies == all && (!e.Allowed || e.Policy != "restricted") {
			t.Errorf("%s: decided again, the pod is admitted by restricted: %+v", tc.name, e)
		}
	}
}

// restrictedPreset is the built-in policies and RBAC, restricted granted
// to every authenticated user.
func restrictedPreset(t *testing.T) *source.Snapshot {
	t.Helper()
	res, err := presets.Load("restricted")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := source.Build(res, "")
	if err != nil {
		t.Fatal(err)
	}
	return snap
}
