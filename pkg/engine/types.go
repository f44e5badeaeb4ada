package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// Phase is the admission phase a request is decided in. v1.24 ran the plugin
// twice: as a mutating plugin (Admit), which may default the pod, and as a
// validating plugin (Validate), which only accepts a pod that some policy
// admits as it is.
type Phase string

// The two phases.
const (
	PhaseAdmit    Phase = "admit"
	PhaseValidate Phase = "validate"
)

// Operation is the API operation on the pod.
type Operation string

// The operations PodSecurityPolicy looks at.
const (
	OperationCreate Operation = "CREATE"
	OperationUpdate Operation = "UPDATE"
)

// Request is one pod admission request.
type Request struct {
	Phase     Phase
	Operation Operation
	// Namespace is the namespace of the request. The pod's ServiceAccount
	// identity and every authorization check use it.
	Namespace string
	// User is the requesting user with the groups the request carries.
	User authorizer.UserInfo
	// Pod is the pod as sent. Decide never modifies it.
	Pod *corev1.Pod
	// OldPod is the stored pod, on UPDATE.
	OldPod *corev1.Pod
}

// Decision is the engine's answer to a Request.
type Decision struct {
	// Allowed is true when the request may proceed.
	Allowed bool
	// Skipped is true when PodSecurityPolicy does not look at the request
	// at all, as v1.24: the admit phase of an UPDATE, or an UPDATE that
	// changes only ownerReferences or finalizers. Allowed is true then.
	Skipped bool
	// SkipReason says why the request was skipped.
	SkipReason string
	// Policy is the name of the admitting policy.
	Policy string
	// Pod is the admitted pod: in the admit phase a mutated copy with the
	// kubernetes.io/psp annotation, in the validate phase the pod as sent.
	// Nil when denied.
	Pod *corev1.Pod
	// Changes lists what the admit phase changed, in order, including the
	// kubernetes.io/psp annotation. Empty in the validate phase.
	Changes []Change
	// Message is the denial text, exactly as v1.24 put it in the Forbidden
	// error: "PodSecurityPolicy: unable to admit pod: [...]".
	Message string
	// Attempts records, in evaluation order, what each policy did with the
	// pod. The message only shows errors of policies the requester or the
	// ServiceAccount may use; Attempts shows all of them.
	Attempts []Attempt
}

// Outcome is what one policy did with the pod.
type Outcome string

// The outcomes of an attempt.
const (
	// OutcomeAdmitted: the policy admits the pod without changing it.
	OutcomeAdmitted Outcome = "Admitted"
	// OutcomeAdmittedWithChanges: the policy admits the pod after defaulting it.
	OutcomeAdmittedWithChanges Outcome = "AdmittedWithChanges"
	// OutcomeInvalid: the pod, after defaulting, violates the policy.
	OutcomeInvalid Outcome = "Invalid"
	// OutcomeWouldMutate: validate phase only; the policy would change the
	// pod, which the validate phase does not allow. v1.24 skipped such a
	// policy without reporting an error.
	OutcomeWouldMutate Outcome = "WouldMutate"
	// OutcomeUnauthorized: the policy would admit the pod, but neither the
	// requesting user nor the pod's ServiceAccount may use it.
	OutcomeUnauthorized Outcome = "Unauthorized"
	// OutcomeNotReached: an earlier policy admitted the pod unchanged, so
	// this one was not tried; or, with a concurrent (SubjectAccessReview)
	// authorizer, an earlier policy admitted it with changes and this one
	// would change it too, so it could not win and its use was not asked.
	OutcomeNotReached Outcome = "NotReached"
)

// Attempt is what one policy did with the pod.
type Attempt struct {
	Policy  string
	Outcome Outcome
	// Changes are the defaults the policy applied to a copy of the pod.
	Changes []Change
	// Errors are the policy's validation errors for the defaulted pod.
	Errors field.ErrorList
	// Authorization is whether the user or the ServiceAccount may use the
	// policy; nil when v1.24 would not have asked and Options.ExplainAll
	// was not set.
	Authorization *Authorization
	// Chosen marks the admitting policy.
	Chosen bool
}

// Authorization is the answer to "may the requester or the pod's
// ServiceAccount use this policy in this namespace?".
type Authorization struct {
	Allowed bool
	// Subject is the identity that may use the policy ("system:serviceaccount:NS:NAME"
	// or the user's name); empty when none may.
	Subject string
	// APIGroup is the group in which `use` was granted (policy, extensions or policy.kube-psp.io).
	APIGroup string
	// Reason is the authorizer's explanation, e.g. which binding granted it.
	Reason string
	// Errors are authorizer errors; each counted as a denial.
	Errors []string
}

// Change is one field the admit phase set.
type Change struct {
	// Field is the path of the field in the v1 pod, e.g.
	// "spec.containers[0].securityContext.runAsNonRoot".
	Field string `json:"field"`
	// Value is the new value.
	Value any `json:"value"`
}

// Options tune what Decide records; they never change the decision.
type Options struct {
	// ExplainAll evaluates every policy and asks the authorizer about each,
	// where v1.24 stopped at the first policy that admits the pod unchanged
	// and asked only about some, so that explanations can say for each
	// policy what it would do and whether it could be used.
	ExplainAll bool
}
