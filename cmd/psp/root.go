package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/pkg/version"
)

// newRootCommand builds the command tree; name is what users type, "psp" or
// "kubectl psp", and appears in every usage line, example and error.
func newRootCommand(name string, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		// cobra names a command by the first word of Use, so "kubectl psp"
		// would make every usage line "kubectl check"; the display name
		// annotation is cobra's way for kubectl plugins.
		Use:         "psp",
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: name},
		Short:       "PodSecurityPolicy, unchanged in meaning, for any Kubernetes cluster",
		Long: `kube-psp brings back Kubernetes v1.24's PodSecurityPolicy: per-workload
policies chosen by RBAC ("use" on a policy), that both default and validate a
pod's security settings, with v1.24's exact decisions and messages.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version, as many CLIs have it; `version -o json` has the details.
		Version: version.Get().String(),
	}
	root.SetVersionTemplate("kube-psp {{.Version}}\n")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newCheckCommand(name), newExplainCommand(name), newCanICommand(name), newWhoCanCommand(name), newLintCommand(name), newConvertCommand(name), newInitCommand(name), newServeCommand(name), newAuditCommand(name), newDiffCommand(name), newGenerateCommand(name), newMigrateCommand(name), newVersionCommand(version.Get))
	if strings.HasPrefix(name, "kubectl ") {
		// cobra's completion scripts register for the root's name, which
		// would replace kubectl's own completion.
		root.AddCommand(newPluginCompletionCommand())
	}
	return root
}

// warn prints warnings on stderr, one a line, as kubectl prints the
// apiserver's.
func warn(cmd *cobra.Command, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", w)
	}
}
