// Package lint finds the PodSecurityPolicy and RBAC mistakes that silently
// weakened PSP clusters: wildcard grants of every policy (including through
// the legacy extensions group), permissive policies granted to every user or
// ServiceAccount, policies nobody may use, grants of policies that do not
// exist, dangerous host access, and permissive policies that shadow stricter
// ones by name order.
package lint

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/rbac"
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
	Object  string        `json:"object"`
	Source  loader.Source `json:"source"`
	Message string        `json:"message"`
	Fix     string        `json:"fix"`
}

// Rules describes every rule, for --help and SARIF.
var Rules = []struct{ ID, Summary string }{
	{"wildcard-grant", "a role grants use of every policy (no resourceNames, or resources/apiGroups/verbs \"*\")"},
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
func Lint(res *loader.Result, set *engine.PolicySet, snap *rbac.Snapshot) []Finding {
	l := &linter{res: res, set: set, snap: snap}
	l.roles()
	l.bindings()
	l.policies()
	return l.findings
}

type linter struct {
	res      *loader.Result
	set      *engine.PolicySet
	snap     *rbac.Snapshot
	findings []Finding
}

func (l *linter) add(rule string, sev Severity, object string, src loader.Source, msg, fix string) {
	l.findings = append(l.findings, Finding{Rule: rule, Severity: sev, Object: object, Source: src, Message: msg, Fix: fix})
}

// grantsUse reports whether a rule grants use of policies in a group that
// admission asks about, and whether it grants every policy.
func grantsUse(r rbacv1.PolicyRule) (grants, all bool, how []string) {
	// Ignoring resourceNames, does the rule allow use of policies in a group admission asks about?
	unnamed := r
	unnamed.ResourceNames = nil
	for _, g := range engine.UseAPIGroups() {
		grants = grants || rbac.RuleAllows(&unnamed, authorizer.Attributes{Verb: "use", APIGroup: g, Resource: "podsecuritypolicies"})
	}
	if !grants {
		return false, false, nil
	}
	if len(r.ResourceNames) == 0 {
		how = append(how, "no resourceNames")
	}
	for _, field := range []struct {
		name   string
		values []string
	}{{"verbs", r.Verbs}, {"resources", r.Resources}, {"apiGroups", r.APIGroups}} {
		if slices.Contains(field.values, "*") {
			how = append(how, field.name+` "*"`)
		}
	}
	if slices.Contains(r.APIGroups, "extensions") && slices.Contains(r.Resources, "*") {
		how = append(how, `resources "*" in the legacy extensions group, where podsecuritypolicies also lives`)
	}
	return true, len(r.ResourceNames) == 0, how
}

func (l *linter) roles() {
	check := func(kind, namespace, name string, rules []rbacv1.PolicyRule) {
		for _, r := range rules {
			if grants, all, how := grantsUse(r); grants && all {
				obj := fmt.Sprintf("%s %q", kind, name)
				if namespace != "" {
					obj = fmt.Sprintf("%s %q", kind, namespace+"/"+name)
				}
				l.add("wildcard-grant", Warning, obj, l.res.RBACSources[loader.RBACKey(kind, namespace, name)],
					"grants use of every PodSecurityPolicy ("+strings.Join(how, ", ")+"), so whoever it is bound to may pick the most permissive policy",
					"grant use only of named policies: resources [podsecuritypolicies], verbs [use], resourceNames [...]")
			}
		}
	}
	for _, r := range l.res.RBAC.ClusterRoles {
		check("ClusterRole", "", r.Name, r.Rules)
	}
	for _, r := range l.res.RBAC.Roles {
		check("Role", r.Namespace, r.Name, r.Rules)
	}
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
func (l *linter) usableBy(policy string) []rbac.Grant {
	var out []rbac.Grant
	for _, g := range engine.UseAPIGroups() {
		out = append(out, l.snap.WhoCan(authorizer.Attributes{Verb: "use", APIGroup: g, Resource: "podsecuritypolicies", Name: policy})...)
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

// runtimeSockets are host paths that hand over the node.
var runtimeSockets = []string{"/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock", "/var/run/crio/crio.sock"}

// permissions lists what makes a policy dangerous.
func permissions(p *policyv1.PodSecurityPolicy) []string {
	var out []string
	s := p.Spec
	if s.Privileged {
		out = append(out, "privileged containers")
	}
	if slices.Contains(s.AllowedCapabilities, "*") {
		out = append(out, "every capability")
	}
	if s.HostNetwork || s.HostPID || s.HostIPC {
		out = append(out, "host namespaces")
	}
	hostPath := slices.Contains(s.Volumes, policyv1.All) || slices.Contains(s.Volumes, policyv1.HostPath)
	if hostPath {
		switch {
		case len(s.AllowedHostPaths) == 0:
			out = append(out, "every host path")
		case slices.ContainsFunc(s.AllowedHostPaths, func(h policyv1.AllowedHostPath) bool { return strings.TrimSuffix(h.PathPrefix, "/") == "" }):
			out = append(out, `host path "/"`)
		default:
			for _, sock := range runtimeSockets {
				if slices.ContainsFunc(s.AllowedHostPaths, func(h policyv1.AllowedHostPath) bool {
					prefix := strings.TrimSuffix(h.PathPrefix, "/")
					// Read-only does not help: connecting to a socket is not a write.
					return sock == prefix || strings.HasPrefix(sock, prefix+"/")
				}) {
					out = append(out, "the container runtime's socket "+sock)
					break
				}
			}
		}
	}
	return out
}
