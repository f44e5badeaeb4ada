package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/internal/progress"
	"github.com/kube-psp/kube-psp/pkg/audit"
	"github.com/kube-psp/kube-psp/pkg/diff"
	"github.com/kube-psp/kube-psp/pkg/kubeclient"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/manifest"
)

type diffOptions struct {
	before, after []string
	files         []string
	recursive     bool
	namespace     string
	allNamespaces bool
	identity      identityFlags
	output        string
	failOn        string
	strict        bool
	allowEmpty    bool
	connection    connectionOptions
	authorization authorizationOptions
}

func newDiffCommand(name string) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff --before PATH|cluster|none --after PATH|cluster|none [-f PATH | --kubeconfig FILE [-n NAMESPACE | -A]]",
		Short: "Show what a change of policies or RBAC does to every workload",
		Long: `Diff checks every workload against two sets of policies and RBAC, the set
before a change and the set after it, as psp check does (the same engine,
the same pods a v1.37 apiserver hands to admission, the same identities),
and reports each workload whose outcome changes: newly denied, newly
admitted, admitted by a different policy, or given different defaults; with
both verdicts, the defaults that differ and the denial with each policy's
reasons.

--before and --after each take files and directories (repeatable; read
recursively; each may hold policies and RBAC alike), or "cluster" for the
live cluster's current policies (the policy.kube-psp.io CRD) and RBAC, read
once as psp serve --kubeconfig reads them, or "none" for no policy and no
RBAC. A path named cluster or none is written ./cluster or ./none.

The workloads are the manifests of -f (as psp check reads them), or without
-f a live cluster's: every Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job and CronJob by its pod template (except those
another of them controls), and every pod none of them controls.

Exit status: 1 when some workload becomes denied (--fail-on newly-denied,
the default) or when any workload changes (--fail-on any-change; never with
--fail-on none), 0 otherwise, 2 on a usage or input error (a document that
cannot be read is reported after the others' results). See
docs/commands/diff.md.`,
		Example: `  # What deleting eks.privileged and its binding does to the manifests
  ` + name + ` diff -f examples/ --before examples/eks --before examples/seed --after examples/seed

  # In a pull request: the policies of the main branch against the branch's
  git worktree add /tmp/base origin/main
  ` + name + ` diff -f k8s/ -R --before /tmp/base/policies --after policies -o sarif > diff.sarif

  # What applying a directory of policies and RBAC does to a live cluster's workloads
  ` + name + ` diff --before cluster --after policies/ -A`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%s diff takes manifests with -f, not arguments: %s", name, strings.Join(args, " "))
			}
			if len(o.before) == 0 || len(o.after) == 0 {
				return fmt.Errorf("%s diff needs --before and --after: files or directories of policies and RBAC, %q or %q", name, diff.ClusterSet, diff.NoneSet)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDiff(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.before, "before", nil, "policies and RBAC before the change: file or directory (repeatable), cluster or none")
	f.StringSliceVar(&o.after, "after", nil, "policies and RBAC after the change: file or directory (repeatable), cluster or none")
	f.StringSliceVarP(&o.files, "filename", "f", nil, "manifest file or directory, or - for standard input (repeatable); without it, the live cluster's workloads")
	f.BoolVarP(&o.recursive, "recursive", "R", false, "read -f directories recursively")
	addNamespaceFlags(cmd, &o.namespace, &o.allNamespaces, true)
	o.identity.addFlags(cmd, "kube-psp:diff", "user that creates bare Pods, with the groups impersonating it gives (a ServiceAccount's groups unless --as-group; system:authenticated)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text, json, yaml (a DiffReport of report.kube-psp.io/v1alpha1) or sarif (one result per changed workload)")
	f.StringVar(&o.failOn, "fail-on", "newly-denied", "exit 1 when some workload becomes denied (newly-denied), when any workload changes (any-change), or never (none)")
	f.BoolVar(&o.strict, "strict", false, "refuse unknown and duplicate fields in policies, RBAC and manifests instead of warning")
	f.BoolVar(&o.allowEmpty, "allow-empty", false, "succeed when there is no workload to compare (an error otherwise)")
	f.StringVar(&o.connection.kubeconfig, "kubeconfig", "", "kubeconfig file, for cluster sets and workloads (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.connection.context, "context", "", "kubeconfig context (default: the current one)")
	o.connection.addRequestTimeoutFlag(cmd, "; it bounds reading the policies and RBAC too")
	o.authorization.addFlags(cmd, "for --before or --after cluster: ")
	// The keywords, and files and directories as the shell completes them.
	sets := cobra.FixedCompletions([]string{diff.ClusterSet, diff.NoneSet}, cobra.ShellCompDirectiveDefault)
	_ = cmd.RegisterFlagCompletionFunc("before", sets)
	_ = cmd.RegisterFlagCompletionFunc("after", sets)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json", "yaml", "sarif"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"newly-denied", "any-change", "none"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runDiff(cmd *cobra.Command, o *diffOptions) error {
	switch o.output {
	case "text", "json", "yaml", "sarif":
	default:
		return fmt.Errorf("--output must be text, json, yaml or sarif, not %q", o.output)
	}
	if !slices.Contains([]string{"newly-denied", "any-change", "none"}, o.failOn) {
		return fmt.Errorf("--fail-on must be newly-denied, any-change or none, not %q", o.failOn)
	}
	if err := stdinOnce(o.files, "--before", o.before, "--after", o.after); err != nil {
		return err
	}
	if slices.Contains(o.before, "-") && slices.Contains(o.after, "-") {
		return fmt.Errorf("--after -: standard input is already --before; give one set as a file")
	}
	beforeSource, err := diff.ParseSetSource(o.before)
	if err != nil {
		return fmt.Errorf("--before: %w", err)
	}
	afterSource, err := diff.ParseSetSource(o.after)
	if err != nil {
		return fmt.Errorf("--after: %w", err)
	}
	if beforeSource.Cluster && afterSource.Cluster {
		return fmt.Errorf("--before and --after are both the cluster: there is nothing to compare")
	}
	fromCluster := len(o.files) == 0
	if !fromCluster && o.allNamespaces {
		return fmt.Errorf("--all-namespaces reads a cluster's workloads; it cannot be combined with -f")
	}
	if o.allNamespaces && o.namespace != "" {
		return fmt.Errorf("give --namespace or --all-namespaces, not both")
	}
	// Flags that would be ignored are an error rather than passed over.
	clusterSet := beforeSource.Cluster || afterSource.Cluster
	needCluster := fromCluster || clusterSet
	for _, f := range []string{"kubeconfig", "context", "request-timeout", "authorization", "sar-cache-ttl", "sar-cache-size", "sar-timeout", "sar-concurrency", "sar-qps", "sar-burst"} {
		switch {
		case !cmd.Flags().Changed(f):
		case !needCluster:
			return fmt.Errorf("--%s is for reading a cluster: its workloads (without -f) or its set (--before or --after cluster)", f)
		case !clusterSet && (f == "authorization" || strings.HasPrefix(f, "sar-")):
			return fmt.Errorf("--%s is for the cluster's set (--before or --after cluster)", f)
		}
	}
	var clients *kubeclient.Clients
	var timeout time.Duration
	if needCluster {
		if clients, timeout, err = o.connection.connect(false); err != nil {
			return err
		}
	}
	load := func(flag string, src diff.SetSource) (diff.Set, error) {
		if src.Cluster {
			authz, err := o.authorization.authorizer(clients.Config)
			if err != nil {
				return diff.Set{}, err
			}
			snap, err := audit.ReadPolicies(cmd.Context(), clients.Kube, clients.Dynamic, authz, timeout)
			if err != nil {
				return diff.Set{}, err
			}
			warn(cmd, prefixed(flag, snap.Warnings))
			return diff.FromSnapshot(diff.ClusterSet, snap), nil
		}
		s, warnings, err := src.Load(loader.Options{Strict: o.strict, Stdin: cmd.InOrStdin()})
		if err != nil {
			return diff.Set{}, fmt.Errorf("%s: %w", flag, err)
		}
		warn(cmd, prefixed(flag, warnings))
		return s, nil
	}
	before, err := load("--before", beforeSource)
	if err != nil {
		return err
	}
	after, err := load("--after", afterSource)
	if err != nil {
		return err
	}

	var workloads []manifest.Workload
	var bad []error
	if fromCluster {
		if workloads, err = diff.ClusterWorkloads(cmd.Context(), clients.Kube, o.namespace); err != nil {
			return err
		}
		if len(workloads) == 0 && !o.allowEmpty {
			return fmt.Errorf("no workloads to compare: the cluster has no pods or workloads %s; --allow-empty accepts that", inNamespace(o.namespace))
		}
	} else {
		ns := o.namespace
		if ns == "" {
			ns = "default"
		}
		in, err := manifest.ReadAll(o.files, cmd.InOrStdin(), manifest.Options{Recursive: o.recursive, DefaultNamespace: ns, Strict: o.strict, PolicyPaths: slices.Concat(o.before, o.after)})
		if err != nil {
			return err
		}
		warn(cmd, in.Warnings)
		if len(in.Workloads) == 0 && len(in.Errors) == 0 && !o.allowEmpty {
			return noWorkloads(in, o.files, "compare", true)
		}
		workloads, bad = in.Workloads, in.Errors
	}

	p := progress.Start(cmd.ErrOrStderr())
	report, err := diff.Run(cmd.Context(), before, after, workloads, diff.Options{User: o.identity.user(), Progress: p.Update})
	p.Finish()
	if err != nil {
		return err
	}
	switch o.output {
	case "json":
		err = diff.WriteJSON(cmd.OutOrStdout(), report)
	case "yaml":
		err = diff.WriteYAML(cmd.OutOrStdout(), report)
	case "sarif":
		err = diff.WriteSARIF(cmd.OutOrStdout(), report)
	default:
		err = diff.WriteText(cmd.OutOrStdout(), report)
	}
	if err != nil {
		return err
	}
	if err := badDocuments(cmd, bad); err != nil {
		return err
	}
	if (o.failOn == "newly-denied" && report.Count(diff.NewlyDenied) > 0) || (o.failOn == "any-change" && len(report.Differences) > 0) {
		return &exitError{code: 1}
	}
	return nil
}

func prefixed(prefix string, lines []string) []string {
	out := slices.Clone(lines)
	for i := range out {
		out[i] = prefix + ": " + out[i]
	}
	return out
}

func inNamespace(ns string) string {
	if ns == "" {
		return "in any namespace"
	}
	return "in namespace " + ns
}
