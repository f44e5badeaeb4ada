package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
)

func newExplainCommand(name string) *cobra.Command {
	o := &checkOptions{explainAll: true}
	cmd := &cobra.Command{
		Use:   "explain [-f] PATH...",
		Short: "Explain, policy by policy, why a pod would be admitted or denied",
		Long: `Explain shows, for every Pod or workload in the files, each policy in the
order PodSecurityPolicy tries them: whether the requester or the pod's
ServiceAccount may use it and through which binding, what it would change,
and why it refuses. Then which policy wins and why, or, when none admits the
pod, the smallest RBAC grant or change to the pod that would.

It is the explanation the webhook returns as warnings, in full. It takes the
input flags of check (-f, -R, -n, --as, policies and RBAC, -o); files may
also be given as arguments.

Exit status: 0, whether pods are admitted or not; 2 on a usage or input
error.`,
		Example: `  ` + name + ` explain examples/nginx-root.yaml
  ` + name + ` explain -f pod.json --as alice --as-group developers --policies psp/ --rbac rbac/
  ` + name + ` explain -f manifests/ -R -o yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = append(o.files, args...)
			if len(o.files) == 0 {
				return fmt.Errorf("give the files to explain, with -f or as arguments: %s explain -f pod.yaml", name)
			}
			return runExplain(cmd, o)
		},
	}
	o.addInputFlags(cmd)
	o.addFlags(cmd)
	return cmd
}

func runExplain(cmd *cobra.Command, o *checkOptions) error {
	return o.stream(cmd, v1alpha1.KindExplainReport)
}
