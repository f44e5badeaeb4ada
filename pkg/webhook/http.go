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
)

// MaxRequestBytes bounds a request body; the apiserver's own limit on an
// object is about 3 MiB.
const MaxRequestBytes = 3 << 20

// endpoint is one review handler as the HTTP skeleton (serveReview) sees
// it: Handler (pods) or PolicyHandler (the CRD's policies).
type endpoint interface {
	// review decides req; it touches no HTTP, metric or log.
	review(ctx context.Context, req *admissionv1.AdmissionRequest) ReviewResult
	// recovered logs that review panicked with p and answers req.
	recovered(req *admissionv1.AdmissionRequest, p any) ReviewResult
	// count records the endpoint's own metrics, beyond the requests and
	// duration every endpoint counts.
	count(req *admissionv1.AdmissionRequest, res ReviewResult)
	// log writes the decision's log line.
	log(ctx context.Context, req *admissionv1.AdmissionRequest, res ReviewResult, elapsed time.Duration)
}

// serveReview is the one HTTP skeleton of kube-psp's endpoints: it reads
// and checks the AdmissionReview (or answers 400, or 405 for a method other
// than POST), has e decide, turning a panic into e's error answer, counts,
// and writes the AdmissionReview response with the request's uid. phase
// labels the metrics and the log.
func serveReview(w http.ResponseWriter, r *http.Request, phase string, log *slog.Logger, m *Metrics, e endpoint) {
	start := time.Now()
	ar, err := readReview(w, r)
	if err != nil {
		m.badRequests.WithLabelValues(phase).Inc()
		log.Warn("bad admission request", "phase", phase, "remote", r.RemoteAddr, "error", err)
		status := http.StatusBadRequest
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			status = http.StatusMethodNotAllowed
		}
		http.Error(w, err.Error(), status)
		return
	}
	req := ar.Request
	res := reviewRecovering(r.Context(), phase, m, e, req)
	res.Response.UID = req.UID
	body, err := encodeReview(res.Response)
	if err != nil {
		// Cannot happen for these types; fail closed without a body the apiserver would misread.
		http.Error(w, "encoding the response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	// Count before answering, so a scrape after the answer always sees it.
	elapsed := time.Since(start)
	m.requests.WithLabelValues(phase, string(req.Operation), string(res.Outcome)).Inc()
	m.duration.WithLabelValues(phase).Observe(elapsed.Seconds())
	e.count(req, res)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
	e.log(r.Context(), req, res, elapsed)
}

// reviewRecovering has e review req, turning a panic into e's error answer
// (counted): one bad request must not take the webhook down or slip through.
func reviewRecovering(ctx context.Context, phase string, m *Metrics, e endpoint, req *admissionv1.AdmissionRequest) (res ReviewResult) {
	defer func() {
		if p := recover(); p != nil {
			m.panics.WithLabelValues(phase).Inc()
			res = e.recovered(req, p)
		}
	}()
	return e.review(ctx, req)
}

// encodeReview wraps resp in an admission.k8s.io/v1 AdmissionReview.
func encodeReview(resp *admissionv1.AdmissionResponse) ([]byte, error) {
	return json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "AdmissionReview"},
		Response: resp,
	})
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
