package webhook

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/kube-psp/kube-psp/pkg/loader"
)

const validPolicyYAML = `apiVersion: policy.kube-psp.io/v1
kind: PodSecurityPolicy
metadata: {name: ok}
spec:
  runAsUser: {rule: MustRunAsNonRoot}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  volumes: [configMap, image]
`

// invalidPolicyYAML breaks rules the CRD's schema cannot express.
const invalidPolicyYAML = `apiVersion: policy.kube-psp.io/v1
kind: PodSecurityPolicy
metadata: {name: bad}
spec:
  privileged: false
  runAsUser: {rule: MustRunAs, ranges: [{min: 10, max: 5}]}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  allowedHostPaths: [{pathPrefix: "/var/../etc"}]
  defaultAddCapabilities: [NET_ADMIN]
  requiredDropCapabilities: [NET_ADMIN]
`

func policyRequest(t *testing.T, doc string, op admissionv1.Operation) *admissionv1.AdmissionRequest {
	t.Helper()
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Metadata struct{ Name string } `json:"metadata"`
	}
	_ = json.Unmarshal(js, &meta)
	return &admissionv1.AdmissionRequest{
		UID:       "u1",
		Kind:      metav1.GroupVersionKind{Group: "policy.kube-psp.io", Version: "v1", Kind: "PodSecurityPolicy"},
		Resource:  metav1.GroupVersionResource{Group: "policy.kube-psp.io", Version: "v1", Resource: "podsecuritypolicies"},
		Name:      meta.Metadata.Name,
		Operation: op,
		Object:    runtime.RawExtension{Raw: js},
	}
}

func TestReviewPolicyAgreesWithTheLoader(t *testing.T) {
	res := ReviewPolicy(policyRequest(t, validPolicyYAML, admissionv1.Create))
	if !res.Response.Allowed || res.Outcome != OutcomeAllowed {
		t.Fatalf("valid policy refused: %+v", res.Response.Result)
	}
	for _, op := range []admissionv1.Operation{admissionv1.Create, admissionv1.Update} {
		res = ReviewPolicy(policyRequest(t, invalidPolicyYAML, op))
		if res.Response.Allowed || res.Response.Result.Code != http.StatusUnprocessableEntity || res.Response.Result.Reason != metav1.StatusReasonInvalid {
			t.Fatalf("%s: invalid policy: %+v", op, res.Response)
		}
		_, err := loader.LoadReader("bad.yaml", strings.NewReader(invalidPolicyYAML), loader.Options{})
		if err == nil {
			t.Fatal("the loader accepts the invalid policy")
		}
		// The loader says the same, each message after the location.
		want := strings.Split(err.Error(), "\n")
		got := strings.Split(res.Response.Result.Message, "\n")
		if len(got) != len(want) || len(got) < 3 {
			t.Fatalf("webhook:\n%s\nloader:\n%s", res.Response.Result.Message, err)
		}
		for i := range got {
			if !strings.HasSuffix(want[i], ": "+got[i]) {
				t.Errorf("message %d: webhook %q, loader %q", i, got[i], want[i])
			}
		}
	}
}

func TestReviewPolicySkipsOtherRequests(t *testing.T) {
	del := policyRequest(t, validPolicyYAML, admissionv1.Delete)
	del.Object = runtime.RawExtension{}
	status := policyRequest(t, invalidPolicyYAML, admissionv1.Update)
	status.SubResource = "status"
	pod := policyRequest(t, invalidPolicyYAML, admissionv1.Create)
	pod.Kind = metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}
	for _, req := range []*admissionv1.AdmissionRequest{del, status, pod} {
		if res := ReviewPolicy(req); !res.Response.Allowed || res.Outcome != OutcomeSkipped {
			t.Errorf("%s %s/%s: %+v", req.Operation, req.Kind.Kind, req.SubResource, res.Response)
		}
	}
}

func TestPolicyHandlerOverHTTP(t *testing.T) {
	h := &PolicyHandler{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: NewMetrics(prometheus.NewRegistry())}
	srv := httptest.NewServer(h)
	defer srv.Close()
	body, _ := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  policyRequest(t, invalidPolicyYAML, admissionv1.Create),
	})
	resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Response == nil {
		t.Fatalf("response: %v", err)
	}
	if out.Response.UID != "u1" || out.Response.Allowed || !strings.Contains(out.Response.Result.Message, `PodSecurityPolicy "bad" is invalid`) {
		t.Fatalf("response: %+v", out.Response)
	}
	bad, err := http.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	bad.Body.Close()
	if bad.StatusCode != http.StatusBadRequest {
		t.Fatalf("a body that is not an AdmissionReview: %d", bad.StatusCode)
	}
}
