package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// stubEndpoint answers with res, or panics with panicWith, and records
// what the skeleton asked of it.
type stubEndpoint struct {
	res       ReviewResult
	panicWith any
	reviewed  int
	panicked  any
	counted   int
	logged    int
}

func (s *stubEndpoint) review(context.Context, *admissionv1.AdmissionRequest) ReviewResult {
	s.reviewed++
	if s.panicWith != nil {
		panic(s.panicWith)
	}
	return s.res
}

func (s *stubEndpoint) recovered(_ *admissionv1.AdmissionRequest, p any) ReviewResult {
	s.panicked = p
	return ReviewResult{Response: errored("recovered"), Outcome: OutcomeError, Reason: "recovered"}
}

func (s *stubEndpoint) count(*admissionv1.AdmissionRequest, ReviewResult) { s.counted++ }

func (s *stubEndpoint) log(context.Context, *admissionv1.AdmissionRequest, ReviewResult, time.Duration) {
	s.logged++
}

// serveStub posts body to the skeleton around e and returns the recorder.
func serveStub(t *testing.T, m *Metrics, e endpoint, method string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, "/x", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	serveReview(rec, req, "test", slog.New(slog.DiscardHandler), m, e)
	return rec
}

func decodeAnswer(t *testing.T, rec *httptest.ResponseRecorder) *admissionv1.AdmissionResponse {
	t.Helper()
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" || out.Response == nil {
		t.Fatalf("not an AdmissionReview response: %s", rec.Body)
	}
	return out.Response
}

func TestSkeletonAnswers(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	e := &stubEndpoint{res: ReviewResult{Response: withWarnings(denied("no"), "why"), Outcome: OutcomeDenied}}
	resp := decodeAnswer(t, serveStub(t, m, e, http.MethodPost, review(t, admissionv1.Create, "", pod(nil), nil)))
	// The skeleton copies the request's uid; the endpoint does not have to.
	if resp.UID != "uid-1" || resp.Allowed || resp.Result.Code != http.StatusForbidden || len(resp.Warnings) != 1 {
		t.Errorf("answer %+v", resp)
	}
	if e.reviewed != 1 || e.counted != 1 || e.logged != 1 {
		t.Errorf("reviewed %d, counted %d, logged %d times, want once each", e.reviewed, e.counted, e.logged)
	}
	if n := testutil.ToFloat64(m.requests.WithLabelValues("test", "CREATE", "denied")); n != 1 {
		t.Errorf("requests metric = %v", n)
	}
	if n := testutil.CollectAndCount(m.duration); n != 1 {
		t.Errorf("duration metric series = %d", n)
	}
}

func TestSkeletonRefusesBadRequests(t *testing.T) {
	good := review(t, admissionv1.Create, "", pod(nil), nil)
	for _, tt := range []struct {
		name, method string
		body         []byte
		code         int
		want         string
	}{
		{"GET", http.MethodGet, nil, http.StatusMethodNotAllowed, "method GET is not supported"},
		{"bad body", http.MethodPost, []byte(`{"apiVersion":`), http.StatusBadRequest, "body is not an AdmissionReview"},
		{"wrong kind", http.MethodPost, bytes.Replace(good, []byte(`"kind":"AdmissionReview"`), []byte(`"kind":"ConfigMap"`), 1),
			http.StatusBadRequest, "body is admission.k8s.io/v1 ConfigMap, want admission.k8s.io/v1 AdmissionReview"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMetrics(prometheus.NewRegistry())
			e := &stubEndpoint{res: ReviewResult{Response: allowed(), Outcome: OutcomeAllowed}}
			rec := serveStub(t, m, e, tt.method, tt.body)
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("got %d %q, want %d with %q", rec.Code, rec.Body, tt.code, tt.want)
			}
			if e.reviewed+e.counted+e.logged != 0 {
				t.Errorf("a bad request reached the endpoint: %+v", e)
			}
			if n := testutil.ToFloat64(m.badRequests.WithLabelValues("test")); n != 1 {
				t.Errorf("bad requests metric = %v", n)
			}
			if n := testutil.CollectAndCount(m.requests); n != 0 {
				t.Errorf("a bad request counted as a decision: %d series", n)
			}
		})
	}
}

func TestSkeletonRecoversPanics(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	e := &stubEndpoint{panicWith: "boom"}
	resp := decodeAnswer(t, serveStub(t, m, e, http.MethodPost, review(t, admissionv1.Create, "", pod(nil), nil)))
	if e.panicked != "boom" {
		t.Errorf("recovered with %v", e.panicked)
	}
	if resp.UID != "uid-1" || resp.Allowed || resp.Result.Code != http.StatusInternalServerError || resp.Result.Message != "recovered" {
		t.Errorf("answer %+v", resp)
	}
	if n := testutil.ToFloat64(m.panics.WithLabelValues("test")); n != 1 {
		t.Errorf("panics metric = %v", n)
	}
	if n := testutil.ToFloat64(m.requests.WithLabelValues("test", "CREATE", "error")); n != 1 {
		t.Errorf("requests metric = %v", n)
	}
	if e.counted != 1 || e.logged != 1 {
		t.Errorf("counted %d, logged %d times, want once each", e.counted, e.logged)
	}
}

// TestEndpointsRecoverPanics: a panic answers a pod by the failure policy,
// and refuses a policy whatever it is.
func TestEndpointsRecoverPanics(t *testing.T) {
	body := review(t, admissionv1.Create, "", pod(nil), nil)
	for _, fp := range []FailurePolicy{FailurePolicyFail, FailurePolicyAllow} {
		f := newFixture(t, engine.PhaseAdmit, ModeEnforce, fp, nil)
		f.handler.Snapshot = func() *source.Snapshot { panic("snapshot exploded") }
		resp := f.post(t, body)
		switch fp {
		case FailurePolicyFail:
			if resp.Allowed || resp.Result.Code != http.StatusInternalServerError || resp.Result.Message != "kube-psp could not decide: internal error: snapshot exploded" {
				t.Errorf("fail: %+v", resp.Result)
			}
		case FailurePolicyAllow:
			if !resp.Allowed || len(resp.Warnings) != 1 || resp.Warnings[0] != "kube-psp could not decide: internal error: snapshot exploded (admitted: --failure-policy allow)" {
				t.Errorf("allow: %+v", resp)
			}
		}
		if n := testutil.ToFloat64(f.metrics.panics.WithLabelValues("admit")); n != 1 {
			t.Errorf("%s: panics metric = %v", fp, n)
		}
		if n := testutil.ToFloat64(f.metrics.requests.WithLabelValues("admit", "CREATE", "error")); n != 1 {
			t.Errorf("%s: requests metric = %v", fp, n)
		}
	}
	var logs bytes.Buffer
	h := &PolicyHandler{Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: NewMetrics(prometheus.NewRegistry())}
	res := h.recovered(&admissionv1.AdmissionRequest{UID: "u1"}, "boom")
	want := &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError, Reason: metav1.StatusReasonInternalError,
		Message: "kube-psp internal error while validating the policy: boom"}
	if res.Response.Allowed || *res.Response.Result != *want || res.Outcome != OutcomeError {
		t.Errorf("policy: %+v", res.Response)
	}
	if !strings.Contains(logs.String(), `"msg":"panic while reviewing a policy","uid":"u1","panic":"boom"`) {
		t.Errorf("policy panic log: %s", logs.String())
	}
}
