package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/generate"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/manifest"
)

type generateOptions struct {
	files         []string
	recursive     bool
	namespace     string
	allNamespaces bool
	connection    connectionOptions
	identity      identityFlags
	groupBy       string
	namePrefix    string
	apiVersion    string
	output        string
	policies      []string
	rbac          []string
	strict        bool
	verify        bool
}

func newGenerateCommand(name string) *cobra.Command {
	o := &generateOptions{}
	cmd := &cobra.Command{
		Use:   "generate (-f PATH... | [--kubeconfig FILE] [-n NAMESPACE | -A])",
		Short: "Write least-privilege policies and their grants from what workloads use, proven by checking them",
		Long: `Generate writes, for each identity PodSecurityPolicy authorizes (by default
each pod's ServiceAccount; --group-by), the tightest policy that admits its
pods unchanged, field by field over every control, with a ClusterRole that
grants "use" of it and a RoleBinding to each ServiceAccount. Identical
policies are merged. The output is YAML for kubectl apply, with a comment per
policy naming the workloads it was made for (-o json: a v1 List).

Workloads come from manifests (-f: every kind check reads, -R, - for
standard input) or from a live cluster (without -f: its Deployments,
StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs,
CronJobs and the pods none of them controls, read as psp audit reads them).
Each pod is first made what a v1.37 apiserver hands to admission, as in
psp check.

Before printing, generate proves the result: it runs psp check with the
generated policies and grants plus the existing ones (--policies and
--rbac; on a cluster, also the cluster's), and every workload must be
admitted unchanged by its own policy. A workload that is not (another usable
policy sorts first and admits it, ...) is named on standard error with the
reason. --verify instead proves existing policies (--policies, --rbac)
against the workloads, without generating; a workload no policy was
generated for is reported NO OWN POLICY, not counted as proven.

Exit status: 0 when every workload is admitted unchanged by its own policy
(the policies are printed; with --verify, or by any policy when it has
none), 1 when some is not (the policies are printed all the same, and the
workloads named), 2 on a usage, input or connection error, including a pod
the apiserver refuses as written.`,
		Example: `  # Policies for the workloads of a directory of manifests
  ` + name + ` generate -f k8s/ -R > policies.yaml

  # ... for a live cluster's workloads, one policy per namespace
  ` + name + ` generate -A --group-by namespace

  # ... proven together with the policies and RBAC already in use
  ` + name + ` generate -f k8s/ --policies psp/ --rbac rbac/

  # Check later that the applied policies still admit the workloads unchanged
  ` + name + ` generate --verify -f k8s/ --policies policies.yaml --rbac policies.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%s generate takes files with -f: %s generate -f %s", name, name, strings.Join(args, " -f "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGenerate(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.files, "filename", "f", nil, "manifest file or directory, or - for standard input (repeatable); without it, the workloads of the cluster")
	f.BoolVarP(&o.recursive, "recursive", "R", false, "read directories recursively")
	addNamespaceFlags(cmd, &o.namespace, &o.allNamespaces, true)
	f.StringVar(&o.connection.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.connection.context, "context", "", "kubeconfig context (default: the current one)")
	o.connection.addRequestTimeoutFlag(cmd, "")
	o.identity.addFlags(cmd, "kube-psp:generate", "user that creates bare Pods, with the groups impersonating it gives, for the proof")
	f.StringVar(&o.groupBy, "group-by", string(generate.GroupByServiceAccount), "one policy per: serviceaccount, namespace or workload")
	f.StringVar(&o.namePrefix, "name-prefix", generate.DefaultNamePrefix, "start of every policy's name: PREFIX+NAMESPACE.SERVICEACCOUNT, PREFIX+NAMESPACE, PREFIX+NAMESPACE.KIND.NAME, or PREFIX+shared-HASH for a policy several identities share")
	f.StringVar(&o.apiVersion, "api-version", policyv1.APIVersion, "apiVersion of the policies: "+policyv1.APIVersion+" or "+policyv1.LegacyPolicyAPIVersion)
	f.StringVarP(&o.output, "output", "o", "", "output format: yaml (default) or json; with --verify, text (default), json or yaml")
	f.StringSliceVar(&o.policies, "policies", nil, "existing PodSecurityPolicy file or directory to prove with (repeatable)")
	f.StringSliceVar(&o.rbac, "rbac", nil, "existing RBAC file or directory to prove with (repeatable)")
	f.BoolVar(&o.strict, "strict", false, "refuse unknown and duplicate fields in manifests, policies and RBAC instead of warning")
	all := generate.GroupBys()
	groupBys := make([]string, len(all))
	for i, g := range all {
		groupBys[i] = string(g)
	}
	_ = cmd.RegisterFlagCompletionFunc("group-by", cobra.FixedCompletions(groupBys, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("api-version", cobra.FixedCompletions([]string{policyv1.APIVersion, policyv1.LegacyPolicyAPIVersion}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"yaml", "json", "text"}, cobra.ShellCompDirectiveNoFileComp))
	f.BoolVar(&o.verify, "verify", false, "generate nothing: prove the existing policies (--policies and --rbac; on a cluster, also the cluster's) against the workloads")
	return cmd
}

func runGenerate(cmd *cobra.Command, o *generateOptions) error {
	fromCluster := len(o.files) == 0
	switch {
	case o.verify && o.output != "" && o.output != "text" && o.output != "json" && o.output != "yaml":
		return fmt.Errorf("--output must be text, json or yaml with --verify, not %q", o.output)
	case !o.verify && o.output != "" && o.output != "yaml" && o.output != "json":
		return fmt.Errorf("--output must be yaml or json, not %q", o.output)
	case o.allNamespaces && o.namespace != "" && fromCluster:
		return fmt.Errorf("give --namespace or --all-namespaces, not both")
	case !fromCluster && (o.allNamespaces || cmd.Flags().Changed("kubeconfig") || cmd.Flags().Changed("context")):
		return fmt.Errorf("-f reads manifests: --all-namespaces, --kubeconfig and --context read a cluster instead")
	case o.verify && !fromCluster && len(o.policies) == 0:
		return fmt.Errorf("--verify proves existing policies: give them with --policies (and their grants with --rbac)")
	}
	workloads, existing, err := o.input(cmd)
	if err != nil {
		return err
	}
	user := o.identity.user()
	if o.verify {
		findings, warnings, err := generate.Verify(cmd.Context(), workloads, existing, user)
		if err != nil {
			return err
		}
		warn(cmd, warnings)
		switch o.output {
		case "json":
			err = generate.WriteFindingsJSON(cmd.OutOrStdout(), findings)
		case "yaml":
			err = generate.WriteFindingsYAML(cmd.OutOrStdout(), findings)
		default:
			err = generate.WriteFindings(cmd.OutOrStdout(), findings, true)
		}
		if err != nil {
			return err
		}
		return proofExit(findings)
	}
	res, err := generate.Generate(workloads, generate.Options{GroupBy: generate.GroupBy(o.groupBy), NamePrefix: o.namePrefix, APIVersion: o.apiVersion})
	if err != nil {
		return err
	}
	findings, warnings, err := generate.Prove(cmd.Context(), res, generate.ProveOptions{Existing: existing, User: user})
	if err != nil {
		return err
	}
	for _, p := range res.Policies {
		warn(cmd, p.Warnings)
	}
	warn(cmd, warnings)
	if o.output == "json" {
		err = generate.WriteJSON(cmd.OutOrStdout(), res)
	} else {
		err = generate.WriteYAML(cmd.OutOrStdout(), res)
	}
	if err != nil {
		return err
	}
	if err := generate.WriteFindings(cmd.ErrOrStderr(), findings, false); err != nil {
		return err
	}
	return proofExit(findings)
}

// input reads the workloads and the existing policies and RBAC, from files
// or the cluster.
func (o *generateOptions) input(cmd *cobra.Command) ([]manifest.Workload, *loader.PoliciesAndRBAC, error) {
	var existing *loader.PoliciesAndRBAC
	if len(o.policies) > 0 || len(o.rbac) > 0 {
		var err error
		if err = stdinOnce(o.files, "--policies", o.policies, "--rbac", o.rbac); err != nil {
			return nil, nil, err
		}
		if existing, err = loader.LoadPoliciesAndRBAC(o.policies, o.rbac, loader.Options{Strict: o.strict, Stdin: cmd.InOrStdin()}); err != nil {
			return nil, nil, err
		}
		if !o.verify { // Verify reports them with the snapshot's
			warn(cmd, existing.Warnings)
		}
	}
	if len(o.files) == 0 {
		clients, _, err := o.connection.connect(false)
		if err != nil {
			return nil, nil, err
		}
		in, err := generate.ReadCluster(cmd.Context(), clients.Kube, clients.Dynamic, o.namespace)
		if err != nil {
			return nil, nil, err
		}
		warn(cmd, in.Warnings)
		if len(in.Workloads) == 0 {
			where := "the cluster"
			if o.namespace != "" {
				where = "namespace " + o.namespace
			}
			return nil, nil, fmt.Errorf("no workloads in %s", where)
		}
		return in.Workloads, generate.JoinExisting(in.Existing, existing), nil
	}
	in, err := manifest.ReadAll(o.files, cmd.InOrStdin(), manifest.Options{Recursive: o.recursive, DefaultNamespace: o.namespace, Strict: o.strict, PolicyPaths: slices.Concat(o.policies, o.rbac)})
	if err != nil {
		return nil, nil, err
	}
	warn(cmd, in.Warnings)
	if err := badDocuments(cmd, in.Errors); err != nil {
		return nil, nil, err
	}
	if len(in.Workloads) == 0 {
		return nil, nil, noWorkloads(in, o.files, "generate policies for", false)
	}
	return in.Workloads, existing, nil
}

func proofExit(findings []generate.Finding) error {
	if generate.ProofFailed(findings) > 0 {
		return &exitError{code: 1}
	}
	return nil
}
