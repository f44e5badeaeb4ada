package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kube-psp/kube-psp/internal/plural"
	"github.com/kube-psp/kube-psp/pkg/audit"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/migrate"
)

func newMigrateCommand(name string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Plan the move from PodSecurityPolicy to another admission mechanism",
		Long:  `Migrate plans the move of namespaces from PodSecurityPolicy to another mechanism; see its subcommands.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newMigratePSSCommand(name))
	return cmd
}

type migratePSSOptions struct {
	// checkOptions read manifests, policies and RBAC, as psp check.
	checkOptions
	// cluster reads a live cluster instead, as psp audit.
	cluster struct {
		connection    connectionOptions
		allNamespaces bool
		authorization authorizationOptions
	}
	version string
	apply   bool
}

func newMigratePSSCommand(name string) *cobra.Command {
	o := &migratePSSOptions{}
	cmd := &cobra.Command{
		Use:   "pss [-f PATH... | --kubeconfig FILE] [-n NAMESPACE | -A]",
		Short: "Propose Pod Security Admission labels for each namespace, from what its policies admit today",
		Long: `Migrate pss proposes, for each namespace, the Pod Security Admission labels
that admit every pod PodSecurityPolicy admits today: the most restrictive
Pod Security Standards level (restricted, baseline, privileged; at
--version) that admits each pod as its policy admits it, after the policy's
defaults. The levels are computed by k8s.io/pod-security-admission's own
evaluator, the code kube-apiserver's PodSecurity plugin runs.

Pod Security Admission only validates: it never sets a field. The report
lists the pods that pass the proposed level only because their policy
defaults fields today (runAsNonRoot, dropped capabilities, a seccomp
profile, ...), with the fewest of those fields to write into their
manifests, as the path in the manifest (a Deployment's
spec.template.spec...) and the value; and the pods only privileged admits,
with the baseline checks they fail. warn and audit are proposed one level
stricter than enforce, so the pods that keep a namespace below restricted
are reported as they are created.

Input is manifests (-f, as psp check reads them, with --policies and
--rbac or a --preset), or else a live cluster (as psp audit reads it; -n
then chooses the namespace). On a cluster, a pod a controller owns is
judged by its controller's template (a Deployment's, a CronJob's), as
its next pod is created; a bare pod as it runs, which already carries its
policy's defaults: check its manifest with -f to see whether it depends on
them.

The labels a namespace has today (Namespace objects of -f input, or the
live namespaces) are shown; only those that differ are proposed, and a
proposal stricter than an explicit enforce label says "tightens enforce
from X to Y", on stderr too.

--apply (live cluster only) sets the labels, each namespace after a
server-side dry run of the same change (kubectl label --dry-run=server): a
namespace whose dry run warns that the new enforce level would refuse
running pods keeps its labels, and the exit status is 1.

A workload PodSecurityPolicy denies today counts too, judged as written
(its manifest, without any policy's defaults), and is reported as denied
by PodSecurityPolicy today: a namespace is never proposed a level stricter
than its workloads need because PodSecurityPolicy refuses them now.

Exit status: 0 on success, 1 when some workload is denied by
PodSecurityPolicy today (stderr names the namespaces) or --apply left a
namespace unlabelled, 2 on a usage, input or connection error.`,
		Example: `  # The examples, with the built-in policies
  ` + name + ` migrate pss -f examples/

  # The kubectl label commands for your manifests and exported policies and RBAC
  ` + name + ` migrate pss -f k8s/ --policies psp/ --rbac rbac/ -o commands

  # The live cluster: review, then apply
  ` + name + ` migrate pss -A
  ` + name + ` migrate pss -A --apply`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMigratePSS(cmd, o)
		},
	}
	o.addInputFlags(cmd)
	o.addFlags(cmd)
	f := cmd.Flags()
	f.Lookup("output").Usage = "output format: text, json, yaml, commands (kubectl label, one per namespace) or patch (Namespace objects with the labels, for kubectl apply --server-side -f -)"
	o.cluster.connection.addFlags(cmd, " of the live cluster to read instead of -f", "; it bounds reading the policies and RBAC too")
	addNamespaceFlags(cmd, &o.namespace, &o.cluster.allNamespaces, true)
	f.StringVar(&o.version, "version", "latest", `Pod Security Standards version: "latest" or "v1.N" up to v1.`+strconv.Itoa(migrate.LatestKnownMinor)+`, written to the *-version labels`)
	f.BoolVar(&o.apply, "apply", false, "set the labels on the live cluster, each namespace after a server-side dry run that must not warn of refused running pods")
	o.cluster.authorization.addFlags(cmd, "on a cluster, ")
	return cmd
}

func runMigratePSS(cmd *cobra.Command, o *migratePSSOptions) error {
	switch o.output {
	case "text", "json", "yaml", "commands", "patch":
	default:
		return fmt.Errorf("--output must be text, json, yaml, commands or patch, not %q", o.output)
	}
	std, err := migrate.NewStandards(o.version)
	if err != nil {
		return fmt.Errorf("--version: %w", err)
	}
	live := len(o.files) == 0
	if err := o.validateInput(cmd, live); err != nil {
		return err
	}
	if !live {
		var results []check.Verdict
		in, err := o.check(cmd, func(v check.Verdict) error {
			results = append(results, v)
			return nil
		})
		if err != nil {
			return err
		}
		plan, err := migrate.Build(results, std)
		if err != nil {
			return err
		}
		current := map[string]map[string]string{}
		for name, ns := range in.Namespaces {
			current[name] = ns.Labels
		}
		plan.SetCurrent(current)
		if err := writePlan(cmd, o.output, plan); err != nil {
			return err
		}
		if err := badDocuments(cmd, in.Errors); err != nil {
			return err
		}
		return deniedToday(cmd, plan)
	}
	clients, timeout, err := o.cluster.connection.connect(false)
	if err != nil {
		return err
	}
	authz, err := o.cluster.authorization.authorizer(clients.Config)
	if err != nil {
		return err
	}
	namespace := ""
	if cmd.Flags().Changed("namespace") {
		namespace = o.namespace
	}
	results, warnings, err := migrate.ReadCluster(cmd.Context(), clients.Kube, clients.Dynamic,
		audit.Options{Namespace: namespace, User: o.identity.user(), Authorizer: authz, Timeout: timeout})
	if err != nil {
		return err
	}
	warn(cmd, warnings)
	plan, err := migrate.Build(results, std)
	if err != nil {
		return err
	}
	current, warnings, err := migrate.ReadNamespaceLabels(cmd.Context(), clients.Kube, plan, timeout)
	if err != nil {
		return err
	}
	warn(cmd, warnings)
	plan.SetCurrent(current)
	if err := writePlan(cmd, o.output, plan); err != nil {
		return err
	}
	if !o.apply {
		return deniedToday(cmd, plan)
	}
	applied, err := migrate.Apply(cmd.Context(), clients.Config, plan)
	writeApplied(cmd, applied)
	if err != nil {
		return err
	}
	for _, a := range applied {
		if !a.Applied {
			return &exitError{code: 1}
		}
	}
	return deniedToday(cmd, plan)
}

// deniedToday says on stderr, and with exit status 1 as psp check does,
// that the plan counts workloads PodSecurityPolicy denies today, judged as
// written: no policy vouches for them, so the operator decides.
func deniedToday(cmd *cobra.Command, plan *migrate.Plan) error {
	var names []string
	for _, n := range plan.Namespaces {
		if c := n.Count(); c.Denied > 0 {
			names = append(names, fmt.Sprintf("%s (%d)", n.Name, c.Denied))
		}
	}
	if len(names) == 0 {
		return nil
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s denied by PodSecurityPolicy today, in namespace %s: the proposed levels admit them as PodSecurity will see them without any policy (a manifest as written, a bare pod as it runs); review them before applying the labels\n",
		plural.Count(plan.Denied(), "workload"), strings.Join(names, ", "))
	return &exitError{code: 1}
}

// validateInput refuses flags of the other input: manifests or a cluster.
func (o *migratePSSOptions) validateInput(cmd *cobra.Command, live bool) error {
	changed := func(names ...string) string {
		for _, n := range names {
			if cmd.Flags().Changed(n) {
				return "--" + n
			}
		}
		return ""
	}
	if live {
		if f := changed("policies", "rbac", "preset", "recursive", "allow-empty", "strict"); f != "" {
			return fmt.Errorf("%s needs manifests (-f); on a cluster the policies and RBAC are the cluster's", f)
		}
		if o.cluster.allNamespaces && cmd.Flags().Changed("namespace") {
			return fmt.Errorf("give --namespace or --all-namespaces, not both")
		}
		return nil
	}
	liveFlags := []string{"kubeconfig", "context", "request-timeout", "all-namespaces", "apply", "authorization"}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if strings.HasPrefix(f.Name, "sar-") {
			liveFlags = append(liveFlags, f.Name)
		}
	})
	if f := changed(liveFlags...); f != "" {
		return fmt.Errorf("%s is for a live cluster, not for manifests (-f)", f)
	}
	return nil
}

// writePlan writes the plan to stdout, and to stderr each namespace whose
// explicit enforce label the plan tightens, whatever the format.
func writePlan(cmd *cobra.Command, format string, plan *migrate.Plan) error {
	for _, n := range plan.Namespaces {
		if from := n.Tightens(); from != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "warning: namespace %s: tightens enforce from %s to %s, which the namespace has explicitly today\n", n.Name, from, n.Enforce)
		}
	}
	w := cmd.OutOrStdout()
	switch format {
	case "json":
		return migrate.WriteJSON(w, plan)
	case "yaml":
		return migrate.WriteYAML(w, plan)
	case "commands":
		return migrate.WriteCommands(w, plan)
	case "patch":
		return migrate.WritePatch(w, plan)
	}
	return migrate.WriteText(w, plan)
}

// writeApplied says on stderr what --apply did, so that stdout stays the report.
func writeApplied(cmd *cobra.Command, applied []migrate.Applied) {
	for _, a := range applied {
		keys := make([]string, len(a.Labels))
		for i, l := range a.Labels {
			keys[i] = l.Key + "=" + l.Value
		}
		if a.Unchanged {
			fmt.Fprintf(cmd.ErrOrStderr(), "namespace/%s unchanged: its labels are already set\n", a.Namespace)
		} else if a.Applied {
			fmt.Fprintf(cmd.ErrOrStderr(), "namespace/%s labeled: %s\n", a.Namespace, strings.Join(keys, " "))
		} else {
			fmt.Fprintf(cmd.ErrOrStderr(), "namespace/%s not labeled: %s\n", a.Namespace, a.Skipped)
		}
		for _, w := range a.DryRunWarnings {
			fmt.Fprintf(cmd.ErrOrStderr(), "  dry run warning: %s\n", w)
		}
	}
}
