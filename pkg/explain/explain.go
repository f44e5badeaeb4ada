// Package explain turns an engine decision into an explanation a person
// can act on: per policy whether the requester may use it and why it did or
// did not admit the pod; which policy wins and why; and when none admits,
// the smallest RBAC grant or pod change that would. Explain is the one
// function that produces it, deciding again with every policy evaluated
// where the decision it is given lacks them; the webhook's warnings,
// `psp check`, `psp explain` and `psp audit` render that one value.
package explain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/internal/plural"
	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
)

// Explanation explains one decision.
type Explanation struct {
	Allowed bool `json:"allowed"`
	// Policy is the admitting policy.
	Policy string `json:"policy,omitempty"`
	// Why says why the admitting policy won.
	Why string `json:"why,omitempty"`
	// Message is v1.24's denial message.
	Message  string   `json:"message,omitempty"`
	Policies []Policy `json:"policies"`
	// Grant is the smallest RBAC grant that would admit the pod, when one would.
	Grant *Grant `json:"grant,omitempty"`
	// PodFix is the smallest change to the pod for a policy the requester
	// may use, when no grant alone would admit it.
	PodFix *PodFix `json:"podFix,omitempty"`
	// Notes explain errors of usable policies that name a seccomp or
	// AppArmor annotation the pod does not have: which field the profile
	// came from, or which to set (engine.AnnotationFieldNote); and, with
	// Case.Origin, errors at values the apiserver set, not the author
	// (engine.SetFieldNote). Message keeps v1.24's text; the policies'
	// errors carry the same notes.
	Notes []string `json:"notes,omitempty"`
	// Requester says who may not use a policy, for messages.
	cannotUse string
}

// Policy is what one policy did with the pod.
type Policy struct {
	Name    string         `json:"name"`
	Outcome engine.Outcome `json:"outcome"`
	Usable  bool           `json:"usable"`
	// Via is who may use it and through which binding.
	Via     string          `json:"via,omitempty"`
	Changes []engine.Change `json:"changes,omitempty"`
	Errors  []string        `json:"errors,omitempty"`
	Chosen  bool            `json:"chosen,omitempty"`
	// AuthorizationErrors are failures to ask whether the requester may
	// use the policy (a SubjectAccessReview that failed): the policy
	// counted as not usable.
	AuthorizationErrors []string `json:"authorizationErrors,omitempty"`
	// notes[i] is the note appended to Errors[i], if any.
	notes []string
}

// Refusal is why one policy did not admit the pod, as every rendering of
// an explanation tells it.
type Refusal int

// The refusals, from Policy.Refusal.
const (
	// NotRefused: the policy admits the pod, or was not tried.
	NotRefused Refusal = iota
	// RefusesFields: the policy may be used, but the pod breaks it
	// (Policy.Errors).
	RefusesFields
	// UnusableRefusesFields: the policy may not be used, and the pod
	// breaks it too.
	UnusableRefusesFields
	// Unusable: the policy would admit the pod, but neither the requester
	// nor the pod's ServiceAccount may use it.
	Unusable
	// WouldChange: validate phase; the policy would change the pod, which
	// that phase does not allow.
	WouldChange
)

// Refusal says why p did not admit the pod.
func (p Policy) Refusal() Refusal {
	switch p.Outcome {
	case engine.OutcomeInvalid:
		if p.Usable {
			return RefusesFields
		}
		return UnusableRefusesFields
	case engine.OutcomeUnauthorized:
		return Unusable
	case engine.OutcomeWouldMutate:
		return WouldChange
	}
	return NotRefused
}

// Grant is `use` of one policy, in the pod's namespace, for one subject:
// the report schema's type (v1alpha1.Grant), with its sentences.
type Grant v1alpha1.Grant

// Lines says the grant in sentences, for the reports and warnings: what to
// do, then what it also allows and, for a new ServiceAccount, why not
// "default".
func (g *Grant) Lines() []string {
	var out []string
	if g.NewServiceAccount != "" {
		out = append(out,
			fmt.Sprintf("create ServiceAccount %s/%s for this workload, set spec.serviceAccountName: %s in its pod, and let the ServiceAccount use policy %q in namespace %s",
				g.Namespace, g.NewServiceAccount, g.NewServiceAccount, g.Policy, g.Namespace),
			fmt.Sprintf("letting ServiceAccount %s/default use it instead would let every pod of namespace %s that names no ServiceAccount use it", g.Namespace, g.Namespace))
	} else {
		out = append(out, fmt.Sprintf("let %s use policy %q in namespace %s", g.Subject, g.Policy, g.Namespace))
	}
	if len(g.Allows) > 0 {
		whose := "every pod of that ServiceAccount"
		if user, ok := strings.CutPrefix(g.Subject, "User "); ok {
			whose = "every pod " + user + " creates"
		}
		out = append(out, fmt.Sprintf("policy %q also allows %s, for %s", g.Policy, strings.Join(g.Allows, ", "), whose))
	}
	return out
}

// PodFix lists the errors to fix for one usable policy to admit the pod
// (v1alpha1.PodFix).
type PodFix v1alpha1.PodFix

// Case is what an explanation is about: one request, and the policies and
// authorizer it is decided with.
type Case struct {
	Policies   *engine.PolicySet
	Authorizer authorizer.Authorizer
	Request    engine.Request
	// Origin, when set, says which values of Request.Pod its author did
	// not write (the apiserver set them before admission, as offline
	// commands simulate it): errors at them get a note
	// (engine.SetFieldNote).
	Origin engine.FieldOrigin
}

// Options tune Explain.
type Options struct {
	// DecidedWith are the options the decision was made with.
	DecidedWith engine.Options
	// EveryPolicy explains every policy even when the decision allows the
	// pod (offline commands explaining a pod that the apiserver refuses
	// after admission, or asked to explain every pod). A denial is always
	// explained with every policy.
	EveryPolicy bool
}

// Explain explains c's decision d. A denial, or any decision with
// opts.EveryPolicy, needs every policy evaluated and its use asked
// (engine.Options.ExplainAll): when d was decided without, Explain decides
// again with it, and the error is that decision's. Only such cases pay for
// the second decision: an allowed pod's explanation needs only the winner.
// c.Policies gives the policies' privileges for Grant.Allows; nil leaves it
// empty.
func Explain(ctx context.Context, c Case, d engine.Decision, opts Options) (Explanation, error) {
	if (!d.Allowed || opts.EveryPolicy) && !opts.DecidedWith.ExplainAll {
		var err error
		if d, err = engine.Decide(ctx, c.Policies, c.Authorizer, c.Request, engine.Options{ExplainAll: true}); err != nil {
			return Explanation{}, err
		}
	}
	return build(c.Request, d, c.Policies, c.Origin), nil
}

// build is the explanation of d, decided for req with the policies of set;
// origin as Case.Origin.
func build(req engine.Request, d engine.Decision, set *engine.PolicySet, origin engine.FieldOrigin) Explanation {
	e := Explanation{Allowed: d.Allowed, Policy: d.Policy, Message: d.Message, cannotUse: cannotUse(req), Policies: []Policy{}}
	for _, a := range d.Attempts {
		p := Policy{Name: a.Policy, Outcome: a.Outcome, Changes: a.Changes, Chosen: a.Chosen}
		if a.Authorization != nil && a.Authorization.Allowed {
			p.Usable, p.Via = true, a.Authorization.Reason
			if p.Via == "" {
				p.Via = a.Authorization.Subject
			}
		}
		if a.Authorization != nil && !a.Authorization.Allowed {
			p.AuthorizationErrors = a.Authorization.Errors
		}
		for _, err := range a.Errors {
			text := err.Error()
			// v1.24's messages name seccomp and AppArmor annotations the
			// author may never have written; say which field counts.
			note := engine.AnnotationFieldNote(req.Pod, err.Field)
			if note == "" {
				note = engine.SetFieldNote(req.Pod, err, origin)
			}
			if note != "" {
				text += " (" + note + ")"
				if !slices.Contains(e.Notes, note) && p.Usable {
					e.Notes = append(e.Notes, note)
				}
			}
			p.Errors, p.notes = append(p.Errors, text), append(p.notes, note)
		}
		e.Policies = append(e.Policies, p)
		if a.Chosen {
			e.Why = whyChosen(a)
		}
	}
	if d.Allowed {
		return e
	}
	// A pod change for a policy already usable comes first in the reports:
	// a grant widens what every pod of the subject may do.
	for _, p := range e.Policies {
		if p.Usable && p.Outcome == engine.OutcomeInvalid && (e.PodFix == nil || len(p.Errors) < len(e.PodFix.Errors)) {
			e.PodFix = &PodFix{Policy: p.Name, Errors: p.Errors}
		}
	}
	for _, p := range e.Policies {
		if p.Outcome == engine.OutcomeUnauthorized {
			e.Grant = grant(req, p.Name)
			e.Grant.Allows = newPrivileges(set, p.Name, e.Policies)
			break
		}
	}
	return e
}

// newPrivileges are the privileges of policy that no usable policy has.
func newPrivileges(set *engine.PolicySet, policy string, policies []Policy) []string {
	if set == nil {
		return nil
	}
	byName := map[string]*policyv1.PodSecurityPolicy{}
	for _, p := range set.Policies() {
		byName[p.Name] = p
	}
	have := map[string]bool{}
	for _, p := range policies {
		if p.Usable && byName[p.Name] != nil {
			for _, priv := range engine.PolicyPrivileges(byName[p.Name]) {
				have[priv.Text] = true
			}
		}
	}
	var out []string
	if p := byName[policy]; p != nil {
		for _, priv := range engine.PolicyPrivileges(p) {
			if !have[priv.Text] {
				out = append(out, priv.Text)
			}
		}
	}
	return out
}

func whyChosen(a engine.Attempt) string {
	if a.Outcome == engine.OutcomeAdmitted {
		return "the first policy, in name order, that admits the pod without changing it"
	}
	return "no usable policy admits the pod unchanged; this is the first, in name order, that admits it after defaulting"
}

// cannotUse says who may not use a policy: the user, and the pod's
// ServiceAccount when it has one.
func cannotUse(req engine.Request) string {
	if sa := engine.PodServiceAccount(req.Pod); sa != "" {
		return fmt.Sprintf("neither user %q nor ServiceAccount %s/%s may use it", req.User.Name, req.Namespace, sa)
	}
	return fmt.Sprintf("user %q may not use it", req.User.Name)
}

// grant is the smallest grant that admits the pod: `use` of one policy, in
// the pod's namespace only, for the pod's ServiceAccount (or the user when
// the pod names none), in every group of engine.GrantAPIGroups so that
// `kubectl auth can-i` agrees with admission. kubectl create role accepts
// verb use only for group policy or extensions (k8s.io/kubectl
// pkg/cmd/create/create_role.go specialVerbs), so the other groups are
// added to the created rule by a JSON patch.
//
// A pod of the namespace's "default" ServiceAccount gets a new
// ServiceAccount named after its workload instead (the pod's name without
// its generated suffix): one policy per workload, bound to its own
// ServiceAccount, as PodSecurityPolicy's documentation advises.
func grant(req engine.Request, policy string) *Grant {
	who, subject := "User "+req.User.Name, "--user="+req.User.Name
	var commands []string
	newSA := ""
	if sa := engine.PodServiceAccount(req.Pod); sa != "" {
		if sa == "default" {
			newSA = workloadName(req.Pod)
			sa = newSA
			commands = append(commands, fmt.Sprintf("kubectl -n %s create serviceaccount %s", req.Namespace, sa))
		}
		who, subject = "ServiceAccount "+req.Namespace+"/"+sa, "--serviceaccount="+req.Namespace+":"+sa
	}
	role := "psp-use-" + policy
	groups := engine.GrantAPIGroups()
	commands = append(commands, fmt.Sprintf("kubectl -n %s create role %s --verb=use --resource=podsecuritypolicies.%s --resource-name=%s", req.Namespace, role, groups[0], policy))
	if len(groups) > 1 {
		var ops []string
		for _, g := range groups[1:] {
			ops = append(ops, fmt.Sprintf(`{"op":"add","path":"/rules/0/apiGroups/-","value":%q}`, g))
		}
		commands = append(commands, fmt.Sprintf("kubectl -n %s patch role %s --type=json -p='[%s]'", req.Namespace, role, strings.Join(ops, ",")))
	}
	commands = append(commands, fmt.Sprintf("kubectl -n %s create rolebinding %s --role=%s %s", req.Namespace, role, role, subject))
	return &Grant{Policy: policy, Namespace: req.Namespace, Subject: who, NewServiceAccount: newSA, Commands: commands}
}

// workloadName is the name for a workload's own ServiceAccount: the pod's
// name, or its generateName without the trailing "-" (a controller's pod
// is named after its workload), "app" when it has neither.
func workloadName(pod *corev1.Pod) string {
	if pod.Name != "" {
		return pod.Name
	}
	if n := strings.TrimSuffix(pod.GenerateName, "-"); n != "" {
		return n
	}
	return "app"
}

// The apiserver may truncate a warning longer than MaxWarningLength and
// drops warnings past a 4 KiB total; MaxWarnings keeps within it.
const (
	MaxWarningLength = 256
	MaxWarnings      = 15
)

// Warnings renders a denial's explanation as admission response warnings.
func (e Explanation) Warnings() []string {
	var out []string
	add := func(format string, args ...any) {
		if len(out) < MaxWarnings {
			out = append(out, Truncate(fmt.Sprintf(format, args...)))
		}
	}
	if len(e.Policies) == 0 {
		add("no PodSecurityPolicy can be used: there are none, or none the v1.24 plugin could use")
		return out
	}
	for _, p := range e.Policies {
		for _, err := range p.AuthorizationErrors {
			add("policy %q: could not tell whether it may be used: %s", p.Name, err)
		}
		switch p.Refusal() {
		case UnusableRefusesFields:
			add("policy %q: %s (it would also refuse %s)", p.Name, e.cannotUse, plural.Count(len(p.Errors), "field"))
		case RefusesFields:
			// A note goes in a warning of its own: the two together may be
			// longer than the apiserver passes on.
			for i, err := range p.Errors {
				note := p.notes[i]
				if note == "" {
					add("policy %q: %s", p.Name, err)
					continue
				}
				add("policy %q: %s", p.Name, strings.TrimSuffix(err, " ("+note+")"))
				add("policy %q: %s", p.Name, note)
			}
		case Unusable:
			add("policy %q would admit this pod, but %s", p.Name, e.cannotUse)
		case WouldChange:
			add("policy %q would have to change this pod, which the validating phase does not allow (was the mutating webhook skipped?)", p.Name)
		}
	}
	if f := e.PodFix; f != nil && e.Grant != nil {
		add("to admit this pod, change it as policy %q (which may be used) asks above; or:", f.Policy)
	}
	if g := e.Grant; g != nil {
		for i, line := range g.Lines() {
			if i == 0 {
				line = "to admit this pod, " + line + ":"
			}
			add("%s", line)
		}
		for _, c := range g.Commands {
			add("%s", c)
		}
	}
	return out
}

// Truncate shortens a warning to what the apiserver passes on, at a rune boundary.
func Truncate(s string) string {
	if len(s) <= MaxWarningLength {
		return s
	}
	cut := MaxWarningLength - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
