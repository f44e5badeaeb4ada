package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/pkg/check"
)

func newExplainCommand(name string) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "explain POD.yaml...",
		Short: "Explain, policy by policy, why a pod would be admitted or denied",
		Long: `Explain shows, for every Pod or workload in the files, each policy in the
order PodSecurityPolicy tries them: whether the requester or the pod's
ServiceAccount may use it and through which binding, what it would change,
and why it refuses. Then which policy wins and why, or, when none admits the
pod, the smallest RBAC grant or change to the pod that would.

It is the explanation the webhook returns as warnings, in full.`,
		Example: `  ` + name + ` explain examples/nginx-root.yaml
  ` + name + ` explain pod.yaml --as alice --as-group developers --policies psp/ --rbac rbac/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files, o.explainAll = append(o.files, args...), true
			return runExplain(cmd, o)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", "default", "namespace for objects that have none")
	cmd.Flags().StringVar(&o.as, "as", "kube-psp:check", "user that creates bare Pods, with the groups impersonating it gives (a ServiceAccount's groups unless --as-group; system:authenticated)")
	cmd.Flags().StringSliceVar(&o.asGroups, "as-group", nil, "group of the --as user, replacing a ServiceAccount's groups, as in kubectl (repeatable)")
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	return cmd
}

func runExplain(cmd *cobra.Command, o *checkOptions) error {
	if o.output != "text" && o.output != "json" {
		return fmt.Errorf("--output must be text or json, not %q", o.output)
	}
	results, err := o.run(cmd)
	if err != nil {
		return err
	}
	if o.output == "json" {
		return check.WriteJSON(cmd.OutOrStdout(), results)
	}
	return check.WriteExplain(cmd.OutOrStdout(), results)
}
