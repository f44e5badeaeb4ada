// Package lint finds the PodSecurityPolicy and RBAC mistakes that silently
// weakened PSP clusters: wildcard grants of every policy (including through
// the legacy extensions group), permissive policies granted to every user or
// ServiceAccount, policies nobody may use, grants of policies that do not
// exist, dangerous host access, and permissive policies that shadow stricter
// ones by name order.
package lint

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/kube-psp/kube-psp/internal/plural"
	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/rbac"
	"github.com/kube-psp/kube-psp/pkg/yamlfile"
)

// Severity orders findings.
type Severity int

// The severities.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string { return [...]string{"info", "warning", "error"}[s] }

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseSeverity reads "info", "warning", "error" or "none" (above every severity).
func ParseSeverity(s string) (Severity, error) {
	switch s {
	case "info":
		return Info, nil
	case "warning":
		return Warning, nil
	case "error":
		return Error, nil
	case "none":
		return Error + 1, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning, error or none)", s)
}

// Finding is one problem.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Object is what the finding is about, e.g. `ClusterRole "psp:all"`.
	Object  string            `json:"object"`
	Source  yamlfile.Position `json:"source"`
	Message string            `json:"message"`
	Fix     string            `json:"fix"`
}

// Rules describes every rule, for --help and SARIF.
var Rules = []struct{ ID, Summary string }{
	{"wildcard-grant", "a role grants use of every policy (no resourceNames, or resources/apiGroups/verbs \"*\"); an error when a binding makes usable a policy its subject is not granted by name"},
	{"permissive-for-everyone", "a policy allowing privileged or host access is usable by every user or ServiceAccount"},
	{"weak-for-everyone", "a policy usable by everyone allows running as root or privilege escalation"},
	{"unused-policy", "no subject may use the policy"},
	{"missing-policy", "RBAC grants use of a policy that does not exist"},
	{"missing-role", "a binding references a role that does not exist"},
	{"dangerous-policy", "a policy allows privileged containers, any host path, or the container runtime's socket"},
	{"shadowing-policy", "a permissive policy sorts before a stricter one that the same subjects may use"},
	{"unusable-policy", "a valid policy the v1.24 plugin could not use (e.g. MustRunAs without ranges)"},
	{"seccomp-annotations-only", "a policy's seccomp settings had no effect on Kubernetes v1.27+ under v1.24's behaviour (annotations only): its pods may have run Unconfined"},
}

// broadGroups mean everyone.
var broadGroups = []string{authorizer.GroupAuthenticated, authorizer.GroupServiceAccounts, "system:unauthenticated"}

// Lint checks what a loader read.
func Lint(res *loader.PoliciesAndRBAC, set *engine.PolicySet, snap *rbac.Index) []Finding {
	l := &linter{res: res, set: set, snap: snap, named: rbac.NewIndex(namedOnly(res.RBAC))}
	l.roles()
	l.bindings()
	l.policies()
	return l.findings
}

type linter struct {
	res  *loader.PoliciesAndRBAC
	set  *engine.PolicySet
	snap *rbac.Index
	// named holds only the rules that name their policies: what was meant.
	named    *rbac.Index
	findings []Finding
}

func (l *linter) add(rule string, sev Severity, object string, src yamlfile.Position, msg, fix string) {
	l.findings = append(l.findings, Finding{Rule: rule, Severity: sev, Object: object, Source: src, Message: msg, Fix: fix})
}

// grantsUse reports whether a rule grants use of policies in a group that
// admission asks about, and whether it grants every policy.
func grantsUse(r rbacv1.PolicyRule) (grants, all bool, how []string) {
	// Ignoring resourceNames, does the rule allow use of policies in a group admission asks about?
	unnamed := r
	unnamed.ResourceNames = nil
	for _, q := range engine.UseQuestions(authorizer.UserInfo{}, "", "") {
		grants = grants || rbac.RuleAllows(&unnamed, q)
	}
	if !grants {
		return false, false, nil
	}
	if len(r.ResourceNames) == 0 {
		how = append(how, "no resourceNames")
	}
	if slices.Contains(r.Verbs, "*") {
		how = append(how, `verbs "*"`)
	}
	switch {
	case slices.Contains(r.Resources, "*") && slices.Contains(r.APIGroups, engine.LegacyUseAPIGroup):
		how = append(how, `resources "*" in the legacy extensions group, where podsecuritypolicies also live`)
	case slices.Contains(r.Resources, "*"):
		how = append(how, `resources "*"`)
	}
	if slices.Contains(r.APIGroups, "*") {
		how = append(how, `apiGroups "*"`)
	}
	return true, len(r.ResourceNames) == 0, how
}

func (l *linter) roles() {
	check := func(kind, namespace, name string, rules []rbacv1.PolicyRule) {
		for _, r := range rules {
			grants, all, how := grantsUse(r)
			if !grants || !all {
				continue
			}
			obj := fmt.Sprintf("%s %q", kind, name)
			if namespace != "" {
				obj = fmt.Sprintf("%s %q", kind, namespace+"/"+name)
			}
			msg := "grants use of every PodSecurityPolicy (" + strings.Join(how, ", ") + ")"
			sev := Warning
			if over := l.beyondNamed(kind, namespace, name, r); over != "" {
				sev, msg = Error, msg+"; "+over
			} else {
				msg += ": whoever it is bound to may use any policy created later, the most permissive included"
			}
			l.add("wildcard-grant", sev, obj, l.res.RBACSources[loader.RBACKey(kind, namespace, name)], msg,
				fmt.Sprintf("grant use only of named policies: apiGroups [%s], resources [%s], verbs [%s], resourceNames [...]", strings.Join(engine.GrantAPIGroups(), ", "), engine.UseResource, engine.UseVerb))
		}
	}
	for _, r := range l.res.RBAC.ClusterRoles {
		check("ClusterRole", "", r.Name, r.Rules)
	}
	for _, r := range l.res.RBAC.Roles {
		check("Role", r.Namespace, r.Name, r.Rules)
	}
}

// beyondNamed says whom a wildcard rule of a role lets use more than
// intended: a policy admission may use that no rule with resourceNames
// grants the same subject (or a group it is in) where the binding applies.
// The role's bindings are those that reference it, and those of aggregated
// ClusterRoles that hold the rule. It returns "" when every binding only
// repeats grants by name (or there is none).
func (l *linter) beyondNamed(kind, namespace, name string, rule rbacv1.PolicyRule) string {
	aggregated := map[string]bool{}
	for _, r := range l.res.RBAC.ClusterRoles {
		if r.AggregationRule != nil {
			aggregated[r.Name] = true
		}
	}
	binds := func(b *rbac.Binding) bool {
		if b.RoleRef.Kind == kind && b.RoleRef.Name == name && (kind == "ClusterRole" || b.Namespace == namespace) {
			return true
		}
		return kind == "ClusterRole" && b.RoleRef.Kind == "ClusterRole" && aggregated[b.RoleRef.Name] &&
			slices.ContainsFunc(b.Rules, func(r rbacv1.PolicyRule) bool { return equality.Semantic.DeepEqual(r, rule) })
	}
	skipped := map[string]bool{}
	for _, u := range l.set.Unusable() {
		skipped[u.Name] = true // admission never uses it
	}
	var found []string
	bindings := l.snap.Bindings()
	for i := range bindings {
		b := &bindings[i]
		if b.RoleMissing || !binds(b) {
			continue
		}
		for _, subj := range b.Subjects {
			if subj.Kind == rbacv1.ServiceAccountKind && subj.Namespace == "" {
				subj.Namespace = b.Namespace // a RoleBinding's own namespace
			}
			user, namespace, ok := bindingIdentity(b, subj)
			if !ok {
				continue
			}
			var policies []string
			for _, p := range l.set.Policies() {
				// The rule names no policy: it grants each one.
				if !skipped[p.Name] && !engine.AuthorizeUse(context.Background(), l.named, []authorizer.UserInfo{user}, namespace, p.Name).Allowed {
					policies = append(policies, strconv.Quote(p.Name))
				}
			}
			if len(policies) > 0 {
				found = append(found, fmt.Sprintf("through %s %q it lets %s use %s, which no rule grants it by name", b.Kind, path.Join(b.Namespace, b.Name), subjectName(subj.Kind+"/"+subj.Namespace+"/"+subj.Name), strings.Join(policies, ", ")))
			}
		}
	}
	if len(found) > 2 {
		found = append(found[:2], "and "+plural.Count(len(found)-2, "more subject"))
	}
	return strings.Join(found, "; ")
}

// bindingIdentity is the identity a binding's subject stands for, and the
// namespace where the binding grants ("" for a ClusterRoleBinding, or the
// ServiceAccount's own namespace, which subj must give). Groups are those a member is in:
// system:authenticated for users and groups other than the unauthenticated,
// a ServiceAccount's groups as the v1.24 plugin asked them. ok is false for
// a subject that matches nobody.
func bindingIdentity(b *rbac.Binding, subj rbacv1.Subject) (user authorizer.UserInfo, namespace string, ok bool) {
	namespace = b.Namespace
	switch subj.Kind {
	case rbacv1.ServiceAccountKind:
		if subj.Namespace == "" {
			return user, "", false
		}
		return engine.ServiceAccountUser(subj.Namespace, subj.Name), subj.Namespace, true
	case rbacv1.UserKind:
		return authorizer.UserInfo{Name: subj.Name, Groups: []string{authorizer.GroupAuthenticated}}, namespace, true
	case rbacv1.GroupKind:
		groups := []string{subj.Name}
		if subj.Name != authorizer.GroupUnauthenticated {
			groups = append(groups, authorizer.GroupAuthenticated)
		}
		return authorizer.UserInfo{Groups: groups}, namespace, true
	}
	return user, "", false
}

// namedOnly keeps the rules that name their resources.
func namedOnly(objs rbac.Objects) rbac.Objects {
	keep := func(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
		return slices.DeleteFunc(slices.Clone(rules), func(r rbacv1.PolicyRule) bool { return len(r.ResourceNames) == 0 })
	}
	out := rbac.Objects{RoleBindings: objs.RoleBindings, ClusterRoleBindings: objs.ClusterRoleBindings}
	for _, r := range objs.Roles {
		r.Rules = keep(r.Rules)
		out.Roles = append(out.Roles, r)
	}
	for _, r := range objs.ClusterRoles {
		r.Rules = keep(r.Rules)
		out.ClusterRoles = append(out.ClusterRoles, r)
	}
	return out
}

func (l *linter) bindings() {
	policies := map[string]bool{}
	for _, p := range l.set.Policies() {
		policies[p.Name] = true
	}
	for _, b := range l.snap.Bindings() {
		src := l.res.RBACSources[loader.RBACKey(b.Kind, b.Namespace, b.Name)]
		if b.RoleMissing {
			l.add("missing-role", Warning, b.String(), src, "references a role that does not exist; the binding grants nothing",
				"create the role or delete the binding")
			continue
		}
		for _, r := range b.Rules {
			grants, _, _ := grantsUse(r)
			if !grants {
				continue
			}
			for _, name := range r.ResourceNames {
				if !policies[name] {
					l.add("missing-policy", Warning, b.String(), src, fmt.Sprintf("grants use of PodSecurityPolicy %q, which does not exist", name),
						"create the policy, or remove the name (a typo grants nothing, and a policy created later with that name becomes usable at once)")
				}
			}
		}
	}
}

// usableBy returns who may use a policy, across the API groups admission asks about.
func (l *linter) usableBy(policy string) []rbac.Match {
	var out []rbac.Match
	for _, q := range engine.UseQuestions(authorizer.UserInfo{}, "", policy) {
		out = append(out, l.snap.WhoCan(q)...)
	}
	return out
}

func (l *linter) policies() {
	unusable := map[string]bool{}
	for _, u := range l.set.Unusable() {
		unusable[u.Name] = true
		l.add("unusable-policy", Warning, fmt.Sprintf("PodSecurityPolicy %q", u.Name), l.res.PolicySources[u.Name],
			"admission skips this policy, as v1.24 did: "+u.Reason, "fix the strategy so that it can be used")
	}
	type info struct {
		p          *policyv1.PodSecurityPolicy
		permissive []string
		subjects   map[string]bool
	}
	var infos []info
	for _, p := range l.set.Policies() {
		if unusable[p.Name] {
			continue // admission never uses it; reported above
		}
		obj, src := fmt.Sprintf("PodSecurityPolicy %q", p.Name), l.res.PolicySources[p.Name]
		in := info{p: p, permissive: permissions(p), subjects: map[string]bool{}}
		grants := l.usableBy(p.Name)
		var everyone []string
		for _, g := range grants {
			in.subjects[g.Subject.Kind+"/"+g.Subject.Namespace+"/"+g.Subject.Name] = true
			if g.Subject.Kind == rbacv1.GroupKind && slices.Contains(broadGroups, g.Subject.Name) && !slices.Contains(everyone, g.Subject.Name) {
				everyone = append(everyone, g.Subject.Name)
			}
		}
		infos = append(infos, in)
		if len(grants) == 0 {
			l.add("unused-policy", Info, obj, src, "no user, group or ServiceAccount may use it (only members of system:masters)",
				"bind it to the ServiceAccounts of the workloads that need it, or delete it")
		}
		if notes := engine.SeccompSettingsWithoutEffect(p.Annotations); len(notes) > 0 {
			l.add("seccomp-annotations-only", Info, obj, src,
				"under v1.24's behaviour on Kubernetes v1.27+, where the kubelet reads only the seccompProfile fields, "+strings.Join(notes, "; and ")+" (kube-psp sets and checks the fields)",
				"if the policy ran elsewhere with v1.24's behaviour, check the running pods with psp audit and set seccompProfile in their manifests")
		}
		if len(in.permissive) > 0 {
			l.add("dangerous-policy", Warning, obj, src, "allows "+strings.Join(in.permissive, ", "),
				"keep such a policy for the few system workloads that need it, bound to their ServiceAccounts only")
		}
		if len(everyone) > 0 {
			who := strings.Join(everyone, ", ")
			if len(in.permissive) > 0 {
				l.add("permissive-for-everyone", Error, obj, src,
					fmt.Sprintf("allows %s and is usable by %s, so every pod may use it (EKS's default eks:podsecuritypolicy:authenticated does this)", strings.Join(in.permissive, ", "), who),
					"bind it to specific ServiceAccounts, and give everyone a restricted policy instead")
			}
			var weak []string
			if p.Spec.RunAsUser.Rule == policyv1.RunAsUserStrategyRunAsAny {
				weak = append(weak, "running as root (runAsUser RunAsAny)")
			}
			if p.Spec.AllowPrivilegeEscalation == nil || *p.Spec.AllowPrivilegeEscalation {
				weak = append(weak, "privilege escalation")
			}
			if len(weak) > 0 && len(in.permissive) == 0 {
				l.add("weak-for-everyone", Info, obj, src, fmt.Sprintf("is usable by %s and allows %s", who, strings.Join(weak, " and ")),
					"use runAsUser MustRunAsNonRoot and allowPrivilegeEscalation: false for the policy everyone gets")
			}
		}
	}
	// Policies are tried in name order and a pod that needs no change gets
	// the first that admits it: a permissive policy named before a stricter
	// one wins for every pod both admit, for subjects that may use both.
	for i, a := range infos {
		if len(a.permissive) == 0 {
			continue
		}
		for _, b := range infos[i+1:] {
			if len(b.permissive) > 0 {
				continue
			}
			for s := range a.subjects {
				if b.subjects[s] {
					l.add("shadowing-policy", Warning, fmt.Sprintf("PodSecurityPolicy %q", a.p.Name), l.res.PolicySources[a.p.Name],
						fmt.Sprintf("sorts before the stricter %q and both are usable by %s: pods that satisfy both unchanged are admitted by %q, and annotated with it",
							b.p.Name, subjectName(s), a.p.Name),
						fmt.Sprintf("rename so that the stricter policy sorts first (e.g. 00-%s), or do not grant both to the same subjects", b.p.Name))
					break
				}
			}
		}
	}
}

func subjectName(key string) string {
	parts := strings.SplitN(key, "/", 3)
	if parts[1] != "" {
		return parts[0] + " " + parts[1] + "/" + parts[2]
	}
	return parts[0] + " " + parts[2]
}

// permissions lists what makes a policy dangerous: its privileges that
// hand over the node (engine.PolicyPrivileges).
func permissions(p *policyv1.PodSecurityPolicy) []string {
	var out []string
	for _, priv := range engine.PolicyPrivileges(p) {
		if priv.Dangerous {
			out = append(out, priv.Text)
		}
	}
	return out
}
