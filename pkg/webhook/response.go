package webhook

import (
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The response constructors: every AdmissionResponse kube-psp sends is built
// here, so a status code, reason or patch type is written once (after
// controller-runtime's pkg/webhook/admission/response.go and
// k8s.io/pod-security-admission's admission/response.go). They leave the
// UID unset: Reviewer.Review, ReviewPolicy and the HTTP skeleton copy the
// request's.

// allowed admits the request unchanged.
func allowed() *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Allowed: true}
}

// patched admits the request changed by patch, a JSON Patch (RFC 6902)
// document; a nil patch changes nothing.
func patched(patch []byte) *admissionv1.AdmissionResponse {
	resp := allowed()
	if patch != nil {
		pt := admissionv1.PatchTypeJSONPatch
		resp.Patch, resp.PatchType = patch, &pt
	}
	return resp
}

// denied refuses the request by policy: code 403, reason Forbidden, as
// v1.24's admission plugin answered (admission.NewForbidden).
func denied(message string) *admissionv1.AdmissionResponse {
	return refused(http.StatusForbidden, metav1.StatusReasonForbidden, message)
}

// invalid refuses an object that fails validation: code 422, reason
// Invalid, as the apiserver answers an invalid object.
func invalid(message string) *admissionv1.AdmissionResponse {
	return refused(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, message)
}

// errored refuses the request because kube-psp failed: code 500, reason
// InternalError (failing closed).
func errored(message string) *admissionv1.AdmissionResponse {
	return refused(http.StatusInternalServerError, metav1.StatusReasonInternalError, message)
}

func refused(code int32, reason metav1.StatusReason, message string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Result: &metav1.Status{
		Status: metav1.StatusFailure, Code: code, Reason: reason, Message: message,
	}}
}

// withWarnings sets resp's warnings (kubectl prints them) and returns resp.
// The caller bounds them (explain.Truncate, explain.MaxWarnings).
func withWarnings(resp *admissionv1.AdmissionResponse, warnings ...string) *admissionv1.AdmissionResponse {
	resp.Warnings = warnings
	return resp
}

// withAuditAnnotation adds key=value to resp's audit annotations (the
// apiserver prefixes key with the webhook's name) and returns resp.
func withAuditAnnotation(resp *admissionv1.AdmissionResponse, key, value string) *admissionv1.AdmissionResponse {
	if resp.AuditAnnotations == nil {
		resp.AuditAnnotations = make(map[string]string, 1)
	}
	resp.AuditAnnotations[key] = value
	return resp
}
