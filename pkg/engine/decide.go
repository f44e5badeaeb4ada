package engine

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// Denial texts, as v1.24.
const (
	admitDenialPrefix    = "PodSecurityPolicy: unable to admit pod: "
	validateDenialPrefix = "PodSecurityPolicy: unable to validate pod: "
	// NoProvidersMessage is the denial when there is no usable policy at all.
	NoProvidersMessage = "PodSecurityPolicy: no providers available to validate pod request"
)

// Decide decides one request as v1.24's PodSecurityPolicy plugin did:
//
//  1. Policies in name order; in the validate phase the policy named in the
//     pod's kubernetes.io/psp annotation first.
//  2. For each: default a copy of the pod, validate it; on errors, remember
//     them and go on. In the validate phase, skip a policy that would change
//     the pod. Skip a policy neither the pod's ServiceAccount nor the user may use.
//  3. The first policy that admits the pod unchanged wins; else the first
//     that admits it with changes (admit phase only).
//  4. If none, deny with the errors of the policies the ServiceAccount or
//     the user may use (in policy order; v1.24's order was random).
//
// Deliberately unlike the v1.24 plugin, the admit phase first gives seccomp
// annotations without their field the field, as the apiservers of that era
// did around admission (seccompVersionSkew); those changes lead
// Decision.Changes.
//
// Decide returns an error only for a malformed request. It never modifies
// req.Pod or req.OldPod.
func Decide(ctx context.Context, set *PolicySet, authz authorizer.Authorizer, req Request, opts Options) (Decision, error) {
	if err := checkRequest(set, authz, req); err != nil {
		return Decision{}, err
	}
	if skip := skipReason(req); skip != "" {
		return Decision{Allowed: true, Skipped: true, SkipReason: skip, Pod: req.Pod}, nil
	}
	if len(set.providers) == 0 {
		return Decision{Message: NoProvidersMessage}, nil
	}

	mutationAllowed := req.Phase == PhaseAdmit
	// What the apiservers of v1.19-v1.26 did to seccomp annotations around
	// admission, done before any policy so that it does not count as a
	// policy's change (a deliberate difference from v1.24; see seccomp.go).
	var (
		pod      *corev1.Pod
		prepared []Change
	)
	if req.Phase == PhaseAdmit {
		pod, prepared = seccompVersionSkew(req.Pod)
	} else {
		pod = seccompAnnotationView(req.Pod, req.OldPod)
	}
	auth := newUseChecker(ctx, authz, req)
	order := providerOrder(set, req)
	pre := auth.prefetch(order, pod, mutationAllowed, opts)
	attempts := make([]Attempt, len(order))
	copies := make([]*corev1.Pod, len(order))
	chosen := -1
	chosenUnchanged := false
	// spare is the copy of a policy that did not admit the pod: only the
	// admitting policies' copies are kept, so the next policy reuses it.
	var spare *corev1.Pod

	for i, prov := range order {
		a := &attempts[i]
		a.Policy = prov.name
		if chosenUnchanged && !opts.ExplainAll {
			a.Outcome = OutcomeNotReached
			continue
		}
		var podCopy *corev1.Pod
		if pre != nil {
			podCopy, a.Changes, a.Errors = pre[i].pod, pre[i].changes, pre[i].errors
		} else {
			podCopy = copyForDefaults(pod, spare)
			spare = podCopy
			a.Changes, a.Errors = prov.apply(podCopy)
		}
		copies[i] = podCopy
		mutated := len(a.Changes) > 0
		switch {
		case len(a.Errors) > 0:
			a.Outcome = OutcomeInvalid
			if opts.ExplainAll {
				a.Authorization = auth.check(prov.name)
			}
			continue
		case mutated && !mutationAllowed:
			a.Outcome = OutcomeWouldMutate
			if opts.ExplainAll {
				a.Authorization = auth.check(prov.name)
			}
			continue
		}
		if mutated && chosen >= 0 && !opts.ExplainAll && auth.concurrency() > 1 {
			// An earlier policy admits the pod with changes: this one, which
			// would change it too, cannot win. v1.24 asked anyway; a
			// SubjectAccessReview costs a round trip, so it is not asked.
			*a = Attempt{Policy: prov.name, Outcome: OutcomeNotReached}
			continue
		}
		a.Authorization = auth.check(prov.name)
		switch {
		case !a.Authorization.Allowed:
			a.Outcome = OutcomeUnauthorized
		case !mutated:
			a.Outcome = OutcomeAdmitted
			if !chosenUnchanged {
				chosen, chosenUnchanged = i, true
			}
		default:
			a.Outcome = OutcomeAdmittedWithChanges
			if chosen < 0 {
				chosen = i
			}
		}
		if chosen == i {
			spare = nil // this copy may be the admitted pod: keep it
		}
	}

	if chosen >= 0 {
		attempts[chosen].Chosen = true
		return admitted(req, attempts, chosen, copies[chosen], prepared), nil
	}

	// Denied: report the errors of the policies the requester may use.
	auth.prefetchDenied(attempts)
	var errs field.ErrorList
	for i := range attempts {
		a := &attempts[i]
		if a.Outcome != OutcomeInvalid {
			continue
		}
		if a.Authorization == nil {
			a.Authorization = auth.check(a.Policy)
		}
		if a.Authorization.Allowed {
			errs = append(errs, a.Errors...)
		}
	}
	prefix := admitDenialPrefix
	if req.Phase == PhaseValidate {
		prefix = validateDenialPrefix
	}
	return Decision{Message: prefix + errs.String(), Attempts: attempts}, nil
}

func checkRequest(set *PolicySet, authz authorizer.Authorizer, req Request) error {
	switch {
	case set == nil:
		return fmt.Errorf("no policy set")
	case authz == nil:
		return fmt.Errorf("no authorizer")
	case req.Pod == nil:
		return fmt.Errorf("request has no pod")
	case req.Phase != PhaseAdmit && req.Phase != PhaseValidate:
		return fmt.Errorf("unknown phase %q (want %q or %q)", req.Phase, PhaseAdmit, PhaseValidate)
	case req.Operation == OperationUpdate && req.OldPod == nil:
		return fmt.Errorf("UPDATE request has no old pod")
	}
	return nil
}

// skipReason says why PodSecurityPolicy does not look at a request, "" if it does.
func skipReason(req Request) string {
	switch req.Operation {
	case OperationCreate:
		return ""
	case OperationUpdate:
		if isOnlyGCFieldUpdate(req.Pod, req.OldPod) {
			return "the update changes only ownerReferences or finalizers"
		}
		if req.Phase == PhaseAdmit {
			return "pods are defaulted on CREATE only; updates are only validated"
		}
		return ""
	default:
		return fmt.Sprintf("operation %s is not checked by PodSecurityPolicy", req.Operation)
	}
}

// isOnlyGCFieldUpdate reports whether an update changes only what the garbage
// collector changes (ownerReferences, finalizers) or nothing at all.
func isOnlyGCFieldUpdate(pod, old *corev1.Pod) bool {
	p := pod.DeepCopy()
	p.OwnerReferences = old.OwnerReferences
	p.Finalizers = old.Finalizers
	//lint:ignore SA1019 v1.24 ignored selfLink changes too; kept for identical decisions.
	p.SelfLink = old.SelfLink
	p.ManagedFields = old.ManagedFields
	return equality.Semantic.DeepEqual(p, old)
}

// providerOrder is the policies in evaluation order: by name, with the
// policy named by the pod's kubernetes.io/psp annotation first in the
// validate phase.
func providerOrder(set *PolicySet, req Request) []*provider {
	if req.Phase != PhaseValidate {
		return set.providers
	}
	hint, ok := set.index[req.Pod.Annotations[policyv1.ValidatedPolicyAnnotationKey]]
	if !ok || hint == 0 {
		return set.providers
	}
	order := make([]*provider, 0, len(set.providers))
	order = append(order, set.providers[hint])
	order = append(order, set.providers[:hint]...)
	return append(order, set.providers[hint+1:]...)
}

// admitted builds the decision for an admitted pod; prepared are the
// changes made before any policy (seccompVersionSkew).
func admitted(req Request, attempts []Attempt, chosen int, pod *corev1.Pod, prepared []Change) Decision {
	name := attempts[chosen].Policy
	d := Decision{Allowed: true, Policy: name, Attempts: attempts}
	if req.Phase == PhaseValidate {
		d.Pod = req.Pod
		return d
	}
	// The copy shares unchanged parts with the request's pod: hand out a deep copy.
	pod = pod.DeepCopy()
	var changes []Change
	if n := len(prepared) + len(attempts[chosen].Changes); n > 0 {
		// Room for the kubernetes.io/psp annotation too: one allocation.
		changes = make([]Change, 0, n+1)
		changes = append(append(changes, prepared...), attempts[chosen].Changes...)
	}
	m := &mutation{pod: pod, changes: changes}
	m.setAnnotation(policyv1.ValidatedPolicyAnnotationKey, name)
	d.Pod, d.Changes = pod, m.changes
	return d
}

// useChecker asks whether the pod's ServiceAccount or the requesting user may
// use a policy, as v1.24: the ServiceAccount first, each in the policy group
// and then the extensions group (and kube-psp's group).
type useChecker struct {
	ctx       context.Context
	authz     authorizer.Authorizer
	namespace string
	// subjects are UseSubjects(req).
	subjects []authorizer.UserInfo
	// answers are those prefetched concurrently, by policy (useplan.go).
	answers map[string]*Authorization
}

func newUseChecker(ctx context.Context, authz authorizer.Authorizer, req Request) *useChecker {
	return &useChecker{ctx: ctx, authz: authz, namespace: req.Namespace, subjects: UseSubjects(req)}
}

func (c *useChecker) check(policy string) *Authorization {
	if a, ok := c.answers[policy]; ok {
		return a
	}
	return AuthorizeUse(c.ctx, c.authz, c.subjects, c.namespace, policy)
}
