package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/kube-psp/kube-psp/pkg/source"
)

// Handler serves one phase's pod endpoint (/mutate or /validate) through
// the HTTP skeleton (serveReview); Reviewer decides.
type Handler struct {
	Reviewer Reviewer
	// Snapshot returns the policies and RBAC in force (nil before loaded).
	Snapshot func() *source.Snapshot
	Log      *slog.Logger
	Metrics  *Metrics
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serveReview(w, r, string(h.Reviewer.Phase), h.Log, h.Metrics, h)
}

func (h *Handler) review(ctx context.Context, req *admissionv1.AdmissionRequest) ReviewResult {
	return h.Reviewer.Review(ctx, h.Snapshot(), req)
}

// recovered answers a request whose review panicked by the failure policy.
func (h *Handler) recovered(req *admissionv1.AdmissionRequest, p any) ReviewResult {
	h.Log.Error("panic while reviewing", "uid", req.UID, "panic", p)
	return h.Reviewer.failed(fmt.Errorf("internal error: %v", p))
}

func (h *Handler) count(_ *admissionv1.AdmissionRequest, res ReviewResult) {
	phase := string(h.Reviewer.Phase)
	if res.Outcome == OutcomeAllowed {
		h.Metrics.policies.WithLabelValues(phase, res.Policy).Inc()
	}
	if res.TimedOut {
		h.Metrics.timeouts.WithLabelValues(phase).Inc()
	}
	for _, f := range res.UnknownFields {
		h.Metrics.unknown.WithLabelValues(metricFieldName(f)).Inc()
	}
}

func (h *Handler) log(ctx context.Context, req *admissionv1.AdmissionRequest, res ReviewResult, elapsed time.Duration) {
	if len(res.UnknownFields) > 0 {
		h.Log.Warn("pod fields unknown to this build were not checked; upgrade kube-psp", "uid", req.UID, "fields", res.UnknownFields, "unknownFields", h.Reviewer.UnknownFields)
	}
	level, msg := slog.LevelDebug, "admission"
	var extra []any
	switch res.Outcome {
	case OutcomeAllowed:
		level, extra = slog.LevelInfo, []any{"policy", res.Policy}
	case OutcomeDenied:
		level, extra = slog.LevelInfo, []any{"reason", res.Reason}
	case OutcomeWouldDeny:
		level, msg, extra = slog.LevelWarn, "admission would be denied in enforce mode", []any{"mode", h.Reviewer.Mode, "reason", res.Reason}
	case OutcomeError:
		level, msg, extra = slog.LevelError, "admission failed", []any{"failurePolicy", h.Reviewer.FailurePolicy, "error", res.Reason}
	default:
		extra = []any{"reason", res.Reason}
	}
	// Build the record only when it is written: at --log-level warn, the
	// per-request cost of logging an admitted pod is this check.
	if !h.Log.Enabled(ctx, level) {
		return
	}
	attrs := []any{
		"uid", req.UID, "phase", h.Reviewer.Phase, "operation", req.Operation, "namespace", req.Namespace,
		"pod", podName(req), "user", req.UserInfo.Username, "decision", res.Outcome, "durationSeconds", elapsed.Seconds(),
	}
	if req.SubResource != "" {
		attrs = append(attrs, "subresource", req.SubResource)
	}
	h.Log.Log(ctx, level, msg, append(attrs, extra...)...)
}

// podName is the name, or the generateName of a pod a controller creates.
func podName(req *admissionv1.AdmissionRequest) string {
	if req.Name != "" {
		return req.Name
	}
	var meta struct {
		Metadata struct {
			GenerateName string `json:"generateName"`
		} `json:"metadata"`
	}
	if json.Unmarshal(req.Object.Raw, &meta) == nil && meta.Metadata.GenerateName != "" {
		return meta.Metadata.GenerateName + "*"
	}
	return ""
}
