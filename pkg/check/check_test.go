package check

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/rbac"
)

func TestAdmitServiceAccount(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}, InitContainers: []corev1.Container{{Name: "i"}}}}
	admitServiceAccount(pod)
	if pod.Spec.ServiceAccountName != "default" || len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].Projected == nil {
		t.Fatalf("pod = %+v", pod.Spec)
	}
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		if len(c.VolumeMounts) != 1 || !c.VolumeMounts[0].ReadOnly || c.VolumeMounts[0].MountPath != tokenMountPath {
			t.Errorf("%s mounts = %+v", c.Name, c.VolumeMounts)
		}
	}
	admitServiceAccount(pod)
	if len(pod.Spec.Volumes) != 1 || len(pod.Spec.Containers[0].VolumeMounts) != 1 {
		t.Error("not idempotent")
	}
	off := false
	pod = &corev1.Pod{Spec: corev1.PodSpec{AutomountServiceAccountToken: &off, Containers: []corev1.Container{{Name: "a"}}}}
	admitServiceAccount(pod)
	if len(pod.Spec.Volumes) != 0 {
		t.Error("automount off must add no volume")
	}
}

func TestRun(t *testing.T) {
	res, err := presets.Load("restricted")
	if err != nil {
		t.Fatal(err)
	}
	set, err := engine.NewPolicySet(res.Policies)
	if err != nil {
		t.Fatal(err)
	}
	authz := rbac.NewSnapshot(res.RBAC)
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
	if err := WriteText(&text, results); err != nil {
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
	res, err := presets.Load("restricted")
	if err != nil {
		t.Fatal(err)
	}
	set, err := engine.NewPolicySet(res.Policies)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := manifest.Read([]string{"-"}, strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: nginx}]\n"), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	results, err := Run(context.Background(), set, failingAuthorizer{}, ws, Options{User: authorizer.UserInfo{Name: "me"}})
	if err != nil || len(results) != 1 || results[0].Admitted {
		t.Fatalf("results %+v, err %v", results, err)
	}
	var text, explained strings.Builder
	if err := WriteText(&text, results); err != nil {
		t.Fatal(err)
	}
	if err := WriteExplain(&explained, results); err != nil {
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
