// Package webhook is kube-psp's admission webhook: a thin HTTP layer
// (http.go) around Review, which turns one AdmissionReview request into its
// response by asking the engine. PodSecurityPolicy logic stays in the engine.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kjson "sigs.k8s.io/json"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/explain"
	"github.com/kube-psp/kube-psp/pkg/jsonpatch"
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

// Outcome is how a review ended, for logs and metrics.
type Outcome string

// The outcomes.
const (
	OutcomeAllowed Outcome = "allowed"
	OutcomeDenied  Outcome = "denied"
	// OutcomeWouldDeny: denied by policy but admitted by warn or audit mode.
	OutcomeWouldDeny Outcome = "would-deny"
	// OutcomeSkipped: not a request PodSecurityPolicy looks at.
	OutcomeSkipped Outcome = "skipped"
	// OutcomeError: kube-psp failed; the failure policy decided.
	OutcomeError Outcome = "error"
)

// Result is a review's response with what logs and metrics need.
type Result struct {
	Response *admissionv1.AdmissionResponse
	Outcome  Outcome
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

// Review decides one request with the given snapshot.
func (r Reviewer) Review(ctx context.Context, snap *source.Snapshot, req *admissionv1.AdmissionRequest) Result {
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	switch {
	case req.Resource.Group != "" || req.Resource.Resource != "pods":
		return Result{Response: resp, Outcome: OutcomeSkipped, Reason: "not a pod"}
	case req.SubResource == "ephemeralcontainers" && req.Operation == admissionv1.Update:
		// v1.24 skipped subresources, so `kubectl debug` could add a
		// privileged container to any pod. The validate phase checks the
		// whole pod with its new ephemeral containers; there is nothing to
		// default in the admit phase, whose other changes the subresource
		// would drop.
		if r.Phase == engine.PhaseAdmit {
			return Result{Response: resp, Outcome: OutcomeSkipped, Reason: "ephemeral containers are validated, not defaulted"}
		}
	case req.SubResource != "":
		return Result{Response: resp, Outcome: OutcomeSkipped, Reason: "subresource " + req.SubResource}
	case req.Operation != admissionv1.Create && req.Operation != admissionv1.Update:
		return Result{Response: resp, Outcome: OutcomeSkipped, Reason: "operation " + string(req.Operation)}
	}
	if snap == nil {
		return r.failed(resp, fmt.Errorf("policies and RBAC are not loaded"))
	}
	pod, unknown, err := decodePodStrict(req.Object.Raw, "object")
	if err != nil {
		return r.failed(resp, err)
	}
	if len(unknown) > 0 && r.UnknownFields == UnknownFieldsDeny {
		msg := unknownFieldsMessage(unknown) + " (--unknown-fields=deny)"
		resp.Allowed = false
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: msg}
		return Result{Response: resp, Outcome: OutcomeDenied, Reason: msg, UnknownFields: unknown}
	}
	var oldPod *corev1.Pod
	if req.Operation == admissionv1.Update {
		if oldPod, _, err = decodePodStrict(req.OldObject.Raw, "oldObject"); err != nil {
			return r.failed(resp, err)
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

// decide asks the engine about a decoded pod and builds the response.
func (r Reviewer) decide(ctx context.Context, snap *source.Snapshot, req *admissionv1.AdmissionRequest, pod, oldPod *corev1.Pod) Result {
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
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
		return r.failed(resp, err)
	}
	if errors.Is(context.Cause(ctx), errDecisionTimeout) && authorizationErrors(d) {
		// Some answers may be the deadline's errors, read as "no": the
		// decision cannot be trusted. (A decision made of answers only,
		// which the deadline overtook just after, stands.)
		res := r.failed(resp, fmt.Errorf("SubjectAccessReview latency: the apiserver did not answer whether the user or ServiceAccount may use the policies within --decision-timeout=%v (see kube_psp_subjectaccessreview_duration_seconds; --sar-qps and --sar-burst bound kube-psp's own rate)", r.DecisionTimeout))
		res.TimedOut = true
		return res
	}
	switch {
	case d.Skipped:
		return Result{Response: resp, Outcome: OutcomeSkipped, Reason: d.SkipReason}
	case d.Allowed:
		return r.allowed(resp, req.Object.Raw, pod, d)
	}
	// Denied: explain it. Only denials pay for evaluating every policy.
	explained, err := explain.Explain(ctx, explain.Case{Policies: snap.Policies, Authorizer: snap.Authorizer, Request: ereq}, d, explain.Options{})
	if err != nil {
		return r.failed(resp, err)
	}
	warnings := explained.Warnings()
	if errors.Is(context.Cause(ctx), errDecisionTimeout) {
		// The denial stands (it was decided in time); its explanation was not.
		warnings = []string{explain.Truncate(fmt.Sprintf("kube-psp: the explanation of this denial is left out: SubjectAccessReview latency ran past --decision-timeout=%v", r.DecisionTimeout))}
	}
	switch r.Mode {
	case ModeWarn:
		resp.Warnings = append([]string{explain.Truncate("PodSecurityPolicy would deny this request: " + d.Message)}, warnings...)
		return Result{Response: resp, Outcome: OutcomeWouldDeny, Reason: d.Message}
	case ModeAudit:
		resp.AuditAnnotations = map[string]string{AuditWouldDeny: d.Message}
		return Result{Response: resp, Outcome: OutcomeWouldDeny, Reason: d.Message}
	}
	resp.Allowed = false
	resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: d.Message}
	resp.Warnings = warnings
	return Result{Response: resp, Outcome: OutcomeDenied, Reason: d.Message}
}

func (r Reviewer) allowed(resp *admissionv1.AdmissionResponse, raw []byte, original *corev1.Pod, d engine.Decision) Result {
	key := AuditValidatePolicy
	if r.Phase == engine.PhaseAdmit {
		key = AuditAdmitPolicy
		if len(d.Changes) > 0 {
			patch, err := patchFor(raw, original, d.Pod)
			if err != nil {
				return r.failed(resp, err)
			}
			if patch != nil {
				pt := admissionv1.PatchTypeJSONPatch
				resp.Patch, resp.PatchType = patch, &pt
			}
		}
	}
	resp.AuditAnnotations = map[string]string{key: d.Policy}
	return Result{Response: resp, Outcome: OutcomeAllowed, Policy: d.Policy}
}

// failed answers a request kube-psp could not decide, by the failure policy.
func (r Reviewer) failed(resp *admissionv1.AdmissionResponse, err error) Result {
	msg := "kube-psp could not decide: " + err.Error()
	if r.FailurePolicy == FailurePolicyAllow {
		resp.Allowed = true
		resp.Warnings = []string{explain.Truncate(msg + " (admitted: --failure-policy allow)")}
		return Result{Response: resp, Outcome: OutcomeError, Reason: err.Error()}
	}
	resp.Allowed = false
	resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError, Reason: metav1.StatusReasonInternalError, Message: msg}
	return Result{Response: resp, Outcome: OutcomeError, Reason: err.Error()}
}

// patchFor is the JSON Patch from the pod as sent to the admitted pod.
// Defaults only ever write annotations, the pod's security context,
// runtimeClassName and containers' security contexts (the engine's copies
// rely on the same fact), so only those parts are encoded and compared: the
// patch never touches anything else, fields this build does not know
// included, and large pods are not re-encoded whole.
func patchFor(raw []byte, original, admitted *corev1.Pod) ([]byte, error) {
	// A parent the object lacks (or has as null) must be added whole: a
	// patch cannot add below a missing parent.
	// Empty structs: only presence is read, nothing is copied. Keys match
	// case-sensitively, as when the pod itself was decoded.
	var top struct {
		Metadata *struct{} `json:"metadata"`
		Spec     *struct{} `json:"spec"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &top); err != nil {
		return nil, fmt.Errorf("decoding the request's object: %w", err)
	}
	present := map[string]bool{"metadata": top.Metadata != nil, "spec": top.Spec != nil}

	var ops []jsonpatch.Operation
	part := func(path string, from, to any) error {
		a, err := encodePart(from)
		if err != nil {
			return err
		}
		b, err := encodePart(to)
		if err != nil {
			return err
		}
		o, err := jsonpatch.CreateAt(path, a, b)
		ops = append(ops, o...)
		return err
	}
	if present["metadata"] {
		if err := part("/metadata/annotations", original.Annotations, admitted.Annotations); err != nil {
			return nil, err
		}
	} else if len(admitted.Annotations) > 0 {
		ops = append(ops, jsonpatch.Operation{Op: "add", Path: "/metadata", Value: map[string]any{"annotations": admitted.Annotations}})
	}
	if present["spec"] {
		if err := part("/spec/securityContext", original.Spec.SecurityContext, admitted.Spec.SecurityContext); err != nil {
			return nil, err
		}
		if err := part("/spec/runtimeClassName", original.Spec.RuntimeClassName, admitted.Spec.RuntimeClassName); err != nil {
			return nil, err
		}
	} else if spec := (map[string]any{}); true {
		// Without a spec there are no containers: only pod-level defaults.
		if admitted.Spec.SecurityContext != nil {
			spec["securityContext"] = admitted.Spec.SecurityContext
		}
		if admitted.Spec.RuntimeClassName != nil {
			spec["runtimeClassName"] = *admitted.Spec.RuntimeClassName
		}
		if len(spec) > 0 {
			ops = append(ops, jsonpatch.Operation{Op: "add", Path: "/spec", Value: spec})
		}
	}
	containers := func(field string, from, to []corev1.Container) error {
		for i := range min(len(from), len(to)) {
			if err := part(fmt.Sprintf("/spec/%s/%d/securityContext", field, i), from[i].SecurityContext, to[i].SecurityContext); err != nil {
				return err
			}
		}
		return nil
	}
	if err := containers("initContainers", original.Spec.InitContainers, admitted.Spec.InitContainers); err != nil {
		return nil, err
	}
	if err := containers("containers", original.Spec.Containers, admitted.Spec.Containers); err != nil {
		return nil, err
	}
	for i := range min(len(original.Spec.EphemeralContainers), len(admitted.Spec.EphemeralContainers)) {
		if err := part(fmt.Sprintf("/spec/ephemeralContainers/%d/securityContext", i),
			original.Spec.EphemeralContainers[i].SecurityContext, admitted.Spec.EphemeralContainers[i].SecurityContext); err != nil {
			return nil, err
		}
	}
	if len(ops) == 0 {
		return nil, nil
	}
	return json.Marshal(ops)
}

// encodePart encodes one part of a pod, nil when the pod's JSON would omit
// it (a nil pointer, an empty map).
func encodePart(v any) ([]byte, error) {
	switch t := v.(type) {
	case map[string]string:
		if len(t) == 0 {
			return nil, nil
		}
	case *corev1.PodSecurityContext:
		if t == nil {
			return nil, nil
		}
	case *corev1.SecurityContext:
		if t == nil {
			return nil, nil
		}
	case *string:
		if t == nil {
			return nil, nil
		}
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding the pod: %w", err)
	}
	return data, nil
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
