package check

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/kubelet"
	"github.com/kube-psp/kube-psp/pkg/sarif"
)

// VerifyImages adds to every admitted result the kubelet's verdict on each
// container of its admitted pod that has an effective runAsNonRoot
// (kubelet.Verify: each image read once, opts bounding time and
// parallelism). Denied results are left alone: their pods never reach a
// kubelet.
func VerifyImages(ctx context.Context, results []Verdict, users kubelet.ImageUsers, opts kubelet.Options) {
	pods := make([]*corev1.Pod, len(results))
	for i, r := range results {
		if r.Admitted {
			pods[i] = r.AdmittedPod
		}
	}
	for i, verdicts := range kubelet.Verify(ctx, pods, users, opts) {
		results[i].Kubelet = verdicts
	}
}

// KubeletRefuses says whether the kubelet would refuse to start one of the
// admitted pod's containers (known only after VerifyImages).
func (r Verdict) KubeletRefuses() bool {
	for _, c := range r.Kubelet {
		if c.Refused {
			return true
		}
	}
	return false
}

// ImageUnread says whether an image that the kubelet's verdict needs could
// not be read, so that the result does not say whether the pod would run.
func (r Verdict) ImageUnread() bool {
	for _, c := range r.Kubelet {
		if c.Error != "" {
			return true
		}
	}
	return false
}

// writeKubelet writes the kubelet's refusals and the containers whose image
// could not be read, one line each, under an ADMITTED line.
func writeKubelet(b *strings.Builder, r Verdict) {
	for _, c := range r.Kubelet {
		switch {
		case c.Refused:
			fmt.Fprintf(b, "  kubelet would refuse container %q (image %s): %s\n", c.Name, c.Image, c.Message)
		case c.Error != "":
			fmt.Fprintf(b, "  cannot tell whether the kubelet would start container %q (runAsNonRoot): %s\n", c.Name, c.Error)
		}
	}
}

// SARIF rules of the kubelet's verdicts.
const (
	ruleContainerRefused = "container-refused"
	ruleImageUnread      = "image-unread"
)

// kubeletRules are the SARIF rules of the kubelet's verdicts, named in a
// log when some verdict has them (check --images), so that the log of a
// check without --images is unchanged.
func kubeletRules() []sarif.Rule {
	return []sarif.Rule{
		{ID: ruleContainerRefused, Summary: "the kubelet would refuse to start a container of the admitted pod (runAsNonRoot with a root or unverifiable user)"},
		{ID: ruleImageUnread, Summary: "an image could not be read, so whether the kubelet would start the container is unknown"},
	}
}

// kubeletSARIF returns the SARIF results of the kubelet's verdicts on an
// admitted pod: an error per refused container, a warning per container
// whose image could not be read.
func (r Verdict) kubeletSARIF() []sarif.Result {
	var out []sarif.Result
	for _, c := range r.Kubelet {
		at := fmt.Sprintf("%s (created by %s), container %q (%s, image %s)", r.Workload, r.Requester.Name, c.Name, c.Field, c.Image)
		switch {
		case c.Refused:
			out = append(out, r.sarifResult(ruleContainerRefused, "error",
				fmt.Sprintf("%s is admitted by policy %q, but the kubelet would refuse to start it: %s", at, r.Policy, c.Message)))
		case c.Error != "":
			out = append(out, r.sarifResult(ruleImageUnread, "warning",
				fmt.Sprintf("%s has runAsNonRoot, but whether the kubelet would start it is unknown: %s", at, c.Error)))
		}
	}
	return out
}
