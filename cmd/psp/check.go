package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/internal/progress"
	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/imageconfig"
	"github.com/kube-psp/kube-psp/pkg/kubelet"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/source"
)

type checkOptions struct {
	inputOptions
	explainAll bool
	sourceOptions
	images imageOptions
}

// inputOptions are the manifest, identity and output flags that check and
// explain share.
type inputOptions struct {
	files     []string
	recursive bool
	namespace string
	identity  identityFlags
	output    string
	// allowEmpty accepts input without workloads, which otherwise is an
	// error: a check of nothing would pass.
	allowEmpty bool
}

func (o *inputOptions) addInputFlags(cmd *cobra.Command) {
	cmd.Flags().StringSliceVarP(&o.files, "filename", "f", nil, "manifest file or directory, or - for standard input (repeatable)")
	cmd.Flags().BoolVarP(&o.recursive, "recursive", "R", false, "read directories recursively")
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", "default", "namespace for objects that have none")
	o.identity.addFlags(cmd, "kube-psp:check", "user that creates bare Pods, with the groups impersonating it gives (a ServiceAccount's groups unless --as-group; system:authenticated)")
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text, json, yaml or sarif (one result per denied workload, at its document)")
	cmd.Flags().BoolVar(&o.allowEmpty, "allow-empty", false, "succeed when the input holds no Pod or workload (an error otherwise)")
}

// sourceOptions choose where policies and RBAC come from.
type sourceOptions struct {
	policies []string
	rbac     []string
	preset   string
	strict   bool
}

func (o *sourceOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&o.policies, "policies", nil, "PodSecurityPolicy file or directory, or - for standard input (repeatable; RBAC there is an error unless the path is also given to --rbac); replaces the built-in presets")
	cmd.Flags().StringSliceVar(&o.rbac, "rbac", nil, "RBAC file or directory, or - for standard input (Roles, ClusterRoles and their bindings; repeatable; policies there are an error unless the path is also given to --policies)")
	cmd.Flags().StringVar(&o.preset, "preset", "restricted", "built-in policies to use without --policies: "+strings.Join(presets.Names, ", ")+
		" (all three are loaded; the named one is granted to system:authenticated)")
	cmd.Flags().BoolVar(&o.strict, "strict", false, "refuse unknown and duplicate fields in policies and RBAC (and in check's and explain's manifests) instead of warning")
}

// load returns what was read and the policies and RBAC to decide with,
// after printing the load warnings on stderr.
func (o *sourceOptions) load(cmd *cobra.Command) (*loader.PoliciesAndRBAC, *source.Snapshot, error) {
	res, snap, warnings, err := o.read(cmd)
	if err != nil {
		return nil, nil, err
	}
	warn(cmd, warnings)
	return res, snap, nil
}

// read reads policies and RBAC from the flags: the files, or the preset.
func (o *sourceOptions) read(cmd *cobra.Command) (*loader.PoliciesAndRBAC, *source.Snapshot, []string, error) {
	if (len(o.policies) > 0 || len(o.rbac) > 0) && cmd.Flags().Changed("preset") {
		return nil, nil, nil, fmt.Errorf("--preset cannot be combined with --policies or --rbac")
	}
	files, _ := cmd.Flags().GetStringSlice("filename") // check and explain
	if err := stdinOnce(files, "--policies", o.policies, "--rbac", o.rbac); err != nil {
		return nil, nil, nil, err
	}
	return source.Offline{PolicyPaths: o.policies, RBACPaths: o.rbac, Preset: o.preset, Strict: o.strict, Stdin: cmd.InOrStdin()}.Load()
}

// stdinOnce refuses "-" (standard input) in the paths of a policy flag
// when -f (files) reads standard input already: it can be read only once.
// flagPaths are pairs of a flag's name and its paths.
func stdinOnce(files []string, flagPaths ...any) error {
	if !slices.Contains(files, "-") {
		return nil
	}
	for i := 0; i+1 < len(flagPaths); i += 2 {
		if slices.Contains(flagPaths[i+1].([]string), "-") {
			return fmt.Errorf("%s -: standard input is already -f; give the policies as a file", flagPaths[i])
		}
	}
	return nil
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

With --images, the pod each policy admits is also checked as the kubelet
would before starting its containers: with runAsNonRoot and no runAsUser,
the image's user (read from its config: --image-source) must be a non-zero
number. See docs/commands/check.md.

Exit status: 0 when every pod is admitted (and, with --images, would start),
1 when some is denied, or with --images when the kubelet would refuse a
container or an image could not be read (unless --image-errors warn), 2 on a
usage or input error. A document that cannot be read is reported at its
file line after the results of the others, which are all checked; the
exit status is then 2.`,
		Example: `  # Check the examples against the built-in restricted preset
  ` + name + ` check -f examples/

  # Also predict the kubelet's runAsNonRoot refusals, reading images from registries
  ` + name + ` check -f examples/ --images

  # ... or, without network, from an OCI layout and a docker save tarball
  ` + name + ` check -f k8s/ --images --image-source oci:images/ --image-source docker-archive:app.tar

  # Check a chart's output against your cluster's exported policies and RBAC
  helm template ./chart | ` + name + ` check -f - --policies psp/ --rbac rbac/ -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			// "psp check pod.yaml" is the likeliest first try: say how.
			if len(args) > 0 {
				return fmt.Errorf("%s check takes files with -f: %s check -f %s", name, name, strings.Join(args, " -f "))
			}
			if !cmd.Flags().Changed("filename") {
				return fmt.Errorf("%s check needs manifests: -f FILE or DIRECTORY (repeatable), or -f - for standard input", name)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd, o)
		},
	}
	o.addInputFlags(cmd)
	o.addFlags(cmd)
	o.images.addFlags(cmd)
	return cmd
}

func runCheck(cmd *cobra.Command, o *checkOptions) error {
	if err := check.CheckFormat(o.output); err != nil {
		return err
	}
	users, err := o.images.reader(cmd)
	if err != nil {
		return err
	}
	if users == nil {
		return o.stream(cmd, v1alpha1.KindCheckReport)
	}
	// The kubelet's verdicts read every image once for all pods: the
	// report is written after them.
	results, bad, err := o.run(cmd)
	if err != nil {
		return err
	}
	check.VerifyImages(cmd.Context(), results, users, kubelet.Options{Timeout: o.images.timeout, Parallel: o.images.parallel})
	if o.output != "text" {
		o.images.warnUnread(cmd, results)
	}
	if err := check.WriteReport(cmd.OutOrStdout(), o.output, v1alpha1.KindCheckReport, results); err != nil {
		return err
	}
	if err := badDocuments(cmd, bad); err != nil {
		return err
	}
	for _, r := range results {
		if !r.Admitted || r.KubeletRefuses() || (r.ImageUnread() && o.images.errors == "fail") {
			return &exitError{code: 1}
		}
	}
	return nil
}

// run checks every workload and returns the verdicts, in input order, for
// a command that needs them all (migrate), and the documents that could
// not be read.
func (o *checkOptions) run(cmd *cobra.Command) ([]check.Verdict, []error, error) {
	var results []check.Verdict
	in, err := o.check(cmd, func(v check.Verdict) error {
		results = append(results, v)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return results, in.Errors, nil
}

// stream checks and writes each workload's verdict as it is decided, in
// input order, then the summary and the documents that could not be read.
// A check report exits 1 when a pod is refused; an explanation does not.
func (o *checkOptions) stream(cmd *cobra.Command, kind string) error {
	report, err := check.NewReportWriter(cmd.OutOrStdout(), o.output, kind)
	if err != nil {
		return err
	}
	in, err := o.check(cmd, report.Write)
	if err != nil {
		return err
	}
	bad := in.Errors
	if err := report.Close(); err != nil {
		return err
	}
	if err := badDocuments(cmd, bad); err != nil {
		return err
	}
	if sum := report.Summary(); kind == v1alpha1.KindCheckReport && sum.Admitted < sum.Workloads {
		return &exitError{code: 1}
	}
	return nil
}

// badDocuments prints the documents that could not be read, after the
// results of the others, and then ends the command with exit status 2.
func badDocuments(cmd *cobra.Command, bad []error) error {
	for _, e := range bad {
		fmt.Fprintf(cmd.ErrOrStderr(), "error: %v\n", e)
	}
	if len(bad) > 0 {
		return &exitError{code: 2}
	}
	return nil
}

// check loads policies, RBAC and manifests and checks every workload that
// can be read, giving each verdict to emit in input order as it is
// decided; in says what was read: in.Errors are the documents that could
// not be, in.Namespaces the Namespace objects. Input without workloads
// (and without bad documents) is an error unless --allow-empty: then emit
// has not been called.
func (o *checkOptions) check(cmd *cobra.Command, emit func(check.Verdict) error) (in *manifest.Input, err error) {
	_, snap, err := o.load(cmd)
	if err != nil {
		return nil, err
	}
	user := o.identity.user()
	p := progress.Start(cmd.ErrOrStderr())
	defer p.Finish()
	checked := 0
	count := func(v check.Verdict) error {
		checked++
		return emit(v)
	}
	in, err = check.Files(cmd.Context(), snap.Policies, snap.Authorizer, o.files, cmd.InOrStdin(),
		manifest.Options{Recursive: o.recursive, DefaultNamespace: o.namespace, Strict: o.strict, PolicyPaths: slices.Concat(o.policies, o.rbac)},
		check.Options{User: user, Progress: p.Update, ExplainAll: o.explainAll}, func(w string) { warn(cmd, []string{w}) }, count)
	if err != nil {
		return nil, err
	}
	if checked == 0 && len(in.Errors) == 0 && !o.allowEmpty {
		return nil, noWorkloads(in, o.files, "check", true)
	}
	return in, nil
}

// noWorkloads says why input held no workload, for a command that would
// "verb" them; allowEmpty when the command has --allow-empty, which the
// message then suggests.
func noWorkloads(in *manifest.Input, paths []string, verb string, allowEmpty bool) error {
	msg := fmt.Sprintf("no workloads to %s: %s (checked are %s)", verb, in.NothingRead(paths), manifest.Kinds)
	if len(in.Unread) > 0 {
		msg += fmt.Sprintf("; %s has subdirectories, read with -R", strings.Join(in.Unread, ", "))
	}
	for _, k := range []string{"PodSecurityPolicy", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} {
		if slices.Contains(in.Others, k) {
			msg += "; policies and RBAC are given with --policies and --rbac"
			break
		}
	}
	if allowEmpty {
		msg += "; --allow-empty accepts input without workloads"
	}
	return fmt.Errorf("%s", msg)
}

// imageOptions choose whether and how check reads images (--images).
type imageOptions struct {
	enabled  bool
	sources  []string
	platform string
	timeout  time.Duration
	parallel int
	errors   string
}

func (o *imageOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.enabled, "images", false, "also predict the kubelet's runAsNonRoot refusals, reading each needed image's config (see --image-source)")
	cmd.Flags().StringSliceVar(&o.sources, "image-source", nil, "where --images reads image configs, tried in the order given (repeatable): registry (default; docker and podman credentials), oci:DIR (an OCI image layout), docker-archive:FILE or tarball:FILE (a docker save tarball)")
	cmd.Flags().StringVar(&o.platform, "image-platform", "linux/amd64", "platform of the nodes, to choose among the images of a multi-platform image (os/arch[/variant])")
	cmd.Flags().DurationVar(&o.timeout, "image-timeout", 10*time.Second, "most time to read one image's config")
	cmd.Flags().IntVar(&o.parallel, "image-parallel", 8, "how many images to read at once")
	cmd.Flags().StringVar(&o.errors, "image-errors", "fail", "when an image cannot be read: fail (exit 1) or warn (report it, exit as if the container would start)")
}

// reader returns what reads images for --images, nil without --images.
func (o *imageOptions) reader(cmd *cobra.Command) (kubelet.ImageUsers, error) {
	if !o.enabled {
		for _, f := range []string{"image-source", "image-platform", "image-timeout", "image-parallel", "image-errors"} {
			if cmd.Flags().Changed(f) {
				return nil, fmt.Errorf("--%s needs --images", f)
			}
		}
		return nil, nil
	}
	if o.errors != "fail" && o.errors != "warn" {
		return nil, fmt.Errorf("--image-errors must be fail or warn, not %q", o.errors)
	}
	if o.timeout <= 0 || o.parallel < 1 {
		return nil, fmt.Errorf("--image-timeout and --image-parallel must be positive")
	}
	return imageconfig.NewReader(o.sources, o.platform)
}

// warnUnread says on stderr, for reports other than text (which say it in
// place), which containers of which workloads could not be verified.
func (o *imageOptions) warnUnread(cmd *cobra.Command, results []check.Verdict) {
	level := "error"
	if o.errors == "warn" {
		level = "warning"
	}
	for _, r := range results {
		for _, c := range r.Kubelet {
			if c.Error != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s: %s: container %q not verified: %s\n", level, r.Workload.Source, r.Workload, c.Name, c.Error)
			}
		}
	}
}
