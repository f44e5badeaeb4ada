package webhook

import (
	"encoding/json"
	"net/http"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestResponseConstructors(t *testing.T) {
	jsonPatch := admissionv1.PatchTypeJSONPatch
	status := func(code int32, reason metav1.StatusReason, msg string) *metav1.Status {
		return &metav1.Status{Status: metav1.StatusFailure, Code: code, Reason: reason, Message: msg}
	}
	tests := []struct {
		name string
		got  *admissionv1.AdmissionResponse
		want string
	}{
		{"allowed", allowed(), `{"uid":"","allowed":true}`},
		{"patched", patched([]byte(`[{"op":"add","path":"/a","value":1}]`)),
			`{"uid":"","allowed":true,"patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL2EiLCJ2YWx1ZSI6MX1d","patchType":"JSONPatch"}`},
		{"patched without changes", patched(nil), `{"uid":"","allowed":true}`},
		{"denied", denied("no"), `{"uid":"","allowed":false,"status":{"metadata":{},"status":"Failure","message":"no","reason":"Forbidden","code":403}}`},
		{"invalid", invalid("bad"), `{"uid":"","allowed":false,"status":{"metadata":{},"status":"Failure","message":"bad","reason":"Invalid","code":422}}`},
		{"errored", errored("broke"), `{"uid":"","allowed":false,"status":{"metadata":{},"status":"Failure","message":"broke","reason":"InternalError","code":500}}`},
		{"denied with warnings", withWarnings(denied("no"), "w1", "w2"),
			`{"uid":"","allowed":false,"status":{"metadata":{},"status":"Failure","message":"no","reason":"Forbidden","code":403},"warnings":["w1","w2"]}`},
		{"allowed without warnings", withWarnings(allowed()), `{"uid":"","allowed":true}`},
		{"audit annotations", withAuditAnnotation(withAuditAnnotation(allowed(), "a", "1"), "b", "2"),
			`{"uid":"","allowed":true,"auditAnnotations":{"a":"1","b":"2"}}`},
	}
	for _, tt := range tests {
		data, err := json.Marshal(tt.got)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, data, tt.want)
		}
	}
	// The fields as Go values, not only their encoding.
	if r := patched([]byte("[]")); r.PatchType == nil || *r.PatchType != jsonPatch {
		t.Errorf("patched: patch type %v", r.PatchType)
	}
	for name, r := range map[string]*admissionv1.AdmissionResponse{
		"denied": denied("m"), "invalid": invalid("m"), "errored": errored("m"),
	} {
		want := map[string]*metav1.Status{
			"denied":  status(http.StatusForbidden, metav1.StatusReasonForbidden, "m"),
			"invalid": status(http.StatusUnprocessableEntity, metav1.StatusReasonInvalid, "m"),
			"errored": status(http.StatusInternalServerError, metav1.StatusReasonInternalError, "m"),
		}[name]
		if r.Allowed || r.Result == nil || *r.Result != *want {
			t.Errorf("%s: %+v, want %+v", name, r.Result, want)
		}
	}
	// Each constructor returns its own value: changing one answer must not
	// change the next.
	a := withAuditAnnotation(allowed(), "k", "v")
	if b := allowed(); b.AuditAnnotations != nil || a == b {
		t.Errorf("allowed() shares state: %+v", b)
	}
}
