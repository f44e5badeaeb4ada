package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/audit"
	"github.com/kube-psp/kube-psp/pkg/check"
)

type auditOptions struct {
	connection    connectionOptions
	namespace     string
	allNamespaces bool
	identity      identityFlags
	output        string
	refusedOnly   bool
	authorization authorizationOptions
}

func newAuditCommand(name string) *cobra.Command {
	o := &auditOptions{}
	cmd := &cobra.Command{
		Use:   "audit [--kubeconfig FILE] [-n NAMESPACE | -A]",
		Short: "List the running pods of a live cluster that its current policies would refuse",
		Long: `Audit reads a live cluster's policies (the policy.kube-psp.io CRD), RBAC
and pods, and runs every pod through the admit and validate phases as if it
were created again now. Run it before switching kube-psp from --mode=warn or
audit to enforce: the pods it lists would be refused when their controller
next recreates them.

A pod a controller owns is checked as created by that controller's
ServiceAccount (a ReplicaSet's pods by system:serviceaccount:kube-system:
replicaset-controller, and so on), with the pod's own ServiceAccount, as
v1.24 decided. Who created a bare pod is not recorded on it: it is checked
as created by --as, by default an authenticated user with no grants of its
own, so that only its ServiceAccount's and everyone's grants count.

Reading the cluster fails at the first error, naming what is missing (the
apiserver, the CRD, a permission), and within --request-timeout.

Exit status: 0 when every pod would be admitted, 1 when some would be
refused, 2 on a usage or connection error.`,
		Example: `  # Every namespace, refused pods only
  ` + name + ` audit --refused-only

  # One namespace, as JSON, with bare pods created by a given user
  ` + name + ` audit -n team-a --as alice --as-group developers -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd, o)
		},
	}
	f := cmd.Flags()
	o.connection.addFlags(cmd, "", "; it bounds reading the policies and RBAC too")
	addNamespaceFlags(cmd, &o.namespace, &o.allNamespaces, false)
	o.identity.addFlags(cmd, "kube-psp:audit", "user assumed to create bare pods, with the groups impersonating it gives (a ServiceAccount's groups unless --as-group; system:authenticated)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text, json, yaml or sarif")
	f.BoolVar(&o.refusedOnly, "refused-only", false, "report only the pods that would be refused")
	o.authorization.addFlags(cmd, "")
	return cmd
}

func runAudit(cmd *cobra.Command, o *auditOptions) error {
	if err := check.CheckFormat(o.output); err != nil {
		return err
	}
	if o.allNamespaces && o.namespace != "" {
		return fmt.Errorf("give --namespace or --all-namespaces, not both")
	}
	clients, timeout, err := o.connection.connect(false)
	if err != nil {
		return err
	}
	authz, err := o.authorization.authorizer(clients.Config)
	if err != nil {
		return err
	}
	user := o.identity.user()
	results, warnings, err := audit.Run(cmd.Context(), clients.Kube, clients.Dynamic, audit.Options{Namespace: o.namespace, User: user, Authorizer: authz, Timeout: timeout})
	if err != nil {
		return err
	}
	warn(cmd, warnings)
	refused := false
	kept := results[:0]
	for _, r := range results {
		// A pod that runs against its policy counts as refused too.
		bad := !r.Admitted || len(r.Running) > 0
		refused = refused || bad
		if !o.refusedOnly || bad {
			kept = append(kept, r)
		}
	}
	if err := check.WriteReport(cmd.OutOrStdout(), o.output, v1alpha1.KindAuditReport, kept); err != nil {
		return err
	}
	if refused {
		return &exitError{code: 1}
	}
	return nil
}
