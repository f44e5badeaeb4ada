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

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/explain"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/source"
)

func restrictedSnapshot(t *testing.T) *source.Snapshot {
	t.Helper()
	res, err := presets.Load("restricted")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := source.Build(res, "test")
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

type fixture struct {
	handler *Handler
	metrics *Metrics
	reg     *prometheus.Registry
}

func newFixture(t *testing.T, phase engine.Phase, mode Mode, fp FailurePolicy, snap *source.Snapshot) *fixture {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	return &fixture{reg: reg, metrics: m, handler: &Handler{
		Reviewer: Reviewer{Phase: phase, Mode: mode, FailurePolicy: fp},
		Snapshot: func() *source.Snapshot { return snap },
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics:  m,
	}}
}

func pod(mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{GenerateName: "web-", Namespace: "team"},
		Spec:       corev1.PodSpec{ServiceAccountName: "default", Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
	}
	if mutate != nil {
		mutate(p)
	}
	return p
}

func review(t *testing.T, op admissionv1.Operation, subresource string, obj, old *corev1.Pod) []byte {
	t.Helper()
	raw := func(p *corev1.Pod) runtime.RawExtension {
		if p == nil {
			return runtime.RawExtension{}
		}
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return runtime.RawExtension{Raw: data}
	}
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "uid-1", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"}, SubResource: subresource,
			Namespace: "team", Operation: op,
			UserInfo: authenticationv1.UserInfo{Username: "system:serviceaccount:kube-system:replicaset-controller", Groups: []string{"system:authenticated"}},
			Object:   raw(obj), OldObject: raw(old),
		},
	}
	data, err := json.Marshal(ar)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (f *fixture) post(t *testing.T, body []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/x", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	f.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" || out.Response == nil || out.Response.UID != "uid-1" {
		t.Fatalf("response %s", rec.Body)
	}
	return out.Response
}

func TestMutateAdmitsWithPatch(t *testing.T) {
	f := newFixture(t, engine.PhaseAdmit, ModeEnforce, FailurePolicyFail, restrictedSnapshot(t))
	in := pod(nil)
	resp := f.post(t, review(t, admissionv1.Create, "", in, nil))
	if !resp.Allowed || resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch || resp.AuditAnnotations[AuditAdmitPolicy] != "restricted" {
		t.Fatalf("response %+v", resp)
	}
	got := applyPatch(t, in, resp)
	c := got.Spec.Containers[0].SecurityContext
	if got.Annotations["kubernetes.io/psp"] != "restricted" || c == nil || c.RunAsNonRoot == nil || !*c.RunAsNonRoot || *got.Spec.SecurityContext.FSGroup != 1 {
		t.Errorf("patched pod: %+v", got)
	}
	// The patched pod passes the validating webhook unchanged.
	v := newFixture(t, engine.PhaseValidate, ModeEnforce, FailurePolicyFail, restrictedSnapshot(t))
	vr := v.post(t, review(t, admissionv1.Create, "", got, nil))
	if !vr.Allowed || vr.Patch != nil || vr.AuditAnnotations[AuditValidatePolicy] != "restricted" {
		t.Errorf("validate: %+v", vr)
	}
	if n := testutil.ToFloat64(f.metrics.requests.WithLabelValues("admit", "CREATE", "allowed")); n != 1 {
		t.Errorf("requests metric = %v", n)
	}
	if n := testutil.ToFloat64(f.metrics.policies.WithLabelValues("admit", "restricted")); n != 1 {
		t.Errorf("policy metric = %v", n)
	}
}

func TestMutateNoPatchWhenUnchanged(t *testing.T) {
	res, _ := presets.Load("privileged")
	snap, _ := source.Build(res, "")
	f := newFixture(t, engine.PhaseAdmit, ModeEnforce, FailurePolicyFail, snap)
	in := pod(func(p *corev1.Pod) { p.Annotations = map[string]string{"kubernetes.io/psp": "eks.privileged"} })
	resp := f.post(t, review(t, admissionv1.Create, "", in, nil))
	if !resp.Allowed || resp.Patch != nil || resp.PatchType != nil {
		t.Errorf("response %+v", resp)
	}
}

func privileged(p *corev1.Pod) {
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr(true)}
}

func ptr[T any](v T) *T { return &v }

func TestDenialsByMode(t *testing.T) {
	const msg = "PodSecurityPolicy: unable to admit pod: [spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]"
	body := review(t, admissionv1.Create, "", pod(privileged), nil)

	resp := newFixture(t, engine.PhaseAdmit, ModeEnforce, FailurePolicyFail, restrictedSnapshot(t)).post(t, body)
	if resp.Allowed || resp.Result.Code != 403 || resp.Result.Reason != metav1.StatusReasonForbidden || resp.Result.Message != msg {
		t.Errorf("enforce: %+v", resp.Result)
	}
	warnings := strings.Join(resp.Warnings, "\n")
	for _, want := range []string{
		`policy "restricted": spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed`,
		`policy "eks.privileged" would admit this pod, but neither user "system:serviceaccount:kube-system:replicaset-controller" nor ServiceAccount team/default may use it`,
		"kubectl -n team create role psp-use-eks.privileged --verb=use --resource=podsecuritypolicies.policy --resource-name=eks.privileged",
		"kubectl -n team create serviceaccount web",
		"kubectl -n team create rolebinding psp-use-eks.privileged --role=psp-use-eks.privileged --serviceaccount=team:web",
		`policy "eks.privileged" also allows privileged containers, every capability, host namespaces, every host path, running as root, for every pod of that ServiceAccount`,
	} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings lack %q:\n%s", want, warnings)
		}
	}
	for _, w := range resp.Warnings {
		if len(w) > explain.MaxWarningLength {
			t.Errorf("warning over %d bytes: %q", explain.MaxWarningLength, w)
		}
	}

	resp = newFixture(t, engine.PhaseAdmit, ModeWarn, FailurePolicyFail, restrictedSnapshot(t)).post(t, body)
	if !resp.Allowed || resp.Patch != nil || len(resp.Warnings) < 2 || !strings.HasPrefix(resp.Warnings[0], "PodSecurityPolicy would deny this request: PodSecurityPolicy: unable to admit pod") {
		t.Errorf("warn: %+v", resp)
	}
	resp = newFixture(t, engine.PhaseAdmit, ModeAudit, FailurePolicyFail, restrictedSnapshot(t)).post(t, body)
	if !resp.Allowed || len(resp.Warnings) != 0 || resp.AuditAnnotations[AuditWouldDeny] != msg {
		t.Errorf("audit: %+v", resp)
	}
}

func TestEphemeralContainers(t *testing.T) {
	old := pod(nil)
	withDebug := pod(func(p *corev1.Pod) {
		p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "debug", Image: "busybox", SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}}}
	})
	body := review(t, admissionv1.Update, "ephemeralcontainers", withDebug, old)
	if resp := newFixture(t, engine.PhaseAdmit, ModeEnforce, FailurePolicyFail, restrictedSnapshot(t)).post(t, body); !resp.Allowed || resp.Patch != nil {
		t.Errorf("mutate must leave ephemeral containers alone: %+v", resp)
	}
	resp := newFixture(t, engine.PhaseValidate, ModeEnforce, FailurePolicyFail, restrictedSnapshot(t)).post(t, body)
	if resp.Allowed || !strings.Contains(resp.Result.Message, "spec.ephemeralContainers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed") {
		t.Errorf("validate must refuse a privileged debug container: %+v", resp.Result)
	}
}

func TestSkippedRequests(t *testing.T) {
	f := newFixture(t, engine.PhaseValidate, ModeEnforce, FailurePolicyFail, restrictedSnapshot(t))
	for name, mutate := range map[string]func(*admissionv1.AdmissionReview){
		"other subresource": func(ar *admissionv1.AdmissionReview) { ar.Request.SubResource = "status" },
		"other resource": func(ar *admissionv1.AdmissionReview) {
			ar.Request.Resource = metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
		},
		"delete": func(ar *admissionv1.AdmissionReview) { ar.Request.Operation = admissionv1.Delete },
	} {
		var ar admissionv1.AdmissionReview
		_ = json.Unmarshal(review(t, admissionv1.Create, "", pod(privileged), nil), &ar)
		mutate(&ar)
		body, _ := json.Marshal(ar)
		if resp := f.post(t, body); !resp.Allowed || len(resp.Warnings) != 0 {
			t.Errorf("%s: %+v", name, resp)
		}
	}
}

func TestFailurePolicy(t *testing.T) {
	body := review(t, admissionv1.Create, "", pod(nil), nil)
	resp := newFixture(t, engine.PhaseAdmit, ModeEnforce, FailurePolicyFail, nil).post(t, body)
	if resp.Allowed || resp.Result.Code != 500 || !strings.Contains(resp.Result.Message, "policies and RBAC are not loaded") {
		t.Errorf("fail closed: %+v", resp)
	}
	resp = newFixture(t, engine.PhaseAdmit, ModeEnforce, FailurePolicyAllow, nil).post(t, body)
	if !resp.Allowed || len(resp.Warnings) != 1 {
		t.Errorf("allow: %+v", resp)
	}
	// An object that is not a pod is kube-psp's error too, not the user's pod being fine.
	var ar admissionv1.AdmissionReview
	_ = json.Unmarshal(body, &ar)
	ar.Request.Object.Raw = []byte(`{"spec":{"containers":"nope"}}`)
	bad, _ := json.Marshal(ar)
	if resp := newFixture(t, engine.PhaseAdmit, ModeEnforce, FailurePolicyFail, restrictedSnapshot(t)).post(t, bad); resp.Allowed || !strings.Contains(resp.Result.Message, "decoding the request's object as a Pod") {
		t.Errorf("bad object: %+v", resp)
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t, engine.PhaseAdmit, ModeEnforce, FailurePolicyFail, restrictedSnapshot(t))
	good := review(t, admissionv1.Create, "", pod(nil), nil)
	tests := []struct {
		name, method, contentType string
		body                      []byte
		want                      string
	}{
		{"GET", http.MethodGet, "application/json", nil, "method GET is not supported"},
		{"no content type", http.MethodPost, "", good, "no content type"},
		{"yaml", http.MethodPost, "application/yaml", good, `content type "application/yaml" is not supported`},
		{"not json", http.MethodPost, "application/json", []byte("hello"), "body is not an AdmissionReview"},
		{"v1beta1", http.MethodPost, "application/json", bytes.Replace(good, []byte("admission.k8s.io/v1"), []byte("admission.k8s.io/v1beta1"), 1), "want admission.k8s.io/v1 AdmissionReview"},
		{"wrong kind", http.MethodPost, "application/json", bytes.Replace(good, []byte(`"kind":"AdmissionReview"`), []byte(`"kind":"Pod"`), 1), "body is admission.k8s.io/v1 Pod"},
		{"no request", http.MethodPost, "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), "has no request"},
		{"no uid", http.MethodPost, "application/json", bytes.Replace(good, []byte(`"uid":"uid-1"`), []byte(`"uid":""`), 1), "has no uid"},
		{"too large", http.MethodPost, "application/json", append(bytes.Repeat([]byte(" "), MaxRequestBytes), good...), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.method, "/mutate", bytes.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			f.handler.ServeHTTP(rec, req)
			code, allow := http.StatusBadRequest, ""
			if tt.method != http.MethodPost {
				code, allow = http.StatusMethodNotAllowed, http.MethodPost
			}
			if rec.Code != code || !strings.Contains(rec.Body.String(), tt.want) || rec.Header().Get("Allow") != allow {
				t.Errorf("got %d %q (Allow %q), want %d with %q (Allow %q)", rec.Code, rec.Body, rec.Header().Get("Allow"), code, tt.want, allow)
			}
		})
	}
	if n := testutil.ToFloat64(f.metrics.badRequests.WithLabelValues("admit")); n != float64(len(tests)) {
		t.Errorf("bad request metric = %v", n)
	}
}

func FuzzDecodeReview(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","object":{"spec":{}}}}`))
	f.Add([]byte(`{"request":null}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"2","operation":"CREATE","namespace":"ns","resource":{"resource":"pods","version":"v1"},"userInfo":{"username":"u","groups":["system:authenticated"]},"object":{"metadata":{"name":"p"},"spec":{"initContainers":[{"name":"i"}],"containers":[{"name":"a","securityContext":{"capabilities":{"add":["CHOWN"]}}}],"ephemeralContainers":[{"name":"e"}]}}}}`))
	// Admitted after defaulting: exercises the patch.
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"3","operation":"CREATE","namespace":"ns","resource":{"resource":"pods","version":"v1"},"userInfo":{"username":"u","groups":["system:authenticated"]},"object":{"metadata":{"name":"p","annotations":{"a":"b"}},"spec":{"initContainers":[{"name":"i"}],"containers":[{"name":"a"},{"name":"b","securityContext":{}}]}}}}`))
	snap := restrictedSnapshot(&testing.T{})
	f.Fuzz(func(t *testing.T, body []byte) {
		ar, err := DecodeReview(body)
		if err != nil {
			return
		}
		if ar.Request == nil || ar.Request.UID == "" {
			t.Fatal("accepted a review without request or uid")
		}
		for _, phase := range []engine.Phase{engine.PhaseAdmit, engine.PhaseValidate} {
			res := Reviewer{Phase: phase, Mode: ModeEnforce, FailurePolicy: FailurePolicyFail}.Review(t.Context(), snap, ar.Request)
			if res.Response == nil || res.Response.UID != ar.Request.UID {
				t.Fatal("response without the request's uid")
			}
			if !res.Response.Allowed && res.Response.Result == nil {
				t.Fatal("denial without a status")
			}
			if res.Response.Patch != nil {
				checkPatch(t, snap, ar.Request, res.Response.Patch)
			}
		}
	})
}

func TestUnknownFields(t *testing.T) {
	var ar admissionv1.AdmissionReview
	_ = json.Unmarshal(review(t, admissionv1.Create, "", pod(nil), nil), &ar)
	// A field from a newer apiserver, in a container's security context.
	ar.Request.Object.Raw = bytes.Replace(ar.Request.Object.Raw, []byte(`"image":"nginx"`), []byte(`"image":"nginx","securityContext":{"futureEscape":true}`), 1)
	body, _ := json.Marshal(ar)

	f := newFixture(t, engine.PhaseAdmit, ModeEnforce, FailurePolicyFail, restrictedSnapshot(t))
	resp := f.post(t, body)
	if !resp.Allowed || len(resp.Warnings) == 0 || !strings.Contains(resp.Warnings[0], "spec.containers[0].securityContext.futureEscape are unknown to kube-psp") {
		t.Errorf("warn: %+v", resp)
	}
	if n := testutil.ToFloat64(f.metrics.unknown.WithLabelValues("spec.containers[].securityContext.futureEscape")); n != 1 {
		t.Errorf("unknown field metric = %v", n)
	}
	// The patch leaves the unknown field alone.
	patch, _ := jsonpatch.DecodePatch(resp.Patch)
	patched, err := patch.Apply(ar.Request.Object.Raw)
	if err != nil || !bytes.Contains(patched, []byte(`"futureEscape":true`)) || !bytes.Contains(patched, []byte(`"runAsNonRoot":true`)) {
		t.Errorf("patched: %s %v", patched, err)
	}

	f.handler.Reviewer.UnknownFields = UnknownFieldsDeny
	resp = f.post(t, body)
	if resp.Allowed || resp.Result.Code != 403 || !strings.Contains(resp.Result.Message, "spec.containers[0].securityContext.futureEscape") || !strings.Contains(resp.Result.Message, "--unknown-fields=deny") {
		t.Errorf("deny: %+v", resp.Result)
	}
}

// checkPatch applies a patch to the request's object and requires exactly
// the pod the engine admits.
func checkPatch(t *testing.T, snap *source.Snapshot, req *admissionv1.AdmissionRequest, patch []byte) {
	t.Helper()
	p, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		t.Fatalf("patch %s: %v", patch, err)
	}
	patched, err := p.Apply(req.Object.Raw)
	if err != nil {
		t.Fatalf("patch %s does not apply to %s: %v", patch, req.Object.Raw, err)
	}
	// Decode as the webhook does (case-sensitively, as the apiserver does).
	got, _, err := decodePodStrict(patched, "patched object")
	if err != nil {
		t.Fatal(err)
	}
	sent, _, err := decodePodStrict(req.Object.Raw, "object")
	if err != nil {
		t.Fatal(err)
	}
	namespace := req.Namespace
	if namespace == "" {
		namespace = sent.Namespace
	}
	d, err := engine.Decide(t.Context(), snap.Policies, snap.Authorizer, engine.Request{Phase: engine.PhaseAdmit, Operation: engine.Operation(req.Operation),
		Namespace: namespace, User: authorizer.UserInfo{Name: req.UserInfo.Username, Groups: req.UserInfo.Groups}, Pod: sent, OldPod: sent}, engine.Options{})
	if err != nil || !d.Allowed {
		t.Fatalf("engine: %v %s", err, d.Message)
	}
	if !equality.Semantic.DeepEqual(got, d.Pod) {
		t.Fatalf("patched pod differs from the engine's:\n patch %s\n got  %+v\n want %+v", patch, got, *d.Pod)
	}
}

// TestServiceAccountAlias: a pod that names its ServiceAccount only with the
// deprecated spec.serviceAccount is authorized as that ServiceAccount, as
// the apiserver reads it (issue 12: ServiceAccount ci/builder alone may use
// nonroot, and the cluster admits the pods with kubernetes.io/psp: nonroot).
func TestServiceAccountAlias(t *testing.T) {
	res, err := loader.Load([]string{"../../examples/apiserver/serviceaccount-alias/policy.yaml"}, loader.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := source.Build(res, "")
	if err != nil {
		t.Fatal(err)
	}
	inNamespace := func(body []byte, ns string) []byte {
		var ar admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &ar); err != nil {
			t.Fatal(err)
		}
		ar.Request.Namespace = ns
		out, err := json.Marshal(ar)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	in := pod(func(p *corev1.Pod) {
		p.Namespace, p.Spec.ServiceAccountName, p.Spec.DeprecatedServiceAccount = "ci", "", "builder"
	})
	f := newFixture(t, engine.PhaseAdmit, ModeEnforce, FailurePolicyFail, snap)
	resp := f.post(t, inNamespace(review(t, admissionv1.Create, "", in, nil), "ci"))
	if !resp.Allowed || resp.AuditAnnotations[AuditAdmitPolicy] != "nonroot" {
		t.Fatalf("admit: %+v", resp)
	}
	got := applyPatch(t, in, resp)
	v := newFixture(t, engine.PhaseValidate, ModeEnforce, FailurePolicyFail, snap)
	if vr := v.post(t, inNamespace(review(t, admissionv1.Create, "", got, nil), "ci")); !vr.Allowed || vr.AuditAnnotations[AuditValidatePolicy] != "nonroot" {
		t.Errorf("validate: %+v", vr)
	}
	// Without the alias, the default ServiceAccount may not use it.
	in.Spec.DeprecatedServiceAccount = "default"
	if resp := f.post(t, inNamespace(review(t, admissionv1.Create, "", in, nil), "ci")); resp.Allowed {
		t.Errorf("ServiceAccount default was admitted: %+v", resp)
	}
}

// applyPatch is the pod the apiserver stores after the response's patch.
func applyPatch(t *testing.T, in *corev1.Pod, resp *admissionv1.AdmissionResponse) *corev1.Pod {
	t.Helper()
	original, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Patch == nil {
		return in.DeepCopy()
	}
	patch, err := jsonpatch.DecodePatch(resp.Patch)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := patch.Apply(original)
	if err != nil {
		t.Fatal(err)
	}
	var got corev1.Pod
	if err := json.Unmarshal(patched, &got); err != nil {
		t.Fatal(err)
	}
	return &got
}

// Issue 13's examples under the restricted preset with the Kubernetes
// documentation's AppArmor annotations added (seccomp and AppArmor both
// allow and default runtime/default): a pod without seccomp settings and a
// pod with only the seccomp annotation both leave the mutating webhook with
// the seccompProfile field the kubelet runs, and the AppArmor default as the
// field too; the validating webhook refuses the annotation-only pod as
// written, naming the field to set.
func TestSeccompAndAppArmorFields(t *testing.T) {
	res, err := presets.Load("restricted")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Policies {
		if p.Name == "restricted" {
			p.Annotations[policyv1.AppArmorAllowedProfilesAnnotationKey] = "runtime/default"
			p.Annotations[policyv1.AppArmorDefaultProfileAnnotationKey] = "runtime/default"
		}
	}
	snap, err := source.Build(res, "test")
	if err != nil {
		t.Fatal(err)
	}
	runAsUser := func(p *corev1.Pod) {
		p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr(int64(1000))}
	}
	annotated := func(p *corev1.Pod) {
		runAsUser(p)
		p.Annotations = map[string]string{corev1.SeccompPodAnnotationKey: "runtime/default"}
	}
	for name, mutate := range map[string]func(*corev1.Pod){"no seccomp settings": runAsUser, "annotation only": annotated} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, engine.PhaseAdmit, ModeEnforce, FailurePolicyFail, snap)
			in := pod(mutate)
			resp := f.post(t, review(t, admissionv1.Create, "", in, nil))
			if !resp.Allowed {
				t.Fatalf("response %+v", resp)
			}
			got := applyPatch(t, in, resp)
			if sp := got.Spec.SecurityContext.SeccompProfile; sp == nil || sp.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("stored pod's seccompProfile = %+v, want RuntimeDefault", sp)
			}
			if got.Annotations[corev1.SeccompPodAnnotationKey] != "runtime/default" {
				t.Errorf("annotations %v", got.Annotations)
			}
			if c := got.Spec.Containers[0].SecurityContext; c == nil || c.AppArmorProfile == nil || c.AppArmorProfile.Type != corev1.AppArmorProfileTypeRuntimeDefault {
				t.Errorf("container's appArmorProfile: %+v", c)
			}
			v := newFixture(t, engine.PhaseValidate, ModeEnforce, FailurePolicyFail, snap)
			if vr := v.post(t, review(t, admissionv1.Create, "", got, nil)); !vr.Allowed {
				t.Errorf("the patched pod fails validation: %+v", vr.Result)
			}
		})
	}
	v := newFixture(t, engine.PhaseValidate, ModeEnforce, FailurePolicyFail, snap)
	in := pod(annotated)
	in.Annotations[corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix+"web"] = "runtime/default"
	vr := v.post(t, review(t, admissionv1.Create, "", in, nil))
	if vr.Allowed || vr.Result == nil || !strings.Contains(vr.Result.Message, "spec.containers[0].securityContext.seccompProfile: Forbidden: "+engine.SeccompUnsetMessage) {
		t.Errorf("validate the annotation-only pod: %+v", vr.Result)
	}
}
