package migrate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/rbac"
)

// checkManifests decides manifests with a built-in preset, as psp check does.
func checkManifests(t testing.TB, preset, manifests string) []check.Verdict {
	t.Helper()
	res, err := presets.Load(preset)
	if err != nil {
		t.Fatal(err)
	}
	set, err := engine.NewPolicySet(res.Policies)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := manifest.Read([]string{"-"}, strings.NewReader(manifests), manifest.Options{DefaultNamespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	results, err := check.Run(context.Background(), set, rbac.NewIndex(res.RBAC), ws,
		check.Options{User: authorizer.Impersonate("me", nil)})
	if err != nil {
		t.Fatal(err)
	}
	return results
}

func latest(t *testing.T) *Standards {
	t.Helper()
	std, err := NewStandards("latest")
	if err != nil {
		t.Fatal(err)
	}
	return std
}

const (
	plainPod = `apiVersion: v1
kind: Pod
metadata: {name: plain, namespace: NS}
spec:
  containers: [{name: app, image: app}]
`
	restrictedPod = `apiVersion: v1
kind: Pod
metadata: {name: locked, namespace: NS}
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: app
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`
	hostPIDPod = `apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: NS}
spec:
  hostPID: true
  containers: [{name: app, image: app}]
`
	privilegedPod = `apiVersion: v1
kind: Pod
metadata: {name: priv, namespace: NS}
spec:
  containers: [{name: app, image: app, securityContext: {privileged: true}}]
`
)

func in(ns string, docs ...string) string {
	return strings.ReplaceAll(strings.Join(docs, "---\n"), "NS", ns)
}

// The level of a namespace is the least restrictive of its admitted pods'
// levels; a pod PodSecurityPolicy denies does not count; warn and audit are
// one level stricter.
func TestLevelChoice(t *testing.T) {
	results := checkManifests(t, "eks", in("a", restrictedPod)+"---\n"+in("b", restrictedPod, plainPod)+"---\n"+in("c", plainPod, hostPIDPod, restrictedPod))
	plan, err := Build(results, latest(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]api.Level{"a": {api.LevelRestricted, ""}, "b": {api.LevelBaseline, api.LevelRestricted}, "c": {api.LevelPrivileged, api.LevelBaseline}}
	if len(plan.Namespaces) != 3 {
		t.Fatalf("namespaces: %+v", plan.Namespaces)
	}
	for _, n := range plan.Namespaces {
		if got := [2]api.Level{n.Enforce, n.Warn}; got != want[n.Name] {
			t.Errorf("namespace %s: enforce, warn = %v, want %v", n.Name, got, want[n.Name])
		}
	}
	c := plan.Namespaces[2]
	if p := c.Pods[1]; p.Level != api.LevelPrivileged || len(p.Stricter) != 1 || p.Stricter[0].String() != "host namespaces (hostPID=true)" {
		t.Errorf("hostPID pod: level %s, baseline violations %v", p.Level, p.Stricter)
	}
	if got := c.Count(); got != (Count{Workloads: 3, PrivilegedOnly: 1}) {
		t.Errorf("count: %+v", got)
	}
	labels := c.Labels(plan.Version)
	if len(labels) != 6 || labels[0] != (Label{api.EnforceLevelLabel, "privileged"}) || labels[5] != (Label{api.WarnVersionLabel, "latest"}) {
		t.Errorf("labels: %v", labels)
	}
	if got := plan.Namespaces[0].Labels(plan.Version); len(got) != 2 {
		t.Errorf("restricted namespace labels: %v, want enforce and its version only", got)
	}

	// With the restricted preset, the privileged and hostPID pods are
	// denied today: they still count, judged as written, so the namespace is
	// not proposed restricted (which would break them the day PSP goes).
	plan, err = Build(checkManifests(t, "restricted", in("d", privilegedPod, plainPod)+"---\n"+in("e", hostPIDPod)), latest(t))
	if err != nil {
		t.Fatal(err)
	}
	d := plan.Namespaces[0]
	if d.Enforce != api.LevelPrivileged || d.Pods[0].Level != api.LevelPrivileged || d.Pods[0].Result.Admitted {
		t.Errorf("namespace d: enforce %s, privileged pod %+v", d.Enforce, d.Pods[0])
	}
	if got := d.Count(); got != (Count{Workloads: 2, Denied: 1, PrivilegedOnly: 1}) {
		t.Errorf("namespace d count: %+v", got)
	}
	if e := plan.Namespaces[1]; e.Enforce != api.LevelPrivileged || e.Warn != api.LevelBaseline {
		t.Errorf("namespace e (hostPID, denied today): enforce %s, warn %s", e.Enforce, e.Warn)
	}
	if plan.Denied() != 2 {
		t.Errorf("plan denied: %d, want 2", plan.Denied())
	}
}

// A pod that passes only with its policy's defaults is flagged, with the
// fewest defaults that make it pass: with exactly those it passes, without
// any one of them it does not.
func TestMutationDependence(t *testing.T) {
	std := latest(t)
	plan, err := Build(checkManifests(t, "restricted", in("d", plainPod, restrictedPod)), std)
	if err != nil {
		t.Fatal(err)
	}
	n := plan.Namespaces[0]
	if n.Enforce != api.LevelRestricted {
		t.Fatalf("enforce %s, want restricted (both pods pass after the restricted policy's defaults)", n.Enforce)
	}
	plain, locked := n.Pods[0], n.Pods[1]
	if locked.Dependence != nil {
		t.Errorf("a pod that sets every field is flagged: %+v", locked.Dependence)
	}
	d := plain.Dependence
	if d == nil {
		t.Fatal("the plain pod passes restricted only with the policy's defaults, and is not flagged")
	}
	var fields []string
	for _, f := range d.Fields {
		fields = append(fields, f.Field)
	}
	want := []string{"spec.securityContext.seccompProfile", "spec.containers[0].securityContext.runAsNonRoot",
		"spec.containers[0].securityContext.capabilities", "spec.containers[0].securityContext.allowPrivilegeEscalation"}
	if !slices.Equal(fields, want) {
		t.Errorf("fields %v, want %v (of the policy's changes %v)", fields, want, plain.Result.Changes)
	}
	if len(plain.Result.Changes) <= len(d.Fields) {
		t.Errorf("the restricted policy sets more (fsGroup, the seccomp annotation, ...) than the level needs: %v", plain.Result.Changes)
	}
	if !strings.HasPrefix(d.Denial, `violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false`) || len(d.Violations) != 4 {
		t.Errorf("denial %q", d.Denial)
	}
	violations := func(changes []engine.Change) []Violation {
		pod, err := withChanges(plain.Result.Pod, changes)
		if err != nil {
			t.Fatal(err)
		}
		podcreate.PrepareForCreate(pod)
		return std.Violations(api.LevelRestricted, pod)
	}
	if v := violations(d.Fields); len(v) != 0 {
		t.Errorf("with the fields: %v", v)
	}
	for i := range d.Fields {
		if v := violations(slices.Delete(slices.Clone(d.Fields), i, i+1)); len(v) == 0 {
			t.Errorf("without %s the pod still passes: the field is not needed", d.Fields[i].Field)
		}
	}
	if got := plain.ManifestField(d.Fields[0].Field); got != "spec.securityContext.seccompProfile" {
		t.Errorf("a bare Pod's manifest field: %s", got)
	}

	// Below restricted nothing is flagged that baseline admits anyway.
	plan, err = Build(checkManifests(t, "restricted", in("e", plainPod)+"---\n"+in("e", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: NS}
spec:
  template:
    spec:
      containers: [{name: app, image: app}]
`)), std)
	if err != nil {
		t.Fatal(err)
	}
	web := plan.Namespaces[0].Pods[1]
	if web.Dependence == nil || web.ManifestField(web.Dependence.Fields[0].Field) != "spec.template.spec.securityContext.seccompProfile" {
		t.Errorf("Deployment: %+v", web.Dependence)
	}
}

func TestWithChanges(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}}
	got, err := withChanges(pod, []engine.Change{
		{Field: "metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]", Value: "runtime/default"},
		{Field: "spec.containers[1].securityContext.runAsUser", Value: int64(1000)},
		{Field: "spec.securityContext.supplementalGroups", Value: []int64{1, 2}},
		{Field: "spec.containers[0].securityContext.capabilities", Value: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Annotations["seccomp.security.alpha.kubernetes.io/pod"] != "runtime/default" ||
		*got.Spec.Containers[1].SecurityContext.RunAsUser != 1000 ||
		!slices.Equal(got.Spec.SecurityContext.SupplementalGroups, []int64{1, 2}) ||
		got.Spec.Containers[0].SecurityContext.Capabilities.Drop[0] != "ALL" || got.Spec.Containers[0].SecurityContext.RunAsUser != nil {
		t.Errorf("pod: %+v", got)
	}
	if pod.Annotations != nil || pod.Spec.Containers[1].SecurityContext != nil {
		t.Error("withChanges changed its input")
	}
	for _, bad := range []string{"spec.containers[5].securityContext.runAsUser", "spec.containers[0", ""} {
		if _, err := withChanges(pod, []engine.Change{{Field: bad, Value: 1}}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestStandardsVersion(t *testing.T) {
	std, err := NewStandards("v1.30")
	if err != nil || std.Version() != "v1.30" {
		t.Errorf("v1.30: %v, %v", std, err)
	}
	if _, err := NewStandards("1.30"); err == nil || !strings.Contains(err.Error(), `must be "latest" or "v1.x"`) {
		t.Errorf("1.30: %v", err)
	}
	for _, ok := range []string{"latest", "v1.0", fmt.Sprintf("v1.%d", LatestKnownMinor)} {
		if _, err := NewStandards(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"v1.99", fmt.Sprintf("v1.%d", LatestKnownMinor+1)} {
		if _, err := NewStandards(bad); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("newer than v1.%d", LatestKnownMinor)) {
			t.Errorf("%s: %v, want refused as newer than the library knows", bad, err)
		}
	}
}

// LatestKnownMinor follows the k8s.io/pod-security-admission of go.mod.
func TestLatestKnownMinor(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("k8s.io/pod-security-admission v0.%d.", LatestKnownMinor)
	if !strings.Contains(string(data), want) {
		t.Errorf("go.mod does not require %s*: update LatestKnownMinor", want)
	}
}

func TestRejects(t *testing.T) {
	if rejects([]string{`existing pods in namespace "x" violate the new PodSecurity enforce level "restricted:latest"`, `app-1: runAsNonRoot != true`}) != true {
		t.Error("a violation warning does not reject")
	}
	if rejects([]string{"new PodSecurity enforce level only checked against the first 3000 of 4000 existing pods"}) != true {
		t.Error("a partial check does not reject")
	}
	if rejects([]string{"some other warning"}) {
		t.Error("an unrelated warning rejects")
	}
}

// A namespace's labels today: only what differs is proposed, and an
// explicit enforce label the plan tightens is said so.
func TestCurrentLabels(t *testing.T) {
	plan, err := Build(checkManifests(t, "eks", in("a", restrictedPod)+"---\n"+in("b", hostPIDPod)+"---\n"+in("c", restrictedPod)), latest(t))
	if err != nil {
		t.Fatal(err)
	}
	plan.SetCurrent(map[string]map[string]string{
		"a": {api.EnforceLevelLabel: "privileged", "team": "x"},
		"b": {api.EnforceLevelLabel: "privileged", api.EnforceVersionLabel: "latest", api.WarnLevelLabel: "baseline", api.WarnVersionLabel: "latest",
			api.AuditLevelLabel: "baseline", api.AuditVersionLabel: "latest"},
	})
	a, b, c := plan.Namespaces[0], plan.Namespaces[1], plan.Namespaces[2]
	if len(a.Current) != 1 || a.Tightens() != api.LevelPrivileged || len(a.Changes(plan.Version)) != 2 {
		t.Errorf("a: current %v, tightens %q, changes %v", a.Current, a.Tightens(), a.Changes(plan.Version))
	}
	if b.Tightens() != "" || len(b.Changes(plan.Version)) != 0 {
		t.Errorf("b: tightens %q, changes %v; want none", b.Tightens(), b.Changes(plan.Version))
	}
	if c.Current != nil || c.Tightens() != "" || len(c.Changes(plan.Version)) != 2 {
		t.Errorf("c (unknown): current %v, changes %v", c.Current, c.Changes(plan.Version))
	}
	var out strings.Builder
	if err := WriteCommands(&out, plan); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); strings.Contains(got, "namespace b ") || !strings.Contains(got, "namespace a ") || !strings.Contains(got, "namespace c ") {
		t.Errorf("commands:\n%s", got)
	}
	out.Reset()
	if err := WriteText(&out, plan); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  current: pod-security.kubernetes.io/enforce=privileged\n  tightens enforce from privileged to restricted\n", "labels already set: nothing to change"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, out.String())
		}
	}
}

// Workloads of one template shape share the computed dependence: the
// same fields for both, and the result equals an uncached computation.
func TestDependenceShared(t *testing.T) {
	results := checkManifests(t, "restricted", in("a", plainPod)+"---\n"+in("b", plainPod))
	plan, err := Build(results, latest(t))
	if err != nil {
		t.Fatal(err)
	}
	da, db := plan.Namespaces[0].Pods[0].Dependence, plan.Namespaces[1].Pods[0].Dependence
	direct, err := dependence(latest(t), api.LevelRestricted, results[1])
	if err != nil || da == nil || db == nil || direct == nil {
		t.Fatalf("dependences %v %v %v: %v", da, db, direct, err)
	}
	if da.Denial != direct.Denial || !reflect.DeepEqual(da.Fields, direct.Fields) || db.Denial != direct.Denial {
		t.Errorf("shared %+v, direct %+v", da, direct)
	}
}
