package check

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kube-psp/kube-psp/pkg/imageconfig"
	"github.com/kube-psp/kube-psp/pkg/kubelet"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// The kubelet judges the pod as the admitting policy leaves it (restricted
// defaults runAsNonRoot: true), and never a denied pod.
func TestVerifyImagesJudgesTheAdmittedPod(t *testing.T) {
	res, err := presets.Load("restricted")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := source.Build(res, "")
	if err != nil {
		t.Fatal(err)
	}
	ws, err := manifest.Read([]string{"../../examples/web-deployment.yaml", "-"}, strings.NewReader(`apiVersion: v1
kind: Pod
metadata: {name: root}
spec:
  containers: [{name: root, image: not-in-the-layout:1, securityContext: {runAsUser: 0}}]
`), manifest.Options{DefaultNamespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	results, err := Run(context.Background(), snap.Policies, snap.Authorizer, ws, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || !results[0].Admitted || results[1].Admitted {
		t.Fatalf("want the Deployment admitted and the root pod denied, got %+v", results)
	}
	if sc := results[0].Workload.Pod.Spec.Containers[0].SecurityContext; sc != nil && sc.RunAsNonRoot != nil {
		t.Fatal("the manifest itself sets runAsNonRoot: the test would not show that the admitted pod is judged")
	}
	reader, err := imageconfig.NewReader([]string{"oci:../../examples/images"}, "linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	VerifyImages(context.Background(), results, reader, kubelet.Options{Timeout: 5 * time.Second, Parallel: 2})
	if got := results[0].Kubelet; len(got) != 1 || !got[0].Refused || got[0].Message != "container has runAsNonRoot and image will run as root" || !results[0].KubeletRefuses() {
		t.Errorf("admitted Deployment: got %+v", got)
	}
	if results[1].Kubelet != nil || results[1].ImageUnread() {
		t.Errorf("denied pod: got %+v, want no verdicts (its image is not even read)", results[1].Kubelet)
	}
}
