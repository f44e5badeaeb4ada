package generate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
	"github.com/kube-psp/kube-psp/pkg/rbac"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// Finding is the proof's verdict on one workload; its machine form is
// v1alpha1.VerifyItem (Object).
type Finding struct {
	Workload manifest.Workload
	// Name names the workload: "Deployment team/web".
	Name string
	// Source is where the workload was read: file, document and line.
	Source string
	// Expected is the policy made for the workload; "" when none names it
	// (Verify of policies not generated for it): any policy may admit it.
	Expected string
	// Admitted is whether the cluster would admit the pod, by Policy.
	Admitted bool
	Policy   string
	// Changes are the fields the admitting policy would set.
	Changes []engine.Change
	// Problem is empty when the workload is admitted unchanged by the
	// expected policy (or, with no expected policy, by any); else why not,
	// in one sentence.
	Problem string
	// Unowned is set when no policy is made for the workload (Verify: none
	// names it in GeneratedForAnnotation): admitted unchanged, it is not
	// proven admitted by its own policy, only not refused.
	Unowned bool
}

// OK reports whether the workload is admitted unchanged: by its own policy,
// or by any when it has none (Unowned).
func (f Finding) OK() bool { return f.Problem == "" }

// Proven reports whether the workload is admitted unchanged by its own
// policy.
func (f Finding) Proven() bool { return f.OK() && !f.Unowned }

// ProveOptions tune Prove and Verify.
type ProveOptions struct {
	// Existing are the policies and RBAC already there (--policies,
	// --rbac, or the cluster's); nil for none. A generated object of the
	// same kind and name replaces an existing one, as kubectl apply would.
	Existing *loader.PoliciesAndRBAC
	// User creates bare Pods (a controller's identity creates the others).
	User authorizer.UserInfo
}

// Prove decides every workload of res with the real check (package check:
// podcreate, the admit and validate phases of the engine) against the
// generated policies and grants plus opts.Existing, and says for each
// whether it is admitted unchanged by the policy made for it. Warnings are
// load problems of the combined set (an existing policy replaced, one
// admission skips). Errors: the combined set is invalid.
func Prove(ctx context.Context, res *Result, opts ProveOptions) ([]Finding, []string, error) {
	combined, warnings := combine(res, opts.Existing)
	findings, more, err := decide(ctx, combined, res.Workloads, res.PolicyOf, opts.User, true)
	return findings, append(warnings, more...), err
}

// Verify decides every workload against existing policies and RBAC alone
// (for example what generate wrote earlier, applied or edited since): each
// workload must be admitted unchanged, by the policy whose
// GeneratedForAnnotation names it where one does.
func Verify(ctx context.Context, workloads []manifest.Workload, existing *loader.PoliciesAndRBAC, user authorizer.UserInfo) ([]Finding, []string, error) {
	expected := make([]string, len(workloads))
	owner := map[string]string{}
	for _, p := range existing.Policies {
		for _, w := range strings.Split(p.Annotations[GeneratedForAnnotation], "\n") {
			if w != "" {
				owner[w] = p.Name
			}
		}
	}
	for i, w := range workloads {
		expected[i] = owner[WorkloadName(w)]
	}
	if err := InvalidAsWritten(workloads); err != nil {
		return nil, nil, err
	}
	return decide(ctx, existing, workloads, expected, user, false)
}

// JoinExisting is the policies and RBAC of a and b together (a cluster's
// and files'); either may be nil.
func JoinExisting(a, b *loader.PoliciesAndRBAC) *loader.PoliciesAndRBAC {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	out := &loader.PoliciesAndRBAC{Policies: append(slices.Clone(a.Policies), b.Policies...)}
	out.RBAC.Roles = append(slices.Clone(a.RBAC.Roles), b.RBAC.Roles...)
	out.RBAC.ClusterRoles = append(slices.Clone(a.RBAC.ClusterRoles), b.RBAC.ClusterRoles...)
	out.RBAC.RoleBindings = append(slices.Clone(a.RBAC.RoleBindings), b.RBAC.RoleBindings...)
	out.RBAC.ClusterRoleBindings = append(slices.Clone(a.RBAC.ClusterRoleBindings), b.RBAC.ClusterRoleBindings...)
	return out
}

// combine is the existing policies and RBAC with the generated ones.
func combine(res *Result, existing *loader.PoliciesAndRBAC) (*loader.PoliciesAndRBAC, []string) {
	out := &loader.PoliciesAndRBAC{}
	var warnings []string
	generated := map[string]bool{}
	for _, p := range res.Policies {
		generated["PodSecurityPolicy/"+p.Policy.Name] = true
		generated[loader.RBACKey("ClusterRole", "", p.ClusterRole.Name)] = true
		for _, b := range p.RoleBindings {
			generated[loader.RBACKey("RoleBinding", b.Namespace, b.Name)] = true
		}
	}
	if existing != nil {
		for _, p := range existing.Policies {
			if generated["PodSecurityPolicy/"+p.Name] {
				warnings = append(warnings, fmt.Sprintf("existing policy %q is replaced by the generated one of the same name", p.Name))
				continue
			}
			out.Policies = append(out.Policies, p)
		}
		out.RBAC = withoutReplaced(existing.RBAC, generated, &warnings)
	}
	for _, p := range res.Policies {
		out.Policies = append(out.Policies, p.Policy)
		out.RBAC.ClusterRoles = append(out.RBAC.ClusterRoles, *p.ClusterRole)
		for _, b := range p.RoleBindings {
			out.RBAC.RoleBindings = append(out.RBAC.RoleBindings, *b)
		}
	}
	return out, warnings
}

func withoutReplaced(objs rbac.Objects, generated map[string]bool, warnings *[]string) rbac.Objects {
	out := rbac.Objects{Roles: objs.Roles, ClusterRoleBindings: objs.ClusterRoleBindings}
	for _, r := range objs.ClusterRoles {
		if generated[loader.RBACKey("ClusterRole", "", r.Name)] {
			*warnings = append(*warnings, fmt.Sprintf("existing ClusterRole %q is replaced by the generated one of the same name", r.Name))
			continue
		}
		out.ClusterRoles = append(out.ClusterRoles, r)
	}
	for _, b := range objs.RoleBindings {
		if generated[loader.RBACKey("RoleBinding", b.Namespace, b.Name)] {
			*warnings = append(*warnings, fmt.Sprintf("existing RoleBinding %s/%s is replaced by the generated one of the same name", b.Namespace, b.Name))
			continue
		}
		out.RoleBindings = append(out.RoleBindings, b)
	}
	return out
}

// decide runs the check and judges each result against the expected policy;
// generating is set for Prove, whose own policies' names --name-prefix sets.
func decide(ctx context.Context, set *loader.PoliciesAndRBAC, workloads []manifest.Workload, expected []string, user authorizer.UserInfo, generating bool) ([]Finding, []string, error) {
	snap, err := source.Build(set, "")
	if err != nil {
		return nil, nil, fmt.Errorf("the policies to prove with: %w", err)
	}
	results, err := check.Run(ctx, snap.Policies, snap.Authorizer, workloads, check.Options{User: user})
	if err != nil {
		return nil, nil, err
	}
	unrestricted, err := engine.NewPolicySet([]*policyv1.PodSecurityPolicy{unrestrictedPolicy()})
	if err != nil {
		return nil, nil, err
	}
	findings := make([]Finding, len(results))
	for i, r := range results {
		if r.Admitted && len(r.Changes) > 0 {
			inherent, err := inherentChanges(ctx, unrestricted, r)
			if err != nil {
				return nil, nil, err
			}
			r.Changes = slices.DeleteFunc(slices.Clone(r.Changes), func(c engine.Change) bool {
				return slices.ContainsFunc(inherent, func(i engine.Change) bool { return sameChange(c, i) })
			})
		}
		f := Finding{Workload: r.Workload, Name: WorkloadName(r.Workload), Source: r.Workload.Source.String(), Expected: expected[i],
			Admitted: r.Admitted, Policy: r.Policy, Changes: r.Changes}
		switch {
		case r.Invalid:
			f.Admitted = false
			f.Problem = fmt.Sprintf("admitted by policy %q, whose defaults make the pod invalid: %s", r.Policy, r.Message)
		case !r.Admitted:
			f.Problem = fmt.Sprintf("denied (%s phase): %s", r.DeniedIn, r.Message)
		case len(r.Changes) > 0:
			f.Problem = fmt.Sprintf("admitted by policy %q only with changes: %s", r.Policy, describeChanges(r.Changes))
		case f.Expected == "":
			f.Unowned = true
		case r.Policy != f.Expected:
			f.Problem = otherPolicy(ctx, snap, set.Policies, workloads, r, f.Expected, generating)
		}
		findings[i] = f
	}
	return findings, snap.Warnings, nil
}

// inherentChanges are the changes a policy that allows everything and
// defaults nothing makes to the pod: those every policy makes (v1.24's
// seccomp control writes the pod's profile annotation from its field), which
// no generated policy can avoid and the proof therefore accepts.
func inherentChanges(ctx context.Context, set *engine.PolicySet, r check.Verdict) ([]engine.Change, error) {
	d, err := engine.Decide(ctx, set, allowAll{}, engine.Request{Phase: engine.PhaseAdmit, Operation: engine.OperationCreate,
		Namespace: r.Workload.Namespace, User: r.Requester, Pod: r.Pod}, engine.Options{})
	if err != nil {
		return nil, err
	}
	return d.Changes, nil
}

func sameChange(a, b engine.Change) bool {
	va, _ := json.Marshal(a.Value)
	vb, _ := json.Marshal(b.Value)
	return a.Field == b.Field && string(va) == string(vb)
}

// unrestrictedPolicy allows every setting of every control and defaults none.
func unrestrictedPolicy() *policyv1.PodSecurityPolicy {
	return &policyv1.PodSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "unrestricted", Annotations: map[string]string{policyv1.SeccompAllowedProfilesAnnotationKey: policyv1.SeccompAllowAny}},
		Spec: policyv1.PodSecurityPolicySpec{
			Privileged: true, AllowPrivilegeEscalation: ptr(true), AllowedCapabilities: []corev1.Capability{policyv1.AllowAllCapabilities},
			Volumes: []policyv1.FSType{policyv1.All}, HostNetwork: true, HostPID: true, HostIPC: true,
			HostPorts:            []policyv1.HostPortRange{{Min: 0, Max: 65535}},
			RunAsUser:            policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyRunAsAny},
			SELinux:              policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyRunAsAny},
			SupplementalGroups:   policyv1.SupplementalGroupsStrategyOptions{Rule: policyv1.SupplementalGroupsStrategyRunAsAny},
			FSGroup:              policyv1.FSGroupStrategyOptions{Rule: policyv1.FSGroupStrategyRunAsAny},
			AllowedUnsafeSysctls: []string{"*"}, AllowedProcMountTypes: []corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount},
		},
	}
}

// allowAll lets everyone use every policy: the unrestricted policy's
// changes do not depend on who may use it.
type allowAll struct{}

func (allowAll) Authorize(context.Context, authorizer.Attributes) (bool, string, error) {
	return true, "", nil
}

// otherPolicy explains a pod admitted unchanged by another policy than its
// own: who may use that one, which of the two sorts first (v1.24 tries the
// policies that admit unchanged in name order), and the fix. When the other
// policy was made for workloads that run as the same ServiceAccount, the
// identity PodSecurityPolicy authorizes, no name or grant separates them.
func otherPolicy(ctx context.Context, snap *source.Snapshot, policies []*policyv1.PodSecurityPolicy, workloads []manifest.Workload, r check.Verdict, expected string, generating bool) string {
	w := r.Workload
	req := engine.Request{Namespace: w.Namespace, User: r.Requester, Pod: r.Pod}
	auth := engine.AuthorizeUse(ctx, snap.Authorizer, engine.UseSubjects(req), w.Namespace, r.Policy)
	who := "it may be used"
	if auth.Allowed {
		who = fmt.Sprintf("%s may use it (%s)", auth.Subject, auth.Reason)
	}
	if r.Policy > expected {
		// Only reachable when the expected one does not admit the pod
		// unchanged, or may not be used.
		return fmt.Sprintf("admitted unchanged by policy %q, not by its own %q, which does not admit it unchanged or may not be used: %s", r.Policy, expected, who)
	}
	order := fmt.Sprintf("%q sorts before %q", r.Policy, expected)
	sa := engine.PodServiceAccount(r.Pod)
	if sharing := sameAccount(policies, r.Policy, workloads, w.Namespace, sa); len(sharing) > 0 {
		return fmt.Sprintf("admitted unchanged by policy %q (made for %s), not by its own %q: the workloads share ServiceAccount %s/%s, the identity PodSecurityPolicy authorizes, so each may use the other's policy, and %s; give each workload its own ServiceAccount, or use --group-by serviceaccount",
			r.Policy, strings.Join(sharing, ", "), expected, w.Namespace, sa, order)
	}
	fix := "removing that grant lets its own win"
	if generating && !isGenerated(policies, r.Policy) {
		fix = fmt.Sprintf("a --name-prefix that sorts before %q, or removing that grant, lets its own win", r.Policy)
	}
	return fmt.Sprintf("admitted unchanged by policy %q, not by its own %q: %s (%s): %s", r.Policy, expected, order, fix, who)
}

// sameAccount names the workloads the policy was made for
// (GeneratedForAnnotation) that run as ServiceAccount namespace/sa.
func sameAccount(policies []*policyv1.PodSecurityPolicy, policy string, workloads []manifest.Workload, namespace, sa string) []string {
	var names []string
	for _, p := range policies {
		if p.Name != policy {
			continue
		}
		madeFor := strings.Split(p.Annotations[GeneratedForAnnotation], "\n")
		for _, o := range workloads {
			if o.Namespace != namespace || !slices.Contains(madeFor, WorkloadName(o)) {
				continue
			}
			if engine.PodServiceAccount(podcreate.Create(o.Pod, o.ServiceAccount)) == sa {
				names = append(names, WorkloadName(o))
			}
		}
	}
	return names
}

func isGenerated(policies []*policyv1.PodSecurityPolicy, policy string) bool {
	for _, p := range policies {
		if p.Name == policy {
			return p.Annotations[GeneratedForAnnotation] != ""
		}
	}
	return false
}

func describeChanges(changes []engine.Change) string {
	parts := make([]string, 0, len(changes))
	for _, c := range changes {
		v, _ := json.Marshal(c.Value)
		parts = append(parts, fmt.Sprintf("%s: %s", c.Field, v))
	}
	return strings.Join(parts, ", ")
}

// ProofFailed counts the findings that are not OK (Unowned ones are OK:
// they are reported, not failed).
func ProofFailed(findings []Finding) int {
	return len(slices.DeleteFunc(slices.Clone(findings), Finding.OK))
}
