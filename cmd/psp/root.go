package main

import (
	"io"

	"github.com/spf13/cobra"
)

func newRootCommand(name string, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   name,
		Short: "PodSecurityPolicy, unchanged in meaning, for any Kubernetes cluster",
		Long: `kube-psp brings back Kubernetes v1.24's PodSecurityPolicy: per-workload
policies chosen by RBAC ("use" on a policy), that both default and validate a
pod's security settings, with v1.24's exact decisions and messages.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newCheckCommand(name), newExplainCommand(name), newCanICommand(name), newWhoCanCommand(name), newLintCommand(name), newConvertCommand(name), newInitCommand(name), newServeCommand(name), newAuditCommand(name))
	return root
}
