package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/internal/plural"
	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/rbac"
	"github.com/kube-psp/kube-psp/pkg/report"
)

// policyArg takes "use POLICY" and returns the policy name; POLICY may also
// be written podsecuritypolicy/NAME (or psp/NAME), as kubectl would.
func policyArg(args []string) (string, error) {
	if len(args) != 2 {
		return "", fmt.Errorf("want 2 arguments: use POLICY")
	}
	if args[0] != "use" {
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

func newCanICommand(name string) *cobra.Command {
	o := &sourceOptions{}
	var as, serviceAccount, namespace string
	var asGroups []string
	var why bool
	cmd := &cobra.Command{
		Use:   "can-i use POLICY (--as USER [--as-group GROUP] | --serviceaccount NAMESPACE:NAME) [-n NAMESPACE]",
		Short: "Say whether a user or ServiceAccount may use a policy, like kubectl auth can-i",
		Long: `Can-i answers, from the RBAC files, whether a user or a ServiceAccount may
use a policy in a namespace, exactly as admission asks it: verb use on
podsecuritypolicies in API group policy, extensions or policy.kube-psp.io.
It prints yes or no and exits 0 or 1.

A user (--as) is checked with the groups the apiserver's impersonation gives
it, as kubectl auth can-i --as does: its --as-group groups, or for a
ServiceAccount name (system:serviceaccount:NS:NAME) without --as-group the
groups system:serviceaccounts and system:serviceaccounts:NS; and
system:authenticated. A ServiceAccount given with --serviceaccount is checked
as admission checks a pod's ServiceAccount: in groups system:serviceaccounts
and system:serviceaccounts:NAMESPACE, without system:authenticated.`,
		Example: `  # The seed article's check
  ` + name + ` can-i use podsecuritypolicy/example --serviceaccount app-test:app --rbac rbac/ --policies psp/
  ` + name + ` can-i use restricted --as alice -n team --why`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			policy, err := policyArg(args)
			if err != nil {
				return err
			}
			var subject authorizer.UserInfo
			switch {
			case as != "" && serviceAccount != "":
				return fmt.Errorf("give --as or --serviceaccount, not both")
			case serviceAccount != "":
				ns, sa, ok := strings.Cut(serviceAccount, ":")
				if !ok || ns == "" || sa == "" {
					return fmt.Errorf("--serviceaccount must be NAMESPACE:NAME, not %q", serviceAccount)
				}
				subject = authorizer.ServiceAccountUser(ns, sa)
				if namespace == "" {
					namespace = ns
				}
			case as != "":
				subject = authorizer.Impersonate(as, asGroups)
			default:
				return fmt.Errorf("give --as USER or --serviceaccount NAMESPACE:NAME")
			}
			if namespace == "" {
				namespace = "default"
			}
			_, snap, err := o.load(cmd)
			if err != nil {
				return err
			}
			warnUnknownPolicy(cmd, snap.Policies, policy)
			a := engine.AuthorizeUse(cmd.Context(), snap.Authorizer, []authorizer.UserInfo{subject}, namespace, policy)
			if !a.Allowed {
				fmt.Fprintln(cmd.OutOrStdout(), "no")
				if why {
					fmt.Fprintf(cmd.ErrOrStderr(), "no binding grants %s use of %q in namespace %q\n", subject.Name, policy, namespace)
				}
				return &exitError{code: 1}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "yes")
			if why {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s (API group %s)\n", a.Reason, a.APIGroup)
			}
			return nil
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&as, "as", "", "user to check")
	cmd.Flags().StringSliceVar(&asGroups, "as-group", nil, "group of the --as user, replacing a ServiceAccount's groups, as in kubectl (repeatable)")
	cmd.Flags().StringVar(&serviceAccount, "serviceaccount", "", "ServiceAccount to check, as NAMESPACE:NAME")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", `namespace of the pod (default: the --serviceaccount's, else "default")`)
	cmd.Flags().BoolVar(&why, "why", false, "say on stderr which binding grants it")
	return cmd
}

func newWhoCanCommand(name string) *cobra.Command {
	o := &sourceOptions{}
	var namespace, output string
	cmd := &cobra.Command{
		Use:   "who-can use POLICY [-n NAMESPACE]",
		Short: "List every subject that may use a policy, and through which role and binding",
		Long: `Who-can lists the users, groups and ServiceAccounts that RBAC lets use a
policy: through ClusterRoleBindings everywhere and, with -n, RoleBindings in
that namespace (without -n, RoleBindings of every namespace), including
grants through wildcards (verbs, resources or API groups "*", rules without
resourceNames) and through the legacy extensions group. Broad groups such
as system:authenticated and system:serviceaccounts mean everyone.
Members of system:masters may use every policy and are not listed.`,
		Example: `  ` + name + ` who-can use eks.privileged --rbac rbac/ --policies psp/
  ` + name + ` who-can use restricted -n team -o json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			policy, err := policyArg(args)
			if err != nil {
				return err
			}
			if output != "text" && output != "json" && output != "yaml" {
				return fmt.Errorf("--output must be text, json or yaml, not %q", output)
			}
			_, snap, err := o.load(cmd)
			if err != nil {
				return err
			}
			warnUnknownPolicy(cmd, snap.Policies, policy)
			rows := []v1alpha1.SubjectGrant{}
			seen := map[v1alpha1.SubjectGrant]bool{}
			for _, group := range engine.UseAPIGroups() {
				for _, g := range snap.RBAC.WhoCan(engine.UseAttributes(authorizer.UserInfo{}, namespace, group, policy)) {
					row := v1alpha1.SubjectGrant{Kind: g.Subject.Kind, Name: g.Subject.Name, Namespace: g.Subject.Namespace,
						Binding: bindingName(g.Binding), Role: g.Binding.RoleRef.Kind + "/" + g.Binding.RoleRef.Name, APIGroup: group}
					if !seen[row] {
						seen[row] = true
						rows = append(rows, row)
					}
				}
			}
			if output != "text" {
				return writeWhoCanReport(cmd, output, policy, namespace, rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tSUBJECT\tBINDING\tROLE\tAPI GROUP")
			for _, r := range rows {
				subject := r.Name
				if r.Namespace != "" {
					subject = r.Namespace + "/" + r.Name
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Kind, subject, r.Binding, r.Role, r.APIGroup)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s; members of %s may use every policy\n", plural.Count(len(rows), "grant"), authorizer.GroupMasters)
			return nil
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace of the pods (default: all namespaces)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or yaml (a WhoCanReport, see docs/output.md)")
	return cmd
}

// writeWhoCanReport writes rows as a v1alpha1.WhoCanReport.
func writeWhoCanReport(cmd *cobra.Command, format, policy, namespace string, rows []v1alpha1.SubjectGrant) error {
	head := []report.Field{{Key: "policy", Value: policy}}
	if namespace != "" {
		head = append(head, report.Field{Key: "namespace", Value: namespace})
	}
	l, err := report.NewListWriter(cmd.OutOrStdout(), format, v1alpha1.TypeMeta{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.KindWhoCanReport}, head...)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := l.Item(r); err != nil {
			return err
		}
	}
	return l.Close()
}

// warnUnknownPolicy says on stderr that no policy has the name: RBAC may
// grant it, but admission has nothing to use (a typo, or a policy not yet
// created).
func warnUnknownPolicy(cmd *cobra.Command, set *engine.PolicySet, policy string) {
	if !slices.ContainsFunc(set.Policies(), func(p *policyv1.PodSecurityPolicy) bool { return p.Name == policy }) {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: there is no policy %q\n", policy)
	}
}

func bindingName(b *rbac.Binding) string {
	if b.Kind == "RoleBinding" {
		return "RoleBinding/" + b.Namespace + "/" + b.Name
	}
	return "ClusterRoleBinding/" + b.Name
}
