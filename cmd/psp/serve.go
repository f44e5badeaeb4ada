package main

import (
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/pkg/serve"
)

type serveOptions struct {
	serve.Flags
	connection    connectionOptions
	authorization authorizationOptions
}

func newServeCommand(name string) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve --policies PATH --rbac PATH --listen ADDR --tls-cert-file CERT --tls-private-key-file KEY",
		Short: "Run the admission webhook (POST /mutate and /validate)",
		Long: `Serve runs kube-psp as the admission webhook a kube-apiserver calls: the
mutating webhook at /mutate (v1.24's admit phase, defaults the pod) and the
validating webhook at /validate (v1.24's validate phase). Register both; see
docs/serve.md for the webhook configurations.

Policies and RBAC are read from files or directories and reloaded when they
change (checked every --reload-interval) and on SIGHUP; a reload that fails
keeps the last good set. The TLS certificate is reloaded the same way.
GET /healthz, /readyz and /metrics are served on --listen, or over plain HTTP
on --metrics-listen. SIGTERM finishes the requests in flight, then exits.`,
		Example: `  # A server in one command, with the built-in restricted preset and a self-signed certificate
  ` + name + ` serve --dev

  # Production
  ` + name + ` serve --policies /etc/kube-psp/policies --rbac /etc/kube-psp/rbac --listen :8443 \
      --tls-cert-file /etc/kube-psp/tls/tls.crt --tls-private-key-file /etc/kube-psp/tls/tls.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Config.PolicyPaths, "policies", nil, "PodSecurityPolicy file or directory (repeatable)")
	f.StringSliceVar(&o.Config.RBACPaths, "rbac", nil, "RBAC file or directory (repeatable)")
	f.StringVar(&o.connection.kubeconfig, "kubeconfig", "", "read policies (the policy.kube-psp.io CRD) and RBAC from the cluster of this kubeconfig, instead of --policies and --rbac")
	f.BoolVar(&o.InCluster, "in-cluster", false, "read policies and RBAC from the cluster kube-psp runs in (its ServiceAccount needs list and watch on them)")
	o.connection.addRequestTimeoutFlag(cmd, "; with --kubeconfig or --in-cluster. Until the policies and RBAC are read, /readyz and the log say what is missing")
	o.authorization.addFlags(cmd, "with --kubeconfig or --in-cluster, ")
	f.BoolVar(&o.Config.Strict, "strict", false, "refuse unknown fields in policies and RBAC instead of warning")
	f.StringVar(&o.Config.Listen, "listen", ":8443", "HTTPS address for the webhook")
	f.StringVar(&o.Config.MetricsListen, "metrics-listen", "", "plain-HTTP address for /metrics, /healthz and /readyz (default: served on --listen)")
	f.StringVar(&o.Config.CertFile, "tls-cert-file", "", "PEM certificate (chain) to serve")
	f.StringVar(&o.Config.KeyFile, "tls-private-key-file", "", "PEM private key of --tls-cert-file")
	f.StringVar(&o.Mode, "mode", "enforce", "enforce (deny), warn (admit, return the denial as warnings) or audit (admit, record the denial in an audit annotation)")
	f.StringVar(&o.FailurePolicy, "failure-policy", "fail", "what kube-psp's own errors do: fail (deny) or allow; match failurePolicy Fail or Ignore on the webhook configurations")
	f.StringVar(&o.UnknownFields, "unknown-fields", "warn", "pod fields unknown to this build (sent by a newer apiserver): warn (admit if the policies do; warn, log, count) or deny")
	f.DurationVar(&o.Config.ReloadInterval, "reload-interval", 2*time.Second, "how often to check policy, RBAC and certificate files for changes")
	f.DurationVar(&o.Config.ShutdownTimeout, "shutdown-timeout", 25*time.Second, "how long requests in flight may take after SIGTERM")
	f.DurationVar(&o.Config.DecisionTimeout, "decision-timeout", 7*time.Second, "the most one admission request may take: past it (SubjectAccessReviews answered too slowly) the request is answered by --failure-policy; keep it a few seconds under the webhook configurations' timeoutSeconds (the Helm chart's 10 s)")
	f.StringVar(&o.LogFormat, "log-format", "json", "log format: json or text")
	f.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.IntVar(&o.GCPercent, "gc-percent", 400, "the Go garbage collector's target (GOGC) unless GOGC is set: the heap is small and each request makes short-lived garbage, so collecting less often raises throughput by about half for tens of MB; --memory-limit still bounds it")
	f.StringVar(&o.MemoryLimit, "memory-limit", "", "the container's memory limit (a quantity such as 512Mi, or bytes; the Helm chart passes limits.memory): the Go runtime's soft limit is set to 90% of it, unless GOMEMLIMIT is set, so the collector works harder before the kernel would kill the pod")
	f.BoolVar(&o.Dev, "dev", false, "development mode: make a self-signed certificate when none is given, and serve the built-in restricted preset when no --policies and --rbac are given")
	f.StringVar(&o.DevDir, "dev-dir", filepath.Join(os.TempDir(), "kube-psp-dev"), "where --dev keeps its certificate, CA bundle and preset files: made when missing, never replaced (edits are kept; remove policies.yaml or rbac.yaml, or all of ca.crt, tls.crt and tls.key, to have them made again)")
	return cmd
}

func runServe(cmd *cobra.Command, o *serveOptions) error {
	log, err := o.Logger(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	o.Kubeconfig, o.SubjectAccessReview = o.connection.kubeconfig != "", o.authorization.subjectAccessReview()
	cfg, rt, err := o.Check()
	if err != nil {
		return err
	}
	if err := o.authorization.validate(); err != nil {
		return err
	}
	if o.FromCluster() {
		clients, _, err := o.connection.connect(o.InCluster)
		if err != nil {
			return err
		}
		cfg.Cluster = &serve.ClusterClients{Kube: clients.Kube, Dynamic: clients.Dynamic, Metadata: clients.Metadata, Config: clients.Config}
		if cfg.Cluster.Authorizer, err = o.authorization.authorizer(clients.Config); err != nil {
			return err
		}
	}
	rt.Apply(log)
	cfg.Log = log
	return serve.Run(cmd.Context(), cfg)
}
