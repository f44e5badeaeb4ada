package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/loader"
)

// PhasePolicy labels the metrics of the policy webhook.
const PhasePolicy = "policy"

// ReviewPolicy answers a request to create or update a PodSecurityPolicy
// of the policy.kube-psp.io CRD, with the request's uid: allowed when the
// loader would load it, refused (code 422, reason Invalid) with the
// loader's own messages otherwise, so that `kubectl apply` and `psp check`
// agree on what a valid policy is. The CRD's OpenAPI schema checks types
// and enums; this checks everything else v1.24 validated (ranges, paths,
// names, combinations).
func ReviewPolicy(req *admissionv1.AdmissionRequest) ReviewResult {
	res := reviewPolicy(req)
	res.Response.UID = req.UID
	return res
}

func reviewPolicy(req *admissionv1.AdmissionRequest) ReviewResult {
	if req.Kind.Group != policyv1.GroupName || req.Kind.Kind != policyv1.Kind || req.SubResource != "" ||
		(req.Operation != admissionv1.Create && req.Operation != admissionv1.Update) {
		return skipped("not a PodSecurityPolicy create or update")
	}
	_, errs, warnings := loader.DecodePolicy(req.Object.Raw, loader.Options{})
	if len(errs) > 0 {
		message := strings.Join(errs, "\n")
		return ReviewResult{Response: withWarnings(invalid(message), warnings...), Outcome: OutcomeDenied, Reason: message}
	}
	return ReviewResult{Response: withWarnings(allowed(), warnings...), Outcome: OutcomeAllowed, Policy: req.Name}
}

// PolicyHandler serves the CRD's validating webhook (/validate-policy)
// through the HTTP skeleton (serveReview); ReviewPolicy decides.
type PolicyHandler struct {
	Log     *slog.Logger
	Metrics *Metrics
}

func (h *PolicyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serveReview(w, r, PhasePolicy, h.Log, h.Metrics, h)
}

func (h *PolicyHandler) review(_ context.Context, req *admissionv1.AdmissionRequest) ReviewResult {
	return ReviewPolicy(req)
}

// recovered refuses the policy when reviewing it panicked, whatever the
// pods' failure policy: an unchecked policy must not reach the cluster.
func (h *PolicyHandler) recovered(req *admissionv1.AdmissionRequest, p any) ReviewResult {
	h.Log.Error("panic while reviewing a policy", "uid", req.UID, "panic", p)
	msg := fmt.Sprintf("kube-psp internal error while validating the policy: %v", p)
	return ReviewResult{Response: errored(msg), Outcome: OutcomeError, Reason: msg}
}

// count: the requests and duration the skeleton counts are all there is.
func (h *PolicyHandler) count(*admissionv1.AdmissionRequest, ReviewResult) {}

func (h *PolicyHandler) log(_ context.Context, req *admissionv1.AdmissionRequest, res ReviewResult, _ time.Duration) {
	h.Log.Info("policy admission", "uid", req.UID, "operation", req.Operation, "policy", req.Name,
		"user", req.UserInfo.Username, "decision", res.Outcome, "reason", res.Reason)
}
