package webhook_test

import (
	"bytes"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
)

// imagePolicy is a policy.kube-psp.io/v1 policy that lists image volumes.
const imagePolicy = `apiVersion: policy.kube-psp.io/v1
kind: PodSecurityPolicy
metadata: {name: z-models}
spec:
  volumes: [image, projected, secret]
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
`

// TestFieldsAddedAfter124 sends pods that use fields v1.24 never saw.
func TestFieldsAddedAfter124(t *testing.T) {
	s := start(t)
	ctx := t.Context()
	tr := true
	hostProcess := podJSON(t, func(p *corev1.Pod) {
		p.Spec.HostNetwork = true
		p.Spec.SecurityContext = &corev1.PodSecurityContext{WindowsOptions: &corev1.WindowsSecurityContextOptions{HostProcess: &tr}}
	})
	resp, err := s.post(ctx, "/mutate", reviewBody(t, "hp", admissionv1.Create, "", hostProcess, nil))
	if err != nil || resp.Allowed || !strings.Contains(resp.Result.Message, "spec.securityContext.windowsOptions.hostProcess: Invalid value: true: HostProcess containers are not allowed") {
		t.Errorf("hostProcess: %+v %v", resp, err)
	}

	imageVolume := podJSON(t, func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "models", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "registry/models:1"}}}}
	})
	resp, err = s.post(ctx, "/mutate", reviewBody(t, "iv", admissionv1.Create, "", imageVolume, nil))
	if err != nil || resp.Allowed || !strings.Contains(resp.Result.Message, `spec.volumes[0]: Invalid value: "image": image volumes are not allowed to be used`) {
		t.Errorf("image volume: %+v %v", resp, err)
	}
	// A policy.kube-psp.io/v1 policy that lists image volumes admits it, live.
	writeAtomic(t, s.path("policies/models.yaml"), []byte(imagePolicy))
	waitFor(t, "the image policy to admit the pod", func() bool {
		resp, err := s.post(ctx, "/mutate", reviewBody(t, "iv2", admissionv1.Create, "", imageVolume, nil))
		return err == nil && resp.Allowed && resp.AuditAnnotations["admit-policy"] == "z-models"
	})

	// A field this build does not know: admitted (the policies allow the
	// rest), with a warning naming it.
	future := bytes.Replace(podJSON(t, nil), []byte(`"image":"nginx"`), []byte(`"image":"nginx","securityContext":{"futureEscape":true}`), 1)
	resp, err = s.post(ctx, "/mutate", reviewBody(t, "uf", admissionv1.Create, "", future, nil))
	if err != nil || !resp.Allowed || !strings.Contains(strings.Join(resp.Warnings, "\n"), "spec.containers[0].securityContext.futureEscape are unknown to kube-psp") {
		t.Errorf("unknown field, warn: %+v %v", resp, err)
	}
	waitFor(t, "the unknown field metric", func() bool {
		return strings.Contains(s.metric(t, "kube_psp_unknown_fields_total"), `field="spec.containers[].securityContext.futureEscape"} 1`)
	})

	d := start(t, "--unknown-fields", "deny")
	resp, err = d.post(ctx, "/mutate", reviewBody(t, "uf2", admissionv1.Create, "", future, nil))
	if err != nil || resp.Allowed || !strings.Contains(resp.Result.Message, "futureEscape") {
		t.Errorf("unknown field, deny: %+v %v", resp, err)
	}
}
