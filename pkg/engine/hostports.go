package engine

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// hostPorts is the hostPorts control: every hostPort a container asks for
// must be in one of the policy's ranges. v1.24 reported the error at
// "CONTAINER.hostPort", without the ports index; kept.
type hostPorts struct {
	ranges []policyv1.HostPortRange
	// rangesText is the ranges as v1.24 listed them in messages: "80,1024-65535".
	rangesText string
}

func newHostPorts(ranges []policyv1.HostPortRange) hostPorts {
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		if r.Min == r.Max {
			parts[i] = strconv.Itoa(int(r.Min))
		} else {
			parts[i] = fmt.Sprintf("%d-%d", r.Min, r.Max)
		}
	}
	return hostPorts{ranges: ranges, rangesText: strings.Join(parts, ",")}
}

func (h hostPorts) checkContainer(_ *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	for _, p := range ref.c.Ports {
		if p.HostPort > 0 && !h.allows(p.HostPort) {
			errs = append(errs, field.Invalid(ref.path.Child("hostPort"), p.HostPort,
				fmt.Sprintf("Host port %d is not allowed to be used. Allowed ports: [%s]", p.HostPort, h.rangesText)))
		}
	}
	return errs
}

func (h hostPorts) allows(port int32) bool {
	for _, r := range h.ranges {
		if port >= r.Min && port <= r.Max {
			return true
		}
	}
	return false
}
