package webhook

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/loader"
)

// PhasePolicy labels the metrics of the policy webhook.
const PhasePolicy = "policy"

// ReviewPolicy answers a request to create or update a PodSecurityPolicy
// of the policy.kube-psp.io CRD: allowed when the loader would load it,
// refused with the loader's own messages otherwise, so that `kubectl apply`
// and `psp check` agree on what a valid policy is. The CRD's OpenAPI schema
// checks types and enums; this checks everything else v1.24 validated
// (ranges, paths, names, combinations).
func ReviewPolicy(req *admissionv1.AdmissionRequest) Result {
	resp := &admissionv1.AdmissionResponse{UID: req.UID}
	if req.Kind.Group != policyv1.GroupName || req.Kind.Kind != policyv1.Kind || req.SubResource != "" ||
		(req.Operation != admissionv1.Create && req.Operation != admissionv1.Update) {
		resp.Allowed = true
		return Result{Response: resp, Outcome: OutcomeSkipped, Reason: "not a PodSecurityPolicy create or update"}
	}
	_, errs, warnings := loader.DecodePolicy(req.Object.Raw, loader.Options{})
	resp.Warnings = warnings
	if len(errs) > 0 {
		message := strings.Join(errs, "\n")
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusUnprocessableEntity,
			Reason: metav1.StatusReasonInvalid, Message: message}
		return Result{Response: resp, Outcome: OutcomeDenied, Reason: message}
	}
	resp.Allowed = true
	return Result{Response: resp, Outcome: OutcomeAllowed, Policy: req.Name}
}

// PolicyHandler serves the CRD's validating webhook (/validate-policy).
type PolicyHandler struct {
	Log     *slog.Logger
	Metrics *Metrics
}

func (h *PolicyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, ok := h.Metrics.readRequest(w, r, PhasePolicy, h.Log)
	if !ok {
		return
	}
	res := h.review(req)
	body, ok := encodeResponse(w, res.Response)
	if !ok {
		return
	}
	h.Metrics.requests.WithLabelValues(PhasePolicy, string(req.Operation), string(res.Outcome)).Inc()
	h.Metrics.duration.WithLabelValues(PhasePolicy).Observe(time.Since(start).Seconds())
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
	h.Log.Info("policy admission", "uid", req.UID, "operation", req.Operation, "policy", req.Name,
		"user", req.UserInfo.Username, "decision", res.Outcome, "reason", res.Reason)
}

// review refuses the policy when reviewing it panics: an unchecked policy
// must not reach the cluster.
func (h *PolicyHandler) review(req *admissionv1.AdmissionRequest) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			h.Log.Error("panic while reviewing a policy", "uid", req.UID, "panic", p)
			msg := fmt.Sprintf("kube-psp internal error while validating the policy: %v", p)
			res = Result{Outcome: OutcomeError, Reason: msg, Response: &admissionv1.AdmissionResponse{UID: req.UID,
				Result: &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError, Reason: metav1.StatusReasonInternalError, Message: msg}}}
		}
	}()
	return ReviewPolicy(req)
}
