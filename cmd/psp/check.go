package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/source"
)

type checkOptions struct {
	files      []string
	recursive  bool
	explainAll bool
	sourceOptions
	namespace string
	as        string
	asGroups  []string
	output    string
}

// sourceOptions choose where policies and RBAC come from.
type sourceOptions struct {
	policies []string
	rbac     []string
	preset   string
	strict   bool
}

func (o *sourceOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&o.policies, "policies", nil, "PodSecurityPolicy file or directory (repeatable); replaces the built-in presets")
	cmd.Flags().StringSliceVar(&o.rbac, "rbac", nil, "RBAC file or directory (Roles, ClusterRoles and their bindings; repeatable)")
	cmd.Flags().StringVar(&o.preset, "preset", "restricted", "built-in policies to use without --policies: "+strings.Join(presets.Names, ", ")+
		" (all three are loaded; the named one is granted to system:authenticated)")
	cmd.Flags().BoolVar(&o.strict, "strict", false, "refuse unknown fields in policies and RBAC instead of warning")
}

// load returns what was read and the policies and RBAC to decide with,
// after printing the load warnings on stderr.
func (o *sourceOptions) load(cmd *cobra.Command) (*loader.Result, *source.Snapshot, error) {
	res, snap, warnings, err := o.read(cmd)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", w)
	}
	return res, snap, nil
}

// read reads policies and RBAC from the flags: the files, or the preset.
func (o *sourceOptions) read(cmd *cobra.Command) (*loader.Result, *source.Snapshot, []string, error) {
	var res *loader.Result
	var err error
	if len(o.policies) == 0 && len(o.rbac) == 0 {
		res, err = presets.Load(o.preset)
	} else {
		if cmd.Flags().Changed("preset") {
			return nil, nil, nil, fmt.Errorf("--preset cannot be combined with --policies or --rbac")
		}
		res, err = loader.Load(append(append([]string{}, o.policies...), o.rbac...), loader.Options{Strict: o.strict})
	}
	if err != nil {
		return nil, nil, nil, err
	}
	snap, err := source.Build(res, "")
	if err != nil {
		return nil, nil, nil, err
	}
	warnings := snap.Warnings
	if len(o.policies) > 0 && len(o.rbac) == 0 {
		warnings = append(warnings, "no --rbac given: nobody may use any policy (except members of system:masters)")
	}
	return res, snap, warnings, nil
}

func newCheckCommand(name string) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check -f PATH...",
		Short: "Check which policy would admit the pods of manifests, and how it would change them",
		Long: `Check runs every Pod, and the pod template of every Deployment, StatefulSet,
DaemonSet, ReplicaSet, ReplicationController, Job, CronJob and PodTemplate,
through the admit and then the validate phase of PodSecurityPolicy, as the
cluster would.

The pods of a workload are created by its controller, so the requesting user
is the controller's ServiceAccount (system:serviceaccount:kube-system:
replicaset-controller for Deployments and ReplicaSets, statefulset-controller,
daemon-set-controller, replication-controller, and job-controller for Jobs and
CronJobs); bare Pods and PodTemplates are created by --as, with the groups
the apiserver's impersonation gives it (kubectl --as). Each pod is first made
what a v1.37 apiserver hands to admission: the controller's pod (a
StatefulSet's claim volumes), the v1 defaults PodSecurityPolicy depends on
(hostPort from containerPort with hostNetwork, the serviceAccount alias, ...)
and the ServiceAccount admission plugin (ServiceAccount "default", the
projected token volume); docs/commands/check.md lists every step and what
cannot be known offline.

Without --policies and --rbac, the built-in policies are used (see --preset).

Exit status: 0 when every pod is admitted, 1 when some is denied, 2 on a
usage or input error.`,
		Example: `  # Check the examples against the built-in restricted preset
  ` + name + ` check -f examples/

  # Check a chart's output against your cluster's exported policies and RBAC
  helm template ./chart | ` + name + ` check -f - --policies psp/ --rbac rbac/ -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd, o)
		},
	}
	cmd.Flags().StringSliceVarP(&o.files, "filename", "f", nil, "manifest file or directory, or - for standard input (repeatable)")
	cmd.Flags().BoolVarP(&o.recursive, "recursive", "R", false, "read directories recursively")
	o.addFlags(cmd)
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", "default", "namespace for objects that have none")
	cmd.Flags().StringVar(&o.as, "as", "kube-psp:check", "user that creates bare Pods, with the groups impersonating it gives (a ServiceAccount's groups unless --as-group; system:authenticated)")
	cmd.Flags().StringSliceVar(&o.asGroups, "as-group", nil, "group of the --as user, replacing a ServiceAccount's groups, as in kubectl (repeatable)")
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text, json, yaml or sarif (one result per denied workload, at its document)")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

func runCheck(cmd *cobra.Command, o *checkOptions) error {
	if err := checkResultsFormat(o.output); err != nil {
		return err
	}
	results, err := o.run(cmd)
	if err != nil {
		return err
	}
	if err := writeResults(cmd, o.output, results); err != nil {
		return err
	}
	for _, r := range results {
		if !r.Admitted {
			return &exitError{code: 1}
		}
	}
	return nil
}

// run loads policies, RBAC and manifests and checks every workload.
func (o *checkOptions) run(cmd *cobra.Command) ([]check.Result, error) {
	_, snap, err := o.load(cmd)
	if err != nil {
		return nil, err
	}
	workloads, err := manifest.Read(o.files, cmd.InOrStdin(), manifest.Options{Recursive: o.recursive, DefaultNamespace: o.namespace})
	if err != nil {
		return nil, err
	}
	user := authorizer.Impersonate(o.as, o.asGroups)
	p := startProgress(cmd.ErrOrStderr())
	defer p.finish()
	return check.Run(cmd.Context(), snap.Policies, snap.Authorizer, workloads, check.Options{User: user, Progress: p.update, ExplainAll: o.explainAll})
}

// checkResultsFormat refuses an --output that writeResults cannot write.
func checkResultsFormat(format string) error {
	switch format {
	case "text", "json", "yaml", "sarif":
		return nil
	}
	return fmt.Errorf("--output must be text, json, yaml or sarif, not %q", format)
}

// writeResults writes check results (of check and audit) in a format
// checkResultsFormat accepts.
func writeResults(cmd *cobra.Command, format string, results []check.Result) error {
	switch format {
	case "json":
		return check.WriteJSON(cmd.OutOrStdout(), results)
	case "yaml":
		return check.WriteYAML(cmd.OutOrStdout(), results)
	case "sarif":
		return check.WriteSARIF(cmd.OutOrStdout(), results)
	}
	return check.WriteText(cmd.OutOrStdout(), results)
}
