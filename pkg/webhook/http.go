package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-psp/kube-psp/pkg/source"
)

// MaxRequestBytes bounds a request body; the apiserver's own limit on an
// object is about 3 MiB.
const MaxRequestBytes = 3 << 20

// Handler serves one phase's endpoint (/mutate or /validate).
type Handler struct {
	Reviewer Reviewer
	// Snapshot returns the policies and RBAC in force (nil before loaded).
	Snapshot func() *source.Snapshot
	Log      *slog.Logger
	Metrics  *Metrics
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	phase := string(h.Reviewer.Phase)
	req, ok := h.Metrics.readRequest(w, r, phase, h.Log)
	if !ok {
		return
	}
	res := h.review(r, req)
	body, ok := encodeResponse(w, res.Response)
	if !ok {
		return
	}
	// Count before answering, so a scrape after the answer always sees it.
	elapsed := time.Since(start)
	h.Metrics.requests.WithLabelValues(phase, string(req.Operation), string(res.Outcome)).Inc()
	h.Metrics.duration.WithLabelValues(phase).Observe(elapsed.Seconds())
	if res.Outcome == OutcomeAllowed {
		h.Metrics.policies.WithLabelValues(phase, res.Policy).Inc()
	}
	if res.TimedOut {
		h.Metrics.timeouts.WithLabelValues(phase).Inc()
	}
	for _, f := range res.UnknownFields {
		h.Metrics.unknown.WithLabelValues(metricFieldName(f)).Inc()
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
	h.log(r.Context(), req, res, elapsed)
}

// review runs the reviewer, turning a panic into an error answered by the
// failure policy: one bad request must not take the webhook down or slip through.
func (h *Handler) review(r *http.Request, req *admissionv1.AdmissionRequest) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			h.Log.Error("panic while reviewing", "uid", req.UID, "panic", p)
			res = h.Reviewer.failed(&admissionv1.AdmissionResponse{UID: req.UID}, fmt.Errorf("internal error: %v", p))
		}
	}()
	return h.Reviewer.Review(r.Context(), h.Snapshot(), req)
}

func (h *Handler) log(ctx context.Context, req *admissionv1.AdmissionRequest, res Result, elapsed time.Duration) {
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

// readRequest reads an AdmissionReview's request, or answers 400, or 405
// with an Allow header for a method other than POST (counted and logged),
// and returns false.
func (m *Metrics) readRequest(w http.ResponseWriter, r *http.Request, phase string, log *slog.Logger) (*admissionv1.AdmissionRequest, bool) {
	review, err := readReview(w, r)
	if err != nil {
		m.badRequests.WithLabelValues(phase).Inc()
		log.Warn("bad admission request", "phase", phase, "remote", r.RemoteAddr, "error", err)
		status := http.StatusBadRequest
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			status = http.StatusMethodNotAllowed
		}
		http.Error(w, err.Error(), status)
		return nil, false
	}
	return review.Request, true
}

// encodeResponse wraps resp in an AdmissionReview, or answers 500 and
// returns false.
func encodeResponse(w http.ResponseWriter, resp *admissionv1.AdmissionResponse) ([]byte, bool) {
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "AdmissionReview"},
		Response: resp,
	})
	if err != nil {
		// Cannot happen for these types; fail closed without a body the apiserver would misread.
		http.Error(w, "encoding the response: "+err.Error(), http.StatusInternalServerError)
		return nil, false
	}
	return body, true
}

// readReview reads and checks a request: POST, JSON, at most
// MaxRequestBytes, an admission.k8s.io/v1 AdmissionReview with a request and
// a uid.
func readReview(w http.ResponseWriter, r *http.Request) (*admissionv1.AdmissionReview, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("method %s is not supported: POST an admission.k8s.io/v1 AdmissionReview", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, fmt.Errorf("content type %q is not supported: send application/json", ct)
		}
	} else {
		return nil, fmt.Errorf("no content type: send application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, fmt.Errorf("request body is larger than %d bytes", MaxRequestBytes)
		}
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	return DecodeReview(body)
}

// DecodeReview decodes and checks an AdmissionReview request body.
func DecodeReview(body []byte) (*admissionv1.AdmissionReview, error) {
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		return nil, fmt.Errorf("body is not an AdmissionReview: %v", err)
	}
	if review.APIVersion != admissionv1.SchemeGroupVersion.String() || review.Kind != "AdmissionReview" {
		return nil, fmt.Errorf("body is %s %s, want admission.k8s.io/v1 AdmissionReview (set admissionReviewVersions: [v1] on the webhook configuration)",
			orNone(review.APIVersion), orNone(review.Kind))
	}
	if review.Request == nil {
		return nil, fmt.Errorf("AdmissionReview has no request")
	}
	if review.Request.UID == "" {
		return nil, fmt.Errorf("AdmissionReview request has no uid")
	}
	return &review, nil
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
