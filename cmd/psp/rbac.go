package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/pkg/access"
	"github.com/kube-psp/kube-psp/pkg/source"
)

func newCanICommand(name string) *cobra.Command {
	o := &sourceOptions{}
	var identity identityFlags
	var serviceAccount, namespace string
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
			policy, err := access.ParseUseArgs(args)
			if err != nil {
				return err
			}
			subject := access.Subject{ServiceAccount: serviceAccount}
			if identity.given() {
				user := identity.user()
				subject.User = &user
			}
			user, namespace, err := subject.Identity(namespace)
			if err != nil {
				return err
			}
			_, snap, err := o.load(cmd)
			if err != nil {
				return err
			}
			warnUnknownPolicy(cmd, snap, policy)
			allowed, reason := access.CanI(cmd.Context(), snap.Authorizer, user, namespace, policy)
			answer := map[bool]string{true: "yes", false: "no"}[allowed]
			fmt.Fprintln(cmd.OutOrStdout(), answer)
			if why {
				fmt.Fprintln(cmd.ErrOrStderr(), reason)
			}
			if !allowed {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	o.addFlags(cmd)
	identity.addFlags(cmd, "", "user to check")
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
			policy, err := access.ParseUseArgs(args)
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
			warnUnknownPolicy(cmd, snap, policy)
			grantees := access.WhoCan(snap.RBAC(), namespace, policy)
			if output != "text" {
				return access.WriteReport(cmd.OutOrStdout(), output, policy, namespace, grantees)
			}
			return access.WriteTable(cmd.OutOrStdout(), grantees)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace of the pods (default: all namespaces)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or yaml (a WhoCanReport, see docs/output.md)")
	return cmd
}

// warnUnknownPolicy says on stderr that no policy has the name.
func warnUnknownPolicy(cmd *cobra.Command, snap *source.Snapshot, policy string) {
	if w := access.UnknownPolicy(snap.Policies.Policies(), policy); w != "" {
		warn(cmd, []string{w})
	}
}
