// Package access answers the two RBAC questions about one policy that
// psp who-can and psp can-i ask: which subjects may `use` it, and whether
// one user or ServiceAccount may, each asked exactly as admission asks it
// (engine.UseQuestions, engine.AuthorizeUse), and writes the answers. It
// reads no files: the caller loads policies and RBAC.
package access

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/kube-psp/kube-psp/internal/plural"
	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/rbac"
	"github.com/kube-psp/kube-psp/pkg/report"
)

// ParseUseArgs takes the arguments "use POLICY", as kubectl auth can-i
// takes a verb and a resource, and returns the policy's name. POLICY may
// also be written podsecuritypolicy/NAME (or psp/NAME, podsecuritypolicies/
// NAME, with or without ".policy"), as kubectl would.
func ParseUseArgs(args []string) (string, error) {
	if len(args) != 2 {
		return "", fmt.Errorf("want 2 arguments: use POLICY")
	}
	if args[0] != engine.UseVerb {
		return "", fmt.Errorf("the only verb on policies is use, not %q", args[0])
	}
	name := args[1]
	if kind, n, ok := strings.Cut(name, "/"); ok {
		switch strings.ToLower(kind) {
		case "psp", "podsecuritypolicy", "podsecuritypolicies", "podsecuritypolicy.policy", "podsecuritypolicies.policy":
			name = n
		default:
			return "", fmt.Errorf("%q is not a podsecuritypolicy", args[1])
		}
	}
	if name == "" {
		return "", fmt.Errorf("no policy name in %q", args[1])
	}
	return name, nil
}

// UnknownPolicy is the warning for a policy name that no policy of the set
// has, "" when one does: RBAC may grant it, but admission has nothing to
// use (a typo, or a policy not yet created).
func UnknownPolicy(policies []*policyv1.PodSecurityPolicy, name string) string {
	if slices.ContainsFunc(policies, func(p *policyv1.PodSecurityPolicy) bool { return p.Name == name }) {
		return ""
	}
	return fmt.Sprintf("there is no policy %q", name)
}

// Grantee is one subject that RBAC lets use a policy, and how: the
// report schema's type (v1alpha1.SubjectGrant documents its fields).
type Grantee v1alpha1.SubjectGrant

// WhoCan lists the subjects that idx lets use policy in namespace ("" for
// every namespace: RoleBindings of all of them), through each binding, in
// the order of admission's questions (engine.UseQuestions), each subject,
// binding and group once; an empty list, not nil, when there is none.
// Members of system:masters may use every policy and are not listed.
func WhoCan(idx *rbac.Index, namespace, policy string) []Grantee {
	out := []Grantee{}
	seen := map[Grantee]bool{}
	for _, q := range engine.UseQuestions(authorizer.UserInfo{}, namespace, policy) {
		for _, g := range idx.WhoCan(q) {
			row := Grantee{Kind: g.Subject.Kind, Name: g.Subject.Name, Namespace: g.Subject.Namespace,
				Binding: bindingName(g.Binding), Role: g.Binding.RoleRef.Kind + "/" + g.Binding.RoleRef.Name, APIGroup: q.APIGroup}
			if !seen[row] {
				seen[row] = true
				out = append(out, row)
			}
		}
	}
	return out
}

func bindingName(b *rbac.Binding) string {
	if b.Kind == "RoleBinding" {
		return "RoleBinding/" + b.Namespace + "/" + b.Name
	}
	return "ClusterRoleBinding/" + b.Name
}

// WriteTable writes grantees as a table (KIND, SUBJECT, BINDING, ROLE, API
// GROUP) and a summary line that recalls system:masters.
func WriteTable(w io.Writer, grantees []Grantee) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tSUBJECT\tBINDING\tROLE\tAPI GROUP")
	for _, r := range grantees {
		subject := r.Name
		if r.Namespace != "" {
			subject = r.Namespace + "/" + r.Name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Kind, subject, r.Binding, r.Role, r.APIGroup)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s; members of %s may use every policy\n", plural.Count(len(grantees), "grant"), authorizer.GroupMasters)
	return err
}

// WriteReport writes grantees, as WhoCan returns them for policy in
// namespace, as a v1alpha1.WhoCanReport in format json or yaml.
func WriteReport(w io.Writer, format, policy, namespace string, grantees []Grantee) error {
	head := []report.Field{{Key: "policy", Value: policy}}
	if namespace != "" {
		head = append(head, report.Field{Key: "namespace", Value: namespace})
	}
	l, err := report.NewListWriter(w, format, v1alpha1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.KindWhoCanReport}, head...)
	if err != nil {
		return err
	}
	for _, g := range grantees {
		if err := l.Item(v1alpha1.SubjectGrant(g)); err != nil {
			return err
		}
	}
	return l.Close()
}

// Subject is who psp can-i asks about: a user with the groups the
// apiserver's impersonation gives it (authorizer.Impersonate, as kubectl
// auth can-i --as), or a pod's ServiceAccount, NAMESPACE:NAME, as
// admission asks about it (engine.ServiceAccountUser: its ServiceAccount
// groups, without system:authenticated). Exactly one of User and
// ServiceAccount is set.
type Subject struct {
	User           *authorizer.UserInfo
	ServiceAccount string
}

// Identity returns the identity to ask about and the namespace to ask in:
// namespace when given, else the ServiceAccount's, else "default". An
// error says, in can-i's flags, which of the two to give.
func (s Subject) Identity(namespace string) (authorizer.UserInfo, string, error) {
	switch {
	case s.User != nil && s.ServiceAccount != "":
		return authorizer.UserInfo{}, "", fmt.Errorf("give --as or --serviceaccount, not both")
	case s.ServiceAccount != "":
		ns, sa, ok := strings.Cut(s.ServiceAccount, ":")
		if !ok || ns == "" || sa == "" {
			return authorizer.UserInfo{}, "", fmt.Errorf("--serviceaccount must be NAMESPACE:NAME, not %q", s.ServiceAccount)
		}
		if namespace == "" {
			namespace = ns
		}
		return engine.ServiceAccountUser(ns, sa), namespace, nil
	case s.User != nil:
		if namespace == "" {
			namespace = "default"
		}
		return *s.User, namespace, nil
	}
	return authorizer.UserInfo{}, "", fmt.Errorf("give --as USER or --serviceaccount NAMESPACE:NAME")
}

// CanI asks whether user may use policy in namespace, as admission asks
// it (engine.AuthorizeUse), and says why: which binding grants it and in
// which API group, or that none does.
func CanI(ctx context.Context, authz authorizer.Authorizer, user authorizer.UserInfo, namespace, policy string) (allowed bool, why string) {
	a := engine.AuthorizeUse(ctx, authz, []authorizer.UserInfo{user}, namespace, policy)
	if !a.Allowed {
		return false, fmt.Sprintf("no binding grants %s use of %q in namespace %q", user.Name, policy, namespace)
	}
	return true, fmt.Sprintf("%s (API group %s)", a.Reason, a.APIGroup)
}
