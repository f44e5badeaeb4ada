package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the webhook's request metrics.
type Metrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	policies    *prometheus.CounterVec
	badRequests *prometheus.CounterVec
	unknown     *prometheus.CounterVec
	timeouts    *prometheus.CounterVec
	panics      *prometheus.CounterVec
}

// NewMetrics registers the request metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_psp_admission_requests_total",
			Help: "Admission requests by phase (admit, validate), operation and decision (allowed, denied, would-deny, skipped, error).",
		}, []string{"phase", "operation", "decision"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kube_psp_admission_duration_seconds",
			Help:    "Time to decide an admission request, from its body read to its response encoded.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1},
		}, []string{"phase"}),
		policies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_psp_admitting_policy_total",
			Help: "Admitted pods by phase and the policy that admitted them.",
		}, []string{"phase", "policy"}),
		badRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_psp_bad_requests_total",
			Help: "Requests refused with 400 before any decision (not an AdmissionReview, too large, wrong method or content type).",
		}, []string{"phase"}),
		unknown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_psp_unknown_fields_total",
			Help: "Pod fields unknown to this build (from a newer apiserver), by field path without list indexes; they are not checked.",
		}, []string{"field"}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_psp_subjectaccessreview_timeouts_total",
			Help: "Admission requests answered by the failure policy because SubjectAccessReview latency ran past --decision-timeout (see kube_psp_subjectaccessreview_duration_seconds), by phase.",
		}, []string{"phase"}),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_psp_admission_panics_total",
			Help: "Admission requests whose review panicked, by phase (admit, validate, policy); each is answered as kube-psp's own error (decision error).",
		}, []string{"phase"}),
	}
	reg.MustRegister(m.requests, m.duration, m.policies, m.badRequests, m.unknown, m.timeouts, m.panics)
	return m
}
