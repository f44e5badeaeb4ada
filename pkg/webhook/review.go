package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/explain"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// Mode says what a denial does.
type Mode string

// The modes.
const (
	// ModeEnforce denies.
	ModeEnforce Mode = "enforce"
	// ModeWarn admits, with the denial and its explanation as warnings.
	ModeWarn Mode = "warn"
	// ModeAudit admits, with the denial in an audit annotation only.
	ModeAudit Mode = "audit"
)

// FailurePolicy says what kube-psp's own errors do.
type FailurePolicy string

// The failure policies; match them with failurePolicy Fail or Ignore on
// the webhook configurations.
const (
	// FailurePolicyFail denies what kube-psp could not decide (fail closed).
	FailurePolicyFail FailurePolicy = "fail"
	// FailurePolicyAllow admits it, with a warning.
	FailurePolicyAllow FailurePolicy = "allow"
)

// Audit annotation keys; the apiserver prefixes them with the webhook's name.
const (
	AuditAdmitPolicy    = "admit-policy"
	AuditValidatePolicy = "validate-policy"
	AuditWouldDeny      = "would-deny"
)

// ReviewOutcome is how a review ended: the decision label of
// kube_psp_admission_requests_total and of the log. (engine.Outcome is what
// one policy did with a pod.)
type ReviewOutcome string

// The review outcomes.
const (
	OutcomeAllowed ReviewOutcome = "allowed"
	OutcomeDenied  ReviewOutcome = "denied"
	// OutcomeWouldDeny: denied by policy but admitted by warn or audit mode.
	OutcomeWouldDeny ReviewOutcome = "would-deny"
	// OutcomeSkipped: not a request PodSecurityPolicy looks at.
	OutcomeSkipped ReviewOutcome = "skipped"
	// OutcomeError: kube-psp failed; the failure policy decided.
	OutcomeError ReviewOutcome = "error"
)

// ReviewResult is a review's response with what logs and metrics need.
type ReviewResult struct {
	Response *admissionv1.AdmissionResponse
	Outcome  ReviewOutcome
	Policy   string
	// Reason is the denial message or the error, for the log.
	Reason string
	// UnknownFields are pod fields this build does not know.
	UnknownFields []string
	// TimedOut: DecisionTimeout ran out waiting for SubjectAccessReviews.
	TimedOut bool
}

// Reviewer answers admission requests for one phase.
type Reviewer struct {
	Phase         engine.Phase
	Mode          Mode
	FailurePolicy FailurePolicy
	UnknownFields UnknownFieldPolicy
	// DecisionTimeout bounds a decision (0: unbounded). Only asking the
	// apiserver (SubjectAccessReview) can take that long: past it, the
	// request is answered by the failure policy, before the apiserver's
	// own webhook timeout ends it.
	DecisionTimeout time.Duration
}

// errDecisionTimeout ends a decision's context when DecisionTimeout runs out.
var errDecisionTimeout = errors.New("decision timeout")

// Review decides one request with the given snapshot and answers it, with
// the request's uid.
func (r Reviewer) Review(ctx context.Context, snap *source.Snapshot, req *admissionv1.AdmissionRequest) ReviewResult {
	res := r.review(ctx, snap, req)
	res.Response.UID = req.UID
	return res
}

func (r Reviewer) review(ctx context.Context, snap *source.Snapshot, req *admissionv1.AdmissionRequest) ReviewResult {
	switch {
	case req.Resource.Group != "" || req.Resource.Resource != "pods":
		return skipped("not a pod")
	case req.SubResource == "ephemeralcontainers" && req.Operation == admissionv1.Update:
		// v1.24 skipped subresources, so `kubectl debug` could add a
		// privileged container to any pod. The validate phase checks the
		// whole pod with its new ephemeral containers; there is nothing to
		// default in the admit phase, whose other changes the subresource
		// would drop.
		if r.Phase == engine.PhaseAdmit {
			return skipped("ephemeral containers are validated, not defaulted")
		}
	case req.SubResource != "":
		return skipped("subresource " + req.SubResource)
	case req.Operation != admissionv1.Create && req.Operation != admissionv1.Update:
		return skipped("operation " + string(req.Operation))
	}
	if snap == nil {
		return r.failed(fmt.Errorf("policies and RBAC are not loaded"))
	}
	pod, unknown, err := decodePodStrict(req.Object.Raw, "object")
	if err != nil {
		return r.failed(err)
	}
	if len(unknown) > 0 && r.UnknownFields == UnknownFieldsDeny {
		msg := unknownFieldsMessage(unknown) + " (--unknown-fields=deny)"
		return ReviewResult{Response: denied(msg), Outcome: OutcomeDenied, Reason: msg, UnknownFields: unknown}
	}
	var oldPod *corev1.Pod
	if req.Operation == admissionv1.Update {
		if oldPod, _, err = decodePodStrict(req.OldObject.Raw, "oldObject"); err != nil {
			return r.failed(err)
		}
	}
	res := r.decide(ctx, snap, req, pod, oldPod)
	if len(unknown) > 0 {
		res.UnknownFields = unknown
		res.Response.Warnings = append([]string{explain.Truncate(unknownFieldsMessage(unknown))}, res.Response.Warnings...)
		if len(res.Response.Warnings) > explain.MaxWarnings {
			res.Response.Warnings = res.Response.Warnings[:explain.MaxWarnings]
		}
	}
	return res
}

// decide asks the engine about a decoded pod and maps its decision to the
// response.
func (r Reviewer) decide(ctx context.Context, snap *source.Snapshot, req *admissionv1.AdmissionRequest, pod, oldPod *corev1.Pod) ReviewResult {
	namespace := req.Namespace
	if namespace == "" {
		namespace = pod.Namespace
	}
	ereq := engine.Request{
		Phase: r.Phase, Operation: engine.Operation(req.Operation), Namespace: namespace,
		User: userInfo(req.UserInfo),
		Pod:  pod, OldPod: oldPod,
	}
	if r.DecisionTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, r.DecisionTimeout, errDecisionTimeout)
		defer cancel()
	}
	d, err := engine.Decide(ctx, snap.Policies, snap.Authorizer, ereq, engine.Options{})
	if err != nil {
		return r.failed(err)
	}
	if errors.Is(context.Cause(ctx), errDecisionTimeout) && authorizationErrors(d) {
		// Some answers may be the deadline's errors, read as "no": the
		// decision cannot be trusted. (A decision made of answers only,
		// which the deadline overtook just after, stands.)
		res := r.failed(fmt.Errorf("SubjectAccessReview latency: the apiserver did not answer whether the user or ServiceAccount may use the policies within --decision-timeout=%v (see kube_psp_subjectaccessreview_duration_seconds; --sar-qps and --sar-burst bound kube-psp's own rate)", r.DecisionTimeout))
		res.TimedOut = true
		return res
	}
	switch {
	case d.Skipped:
		return skipped(d.SkipReason)
	case d.Allowed:
		return r.admitted(req.Object.Raw, pod, d)
	}
	// Denied: explain it. Only denials pay for evaluating every policy.
	explained, err := explain.Explain(ctx, explain.Case{Policies: snap.Policies, Authorizer: snap.Authorizer, Request: ereq}, d, explain.Options{})
	if err != nil {
		return r.failed(err)
	}
	warnings := explained.Warnings()
	if errors.Is(context.Cause(ctx), errDecisionTimeout) {
		// The denial stands (it was decided in time); its explanation was not.
		warnings = []string{explain.Truncate(fmt.Sprintf("kube-psp: the explanation of this denial is left out: SubjectAccessReview latency ran past --decision-timeout=%v", r.DecisionTimeout))}
	}
	switch r.Mode {
	case ModeWarn:
		resp := withWarnings(allowed(), append([]string{explain.Truncate("PodSecurityPolicy would deny this request: " + d.Message)}, warnings...)...)
		return ReviewResult{Response: resp, Outcome: OutcomeWouldDeny, Reason: d.Message}
	case ModeAudit:
		resp := withAuditAnnotation(allowed(), AuditWouldDeny, d.Message)
		return ReviewResult{Response: resp, Outcome: OutcomeWouldDeny, Reason: d.Message}
	}
	return ReviewResult{Response: withWarnings(denied(d.Message), warnings...), Outcome: OutcomeDenied, Reason: d.Message}
}

// admitted answers a pod the engine admitted: in the admit phase with the
// patch to the defaulted pod, and with the admitting policy in an audit
// annotation.
func (r Reviewer) admitted(raw []byte, original *corev1.Pod, d engine.Decision) ReviewResult {
	key, resp := AuditValidatePolicy, allowed()
	if r.Phase == engine.PhaseAdmit {
		key = AuditAdmitPolicy
		if len(d.Changes) > 0 {
			patch, err := patchFor(raw, original, d.Pod)
			if err != nil {
				return r.failed(err)
			}
			resp = patched(patch)
		}
	}
	return ReviewResult{Response: withAuditAnnotation(resp, key, d.Policy), Outcome: OutcomeAllowed, Policy: d.Policy}
}

// skipped admits a request PodSecurityPolicy does not look at.
func skipped(reason string) ReviewResult {
	return ReviewResult{Response: allowed(), Outcome: OutcomeSkipped, Reason: reason}
}

// failed answers a request kube-psp could not decide, by the failure
// policy: refused with code 500 (fail), or admitted with a warning (allow).
func (r Reviewer) failed(err error) ReviewResult {
	msg := "kube-psp could not decide: " + err.Error()
	if r.FailurePolicy == FailurePolicyAllow {
		resp := withWarnings(allowed(), explain.Truncate(msg+" (admitted: --failure-policy allow)"))
		return ReviewResult{Response: resp, Outcome: OutcomeError, Reason: err.Error()}
	}
	return ReviewResult{Response: errored(msg), Outcome: OutcomeError, Reason: err.Error()}
}

// userInfo is the requester as the apiserver authenticated it: name, uid,
// groups and extra, all of which v1.24 handed to the authorizer.
func userInfo(u authenticationv1.UserInfo) authorizer.UserInfo {
	info := authorizer.UserInfo{Name: u.Username, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		info.Extra = make(map[string][]string, len(u.Extra))
		for k, v := range u.Extra {
			info.Extra[k] = v
		}
	}
	return info
}

// authorizationErrors reports whether asking about some policy's use
// failed in d: after the decision's deadline, such an error may be the
// deadline's.
func authorizationErrors(d engine.Decision) bool {
	for _, a := range d.Attempts {
		if a.Authorization != nil && len(a.Authorization.Errors) > 0 {
			return true
		}
	}
	return false
}
