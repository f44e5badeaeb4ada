package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/internal/kubectlplugin"
	"github.com/kube-psp/kube-psp/pkg/version"
)

// newVersionCommand prints the build that get describes (version.Get, or a
// fixed one in tests).
func newVersionCommand(get func() version.Info) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version [-o text|json|yaml]",
		Short: "Print the version, commit and Go version of this binary",
		Long: `Version prints the module version and the VCS commit that the Go toolchain
recorded in this binary, and the Go version and platform that built it.
A binary built by go run or outside a git checkout has version "devel"
and no commit; one built from a tree with uncommitted changes says dirty.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return version.Write(cmd.OutOrStdout(), get(), output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or yaml")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(version.Formats(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// newPluginCompletionCommand replaces cobra's completion command when the
// binary runs as kubectl psp: kubectl's own completion script completes
// plugins, through kubectl_complete-psp.
func newPluginCompletionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "completion [bash|zsh|fish|powershell]",
		Short: "Print kubectl_complete-psp, which kubectl runs to complete kubectl psp",
		Long: `kubectl's own shell completion (kubectl completion bash|zsh|fish|powershell)
completes plugins: from kubectl v1.26 on, for "kubectl psp <TAB>" it runs the
executable kubectl_complete-psp found on the PATH. This command prints that
executable as a shell script; instead, a link to or a copy of kubectl-psp
named kubectl_complete-psp (kubectl_complete-psp.exe on Windows) does the
same, as kube-psp completes when started under that name.

Nothing else is needed: do not source a completion script for kubectl psp,
which would replace kubectl's own. The shell named, if any, does not matter:
kubectl, not the shell, runs kubectl_complete-psp.`,
		Example: `  kubectl psp completion > ~/.local/bin/kubectl_complete-psp && chmod +x ~/.local/bin/kubectl_complete-psp
  # or
  ln -s "$(command -v kubectl-psp)" "$(dirname "$(command -v kubectl-psp)")/kubectl_complete-psp"`,
		Args:      cobra.MatchAll(cobra.MaximumNArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), kubectlplugin.CompletionScript)
			return err
		},
	}
}
