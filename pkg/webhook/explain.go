package webhook

import (
	"fmt"
	"unicode/utf8"

	"github.com/kube-psp/kube-psp/pkg/engine"
)

// maxWarningLength is the length above which the apiserver may truncate a
// warning; maxWarnings keeps the total under its 4 KiB budget.
const (
	maxWarningLength = 256
	maxWarnings      = 15
)

// Explain turns a denial, evaluated with engine.Options{ExplainAll: true},
// into warnings a person can act on: for each policy why it did not admit
// the pod, and the smallest RBAC grant that would let the pod in, when a
// policy would admit it but may not be used. The denial message itself stays
// v1.24's; this is what `unable to admit pod: []` never said.
func Explain(req engine.Request, d engine.Decision) []string {
	var out []string
	add := func(format string, args ...any) {
		if len(out) < maxWarnings {
			out = append(out, truncate(fmt.Sprintf(format, args...)))
		}
	}
	if len(d.Attempts) == 0 {
		add("no PodSecurityPolicy can be used: there are none, or none the v1.24 plugin could use")
		return out
	}
	cannotUse := cannotUse(req)
	var grantable *engine.Attempt
	for i := range d.Attempts {
		a := &d.Attempts[i]
		usable := a.Authorization != nil && a.Authorization.Allowed
		switch a.Outcome {
		case engine.OutcomeInvalid:
			if !usable {
				add("policy %q: %s (it would also refuse %d field(s))", a.Policy, cannotUse, len(a.Errors))
				continue
			}
			for _, e := range a.Errors {
				add("policy %q: %s", a.Policy, e.Error())
			}
		case engine.OutcomeUnauthorized:
			add("policy %q would admit this pod, but %s", a.Policy, cannotUse)
			if grantable == nil {
				grantable = a
			}
		case engine.OutcomeWouldMutate:
			add("policy %q would have to change this pod, which the validating phase does not allow (was the mutating webhook skipped?)", a.Policy)
		}
	}
	if grantable != nil {
		for _, line := range grantAdvice(req, grantable.Policy) {
			add("%s", line)
		}
	}
	return out
}

// cannotUse says who may not use a policy: the user, and the pod's
// ServiceAccount when it has one.
func cannotUse(req engine.Request) string {
	if sa := req.Pod.Spec.ServiceAccountName; sa != "" {
		return fmt.Sprintf("neither user %q nor ServiceAccount %s/%s may use it", req.User.Name, req.Namespace, sa)
	}
	return fmt.Sprintf("user %q may not use it", req.User.Name)
}

// grantAdvice is the smallest grant that admits the pod: `use` of one
// policy, in the pod's namespace only, for the pod's ServiceAccount (or the
// user when the pod names none), as a sentence and the two commands.
func grantAdvice(req engine.Request, policy string) []string {
	who, subject := "user "+req.User.Name, "--user="+req.User.Name
	if sa := req.Pod.Spec.ServiceAccountName; sa != "" {
		who, subject = "ServiceAccount "+req.Namespace+"/"+sa, "--serviceaccount="+req.Namespace+":"+sa
	}
	role := "psp-use-" + policy
	return []string{
		fmt.Sprintf("to admit this pod, let %s use policy %q in namespace %s:", who, policy, req.Namespace),
		fmt.Sprintf("kubectl -n %s create role %s --verb=use --resource=podsecuritypolicies.policy --resource-name=%s", req.Namespace, role, policy),
		fmt.Sprintf("kubectl -n %s create rolebinding %s --role=%s %s", req.Namespace, role, role, subject),
	}
}

// truncate shortens a warning to what the apiserver passes on, at a rune boundary.
func truncate(s string) string {
	if len(s) <= maxWarningLength {
		return s
	}
	cut := maxWarningLength - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
