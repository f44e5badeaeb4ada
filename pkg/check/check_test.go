package check

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/rbac"
	"github.com/kube-psp/kube-psp/pkg/source"
)

func TestRun(t *testing.T) {
	res, err := presets.Load("restricted")
	if err != nil {
		t.Fatal(err)
	}
	set, err := engine.NewPolicySet(res.Policies)
	if err != nil {
		t.Fatal(err)
	}
	authz := rbac.NewIndex(res.RBAC)
	ws, err := manifest.Read([]string{"-"}, strings.NewReader(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: priv}
spec:
  containers: [{name: p, image: p, securityContext: {privileged: true}}]
`), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	results, err := Run(context.Background(), set, authz, ws, Options{User: authorizer.UserInfo{Name: "me", Groups: []string{"system:authenticated"}}})
	if err != nil {
		t.Fatal(err)
	}
	web, priv := results[0], results[1]
	if !web.Admitted || web.Policy != "restricted" || web.Requester.Name != "system:serviceaccount:kube-system:replicaset-controller" || len(web.Changes) == 0 {
		t.Errorf("web: %+v", web)
	}
	for _, c := range web.Changes {
		if c.Field == "metadata.annotations[kubernetes.io/psp]" {
			t.Error("the psp annotation is not reported as a policy change")
		}
	}
	if priv.Admitted || priv.DeniedIn != engine.PhaseAdmit || priv.Requester.Name != "me" ||
		!strings.Contains(priv.Message, "spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed") {
		t.Errorf("priv: %+v", priv)
	}
	var text strings.Builder
	if err := WriteReport(&text, "text", v1alpha1.KindCheckReport, results); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "2 workloads: 1 admitted, 1 denied") {
		t.Errorf("text report:\n%s", text.String())
	}
}

// failingAuthorizer cannot answer, as a SubjectAccessReview authorizer
// whose apiserver is unreachable.
type failingAuthorizer struct{}

func (failingAuthorizer) Authorize(context.Context, authorizer.Attributes) (bool, string, error) {
	return false, "", errors.New("connection refused")
}

// TestReportsSayWhenAuthorizationFailed: a policy whose use could not be
// asked about is not reported as simply not granted.
func TestReportsSayWhenAuthorizationFailed(t *testing.T) {
	snap := presetSnapshot(t, "restricted")
	results, err := checkYAML(t, snap.Policies, failingAuthorizer{}, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: nginx}]\n", authorizer.UserInfo{Name: "me"})
	if err != nil || len(results) != 1 || results[0].Admitted {
		t.Fatalf("results %+v, err %v", results, err)
	}
	var text, explained strings.Builder
	if err := WriteReport(&text, "text", v1alpha1.KindCheckReport, results); err != nil {
		t.Fatal(err)
	}
	if err := WriteReport(&explained, "text", v1alpha1.KindExplainReport, results); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), `policy "restricted": could not tell whether it may be used: me: connection refused`) {
		t.Errorf("text report:\n%s", text.String())
	}
	if !strings.Contains(explained.String(), "usable: unknown, counted as no; asking failed: system:serviceaccount:default:default: connection refused;") ||
		!strings.Contains(explained.String(), "; me: connection refused\n") {
		t.Errorf("explain report:\n%s", explained.String())
	}
}

// runExample checks an examples/apiserver case as the given user.
func runExample(t *testing.T, name string, user authorizer.UserInfo, workloads ...string) []Verdict {
	t.Helper()
	dir := "../../examples/apiserver/" + name + "/"
	res, err := loader.Load([]string{dir + "policy.yaml"}, loader.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := source.Build(res, "")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, w := range workloads {
		paths = append(paths, dir+w)
	}
	ws, err := manifest.Read(paths, nil, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	results, err := Run(context.Background(), snap.Policies, snap.Authorizer, ws, Options{User: user})
	if err != nil {
		t.Fatal(err)
	}
	return results
}

// TestClusterAnswers: the three inputs of issue 12, with the answers a real
// v1.37 cluster gave.
func TestClusterAnswers(t *testing.T) {
	anyone := authorizer.Impersonate("kube-psp:check", nil)

	// 1. The apiserver sets hostPort 9100 on the DaemonSet's pods.
	r := runExample(t, "hostnetwork-ports", anyone, "daemonset.yaml")[0]
	const hostPortDenial = "PodSecurityPolicy: unable to admit pod: [spec.containers[0].hostPort: Invalid value: 9100: Host port 9100 is not allowed to be used. Allowed ports: []]"
	if r.Admitted || r.DeniedIn != engine.PhaseAdmit || r.Message != hostPortDenial || r.AdmittedPod != nil {
		t.Errorf("hostNetwork DaemonSet: admitted %v in %s: %q", r.Admitted, r.DeniedIn, r.Message)
	}
	if got := r.Pod.Spec.Containers[0].Ports[0].HostPort; got != 9100 {
		t.Errorf("hostNetwork DaemonSet: the admit phase got hostPort %d", got)
	}
	if r.Workload.Pod.Spec.Containers[0].Ports[0].HostPort != 0 {
		t.Error("the workload's own pod was modified")
	}
	// The message is v1.24's; the explanation says where 9100 came from.
	const hostPortNote = "the apiserver sets hostPort to containerPort 9100 because hostNetwork is true (v1 defaults); let the policy's hostPorts allow 9100"
	if !slices.Equal(r.Explanation.Notes, []string{hostPortNote}) || !strings.HasSuffix(r.Explanation.Policies[0].Errors[0], " ("+hostPortNote+")") {
		t.Errorf("hostNetwork DaemonSet: notes %q, errors %q", r.Explanation.Notes, r.Explanation.Policies[0].Errors)
	}
	w := r.Explanation.Warnings()
	if !slices.Contains(w, `policy "hostnet": `+hostPortNote) || !slices.Contains(w, `policy "hostnet": spec.containers[0].hostPort: Invalid value: 9100: Host port 9100 is not allowed to be used. Allowed ports: []`) {
		t.Errorf("hostNetwork DaemonSet: warnings %q", w)
	}

	// 2. serviceAccount: builder is the pod's ServiceAccount.
	r = runExample(t, "serviceaccount-alias", anyone, "deployment.yaml")[0]
	if !r.Admitted || r.Policy != "nonroot" || r.AdmittedPod == nil || r.AdmittedPod.Annotations["kubernetes.io/psp"] != "nonroot" {
		t.Errorf("alias: admitted %v by %q: %s", r.Admitted, r.Policy, r.Message)
	} else if sc := r.AdmittedPod.Spec.Containers[0].SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("alias: the admitted pod lacks the policy's runAsNonRoot: %+v", sc)
	}
	if r.Pod.Spec.ServiceAccountName != "builder" || r.Pod.Annotations["kubernetes.io/psp"] != "" {
		t.Errorf("alias: the admit phase got ServiceAccount %q, annotations %v", r.Pod.Spec.ServiceAccountName, r.Pod.Annotations)
	}

	// 3. Impersonating the replicaset controller gives its groups: the bare
	// pod is admitted like the Deployment's; as an ordinary user it is not.
	controller := authorizer.Impersonate("system:serviceaccount:kube-system:replicaset-controller", nil)
	for _, r := range runExample(t, "impersonation", controller, "pod.yaml") {
		if !r.Admitted || r.Policy != "privileged" {
			t.Errorf("%s as the replicaset controller: %s", r.Workload, r.Message)
		}
	}
	results := runExample(t, "impersonation", anyone, "pod.yaml")
	if results[0].Admitted || results[0].Message != "PodSecurityPolicy: unable to admit pod: []" || !results[1].Admitted {
		t.Errorf("as kube-psp:check: pod %v %q, Deployment %v", results[0].Admitted, results[0].Message, results[1].Admitted)
	}
}

// TestAdmittedPodIsWhatValidationSaw: the registry's AppArmor sync happens
// between the phases, so the admitted pod carries the field the policy's
// default annotation means, and the validate phase accepts it.
func TestAdmittedPodIsWhatValidationSaw(t *testing.T) {
	snap := presetSnapshot(t, "baseline")
	rs, err := checkYAML(t, snap.Policies, snap.Authorizer, "apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {container.apparmor.security.beta.kubernetes.io/c: localhost/prof}}\nspec:\n  containers: [{name: c, image: nginx}]\n",
		authorizer.Impersonate("me", nil))
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.Pod.Spec.Containers[0].SecurityContext != nil {
		t.Errorf("the admit phase got a securityContext: %+v", r.Pod.Spec.Containers[0].SecurityContext)
	}
	if !r.Admitted {
		t.Fatalf("denied in %s: %s", r.DeniedIn, r.Message)
	}
	sc := r.AdmittedPod.Spec.Containers[0].SecurityContext
	if sc == nil || sc.AppArmorProfile == nil || sc.AppArmorProfile.Type != corev1.AppArmorProfileTypeLocalhost {
		t.Errorf("admitted pod's securityContext %+v, want the Localhost AppArmor profile of the annotation", sc)
	}
}

// presetSnapshot is a built-in preset's policies and RBAC.
func presetSnapshot(t *testing.T, name string) *source.Snapshot {
	t.Helper()
	res, err := presets.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := source.Build(res, "")
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// checkYAML checks the workloads of a manifest given as text.
func checkYAML(t *testing.T, set *engine.PolicySet, authz authorizer.Authorizer, manifestYAML string, user authorizer.UserInfo) ([]Verdict, error) {
	t.Helper()
	ws, err := manifest.Read([]string{"-"}, strings.NewReader(manifestYAML), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Run(context.Background(), set, authz, ws, Options{User: user})
}

// TestServiceAccountAutomount: with its ServiceAccount in the input, a pod
// of a ServiceAccount whose automountServiceAccountToken is false gets no
// token volume, unless the pod asks for it; without it, the token is
// mounted. A denial at the token volume says where it came from.
func TestServiceAccountAutomount(t *testing.T) {
	anyone := authorizer.Impersonate("kube-psp:check", nil)
	const denial = `PodSecurityPolicy: unable to admit pod: [spec.volumes[0]: Invalid value: "projected": projected volumes are not allowed to be used]`
	const note = "the ServiceAccount admission plugin adds the projected volume kube-api-access-… with the token of ServiceAccount quiet; " +
		"set automountServiceAccountToken: false on the pod or its ServiceAccount, or let the policy's volumes allow projected or secret"
	with := runExample(t, "serviceaccount-automount", anyone, "deployment.yaml", "serviceaccount.yaml")
	if r := with[0]; !r.Admitted || r.Policy != "notoken" || len(r.Pod.Spec.Volumes) != 0 || r.Workload.ServiceAccount == nil {
		t.Errorf("Deployment with its ServiceAccount: admitted %v by %q, volumes %v: %s", r.Admitted, r.Policy, r.Pod.Spec.Volumes, r.Message)
	}
	if r := with[1]; r.Admitted || r.Message != denial || !slices.Equal(r.Explanation.Notes, []string{note}) {
		t.Errorf("Pod asking for the token: admitted %v: %q, notes %q", r.Admitted, r.Message, r.Explanation.Notes)
	}
	const unknown = "the ServiceAccount admission plugin adds the projected volume kube-api-access-… with the token of ServiceAccount quiet " +
		"(its object not given, so automountServiceAccountToken is taken as unset); " +
		"set automountServiceAccountToken: false on the pod or its ServiceAccount, or let the policy's volumes allow projected or secret"
	for i, r := range runExample(t, "serviceaccount-automount", anyone, "deployment.yaml") {
		want := []string{unknown, note}[i] // the Pod asks for the token itself
		if r.Admitted || r.Message != denial || !slices.Equal(r.Explanation.Notes, []string{want}) {
			t.Errorf("%s without its ServiceAccount: admitted %v: %q, notes %q", r.Workload, r.Admitted, r.Message, r.Explanation.Notes)
		}
	}
}

// TestWindowsPodInvalid: restricted admits a Windows Job's pod by setting
// Linux-only fields, which the v1.37 apiserver's validation then refuses
// (validateWindows): the workload is reported invalid with the
// apiserver's message, not admitted. A Windows pod that a policy leaves
// alone (privileged's, which sets nothing) is admitted.
func TestWindowsPodInvalid(t *testing.T) {
	const job = `apiVersion: batch/v1
kind: Job
metadata: {name: winjob}
spec:
  template:
    spec:
      os: {name: windows}
      restartPolicy: Never
      containers: [{name: app, image: mcr.microsoft.com/windows/nanoserver:ltsc2022}]
`
	snap := presetSnapshot(t, "restricted")
	rs, err := checkYAML(t, snap.Policies, snap.Authorizer, job, authorizer.Impersonate("me", nil))
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	// The engine writes the seccomp default to a Windows pod as its
	// annotation only, so no seccompProfile field is among them.
	want := `Pod "winjob-xxxxx" is invalid: [spec.securityContext.fsGroup: Forbidden: cannot be set for a windows pod, ` +
		`spec.securityContext.supplementalGroups: Forbidden: cannot be set for a windows pod, ` +
		`spec.containers[0].securityContext.capabilities: Forbidden: cannot be set for a windows pod, ` +
		`spec.containers[0].securityContext.readOnlyRootFilesystem: Forbidden: cannot be set for a windows pod, ` +
		`spec.containers[0].securityContext.allowPrivilegeEscalation: Forbidden: cannot be set for a windows pod]`
	if r.Admitted || !r.Invalid || r.Policy != "restricted" || r.Message != want || r.AdmittedPod != nil {
		t.Errorf("admitted %v, invalid %v, policy %q, pod %v, message:\n got %s\nwant %s", r.Admitted, r.Invalid, r.Policy, r.AdmittedPod != nil, r.Message, want)
	}
	var text strings.Builder
	if err := WriteReport(&text, "text", v1alpha1.KindCheckReport, rs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), `INVALID: admitted by policy "restricted", then refused by the apiserver's validation: `+want) ||
		!strings.HasSuffix(text.String(), "1 workload: 0 admitted, 0 denied, 1 refused by the apiserver's validation\n") {
		t.Errorf("text report:\n%s", text.String())
	}
	// The pod wrote none of those fields: the advice is a policy that
	// admits it unchanged, not a change to the pod.
	var explained strings.Builder
	if err := WriteReport(&explained, "text", v1alpha1.KindExplainReport, rs); err != nil {
		t.Fatal(err)
	}
	if fix := `fix: policy "restricted" sets the fields named, which this pod may not have; "baseline", "eks.privileged" would admit the pod unchanged`; !strings.Contains(explained.String(), fix) {
		t.Errorf("explain lacks %q:\n%s", fix, explained.String())
	}

	snap = presetSnapshot(t, "privileged")
	rs, err = checkYAML(t, snap.Policies, snap.Authorizer, job, authorizer.Impersonate("me", nil))
	if err != nil {
		t.Fatal(err)
	}
	if !rs[0].Admitted || rs[0].Invalid {
		t.Errorf("a Windows pod the policy leaves alone: admitted %v, invalid %v: %s", rs[0].Admitted, rs[0].Invalid, rs[0].Message)
	}
}

// TestStreamWritesBeforeTheInputEnds pins the streaming: the input blocks
// after its first workload until that workload's verdict has been emitted,
// which a check that read all its input first would never do (the guard
// below ends the test instead of hanging it).
func TestStreamWritesBeforeTheInputEnds(t *testing.T) {
	snap := presetSnapshot(t, "restricted")
	ws, err := manifest.Read([]string{"../../examples/web-deployment.yaml", "../../examples/nginx-root.yaml"}, nil, manifest.Options{})
	if err != nil || len(ws) != 2 {
		t.Fatalf("workloads %d, err %v", len(ws), err)
	}
	emitted := make(chan struct{})
	given := 0
	next := func() (manifest.Workload, bool, error) {
		if given == 1 {
			select {
			case <-emitted:
			case <-time.After(30 * time.Second):
				return manifest.Workload{}, false, errors.New("no verdict was emitted while the input was blocked after its first workload")
			}
		}
		if given == len(ws) {
			return manifest.Workload{}, false, nil
		}
		given++
		return ws[given-1], true, nil
	}
	var names []string
	err = Stream(context.Background(), snap.Policies, snap.Authorizer, next, Options{User: authorizer.UserInfo{Name: "alice"}}, func(v Verdict) error {
		if names = append(names, v.Workload.Name); len(names) == 1 {
			close(emitted)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"app", "nginx"}) {
		t.Errorf("verdicts %q, want app (the web Deployment) then nginx", names)
	}
}

// TestFilesReadsServiceAccountsAnywhere: a workload's ServiceAccount in a
// later file counts, though the workload's verdict is emitted before that
// file's workloads are read (manifest.Each finds ServiceAccounts first).
func TestFilesReadsServiceAccountsAnywhere(t *testing.T) {
	dir := t.TempDir()
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team}\nspec:\n  serviceAccountName: quiet\n  containers: [{name: c, image: x}]\n"
	sa := "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: quiet, namespace: team}\nautomountServiceAccountToken: false\n"
	for name, data := range map[string]string{"a-pod.yaml": pod, "b-sa.yaml": sa} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	snap := presetSnapshot(t, "restricted")
	var got []Verdict
	in, err := Files(context.Background(), snap.Policies, snap.Authorizer, []string{dir}, nil, manifest.Options{}, Options{User: authorizer.UserInfo{Name: "alice", Groups: []string{authorizer.GroupAuthenticated}}},
		func(w string) { t.Errorf("warning: %s", w) }, func(v Verdict) error {
			got = append(got, v)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(in.Files) != 2 || in.ServiceAccounts["team/quiet"] == nil {
		t.Fatalf("verdicts %d, input %+v", len(got), in)
	}
	for _, v := range got[0].Pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, podcreate.TokenVolumePrefix) {
			t.Errorf("the ServiceAccount of a later file turns automounting off, but the pod got %s", v.Name)
		}
	}
}
