package generate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
	"github.com/kube-psp/kube-psp/pkg/presets"
)

// InvalidAsWritten refuses workloads whose pod the apiserver's validation
// refuses before any policy is consulted (podcreate.ValidateOS: Linux-only
// fields on a Windows pod, Windows-only ones on a Linux pod): no policy
// can admit them, so generating or proving for them is an input error.
func InvalidAsWritten(workloads []manifest.Workload) error {
	var errs []string
	for _, w := range workloads {
		pod := podcreate.Create(w.Pod, w.ServiceAccount)
		podcreate.PrepareForCreate(pod)
		if verrs := podcreate.ValidateOS(pod); len(verrs) > 0 {
			errs = append(errs, fmt.Sprintf("%s: %s: the apiserver refuses this pod as written: %s; no policy can admit it", w.Source, w, podcreate.InvalidMessage(pod, verrs)))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// restrictedPolicies is the built-in restricted preset, the yardstick of
// what a namespace's default ServiceAccount may safely be granted.
func restrictedPolicies() (*engine.PolicySet, error) {
	in, err := presets.Load("restricted")
	if err != nil {
		return nil, fmt.Errorf("the restricted preset: %w", err)
	}
	// Load gives every built-in policy; the preset's is the one it grants.
	for _, p := range in.Policies {
		if p.Name == "restricted" {
			return engine.NewPolicySet([]*policyv1.PodSecurityPolicy{p})
		}
	}
	return nil, fmt.Errorf("the restricted preset has no policy named restricted")
}

// defaultAccountWarning warns when the policy is bound to a namespace's
// default ServiceAccount (which every pod without its own uses) and admits
// a pod the restricted preset denies; it names those workloads. The engine
// decides, with the restricted preset usable by all.
func defaultAccountWarning(restricted *engine.PolicySet, policy string, accounts map[string][]string, indexes []int, pods map[int]*corev1.Pod, workloads []manifest.Workload) (string, error) {
	var defaults []string
	for ns, sas := range accounts {
		if slices.Contains(sas, "default") {
			defaults = append(defaults, ns+"/default")
		}
	}
	if len(defaults) == 0 {
		return "", nil
	}
	slices.Sort(defaults)
	var beyond []string
	for _, i := range indexes {
		w := workloads[i]
		d, err := engine.Decide(context.Background(), restricted, allowAll{}, engine.Request{Phase: engine.PhaseAdmit, Operation: engine.OperationCreate,
			Namespace: w.Namespace, Pod: pods[i]}, engine.Options{})
		if err != nil {
			return "", err
		}
		if !d.Allowed {
			beyond = append(beyond, WorkloadName(w))
		}
	}
	if len(beyond) == 0 {
		return "", nil
	}
	return fmt.Sprintf("policy %q allows more than the restricted preset (for %s) and is granted to the default ServiceAccount %s, which every pod there without its own ServiceAccount uses: give those workloads their own ServiceAccount",
		policy, strings.Join(beyond, ", "), joinAccounts(defaults)), nil
}

func joinAccounts(accounts []string) string {
	if len(accounts) == 1 {
		return accounts[0]
	}
	return "s " + strings.Join(accounts, ", ")
}

// widened names the workloads of a group whose own tightest policy differs
// from the group's (fingerprint): merged with others, they get more than
// they use. Empty when the group has one workload or all need the same.
func widened(usages []engine.PodUsage, indexes []int, workloads []manifest.Workload, apiVersion, fingerprint string) string {
	if len(usages) < 2 {
		return ""
	}
	var more []string
	for j, u := range usages {
		if t := tightestFor([]engine.PodUsage{u}, apiVersion); t.err == "" && t.fingerprint() != fingerprint {
			more = append(more, WorkloadName(workloads[indexes[j]]))
		}
	}
	if len(more) == 0 {
		return ""
	}
	if len(more) > 1 {
		return fmt.Sprintf("%s get more than they use", strings.Join(more, ", "))
	}
	return fmt.Sprintf("%s gets more than it uses", more[0])
}
