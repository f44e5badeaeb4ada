package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/pkg/serve"
	"github.com/kube-psp/kube-psp/pkg/webhook"
)

type serveOptions struct {
	cfg           serve.Config
	mode          string
	failurePolicy string
	unknownFields string
	logFormat     string
	logLevel      string
	dev           bool
	devDir        string
	connection    connectionOptions
	inCluster     bool
	authorization authorizationOptions
	gcPercent     int
	memoryLimit   string
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
	f.StringSliceVar(&o.cfg.PolicyPaths, "policies", nil, "PodSecurityPolicy file or directory (repeatable)")
	f.StringSliceVar(&o.cfg.RBACPaths, "rbac", nil, "RBAC file or directory (repeatable)")
	f.StringVar(&o.connection.kubeconfig, "kubeconfig", "", "read policies (the policy.kube-psp.io CRD) and RBAC from the cluster of this kubeconfig, instead of --policies and --rbac")
	f.BoolVar(&o.inCluster, "in-cluster", false, "read policies and RBAC from the cluster kube-psp runs in (its ServiceAccount needs list and watch on them)")
	o.connection.addRequestTimeoutFlag(cmd, "; with --kubeconfig or --in-cluster. Until the policies and RBAC are read, /readyz and the log say what is missing")
	o.authorization.addFlags(cmd, "with --kubeconfig or --in-cluster, ")
	f.BoolVar(&o.cfg.Strict, "strict", false, "refuse unknown fields in policies and RBAC instead of warning")
	f.StringVar(&o.cfg.Listen, "listen", ":8443", "HTTPS address for the webhook")
	f.StringVar(&o.cfg.MetricsListen, "metrics-listen", "", "plain-HTTP address for /metrics, /healthz and /readyz (default: served on --listen)")
	f.StringVar(&o.cfg.CertFile, "tls-cert-file", "", "PEM certificate (chain) to serve")
	f.StringVar(&o.cfg.KeyFile, "tls-private-key-file", "", "PEM private key of --tls-cert-file")
	f.StringVar(&o.mode, "mode", "enforce", "enforce (deny), warn (admit, return the denial as warnings) or audit (admit, record the denial in an audit annotation)")
	f.StringVar(&o.failurePolicy, "failure-policy", "fail", "what kube-psp's own errors do: fail (deny) or allow; match failurePolicy Fail or Ignore on the webhook configurations")
	f.StringVar(&o.unknownFields, "unknown-fields", "warn", "pod fields unknown to this build (sent by a newer apiserver): warn (admit if the policies do; warn, log, count) or deny")
	f.DurationVar(&o.cfg.ReloadInterval, "reload-interval", 2*time.Second, "how often to check policy, RBAC and certificate files for changes")
	f.DurationVar(&o.cfg.ShutdownTimeout, "shutdown-timeout", 25*time.Second, "how long requests in flight may take after SIGTERM")
	f.DurationVar(&o.cfg.DecisionTimeout, "decision-timeout", 7*time.Second, "the most one admission request may take: past it (SubjectAccessReviews answered too slowly) the request is answered by --failure-policy; keep it a few seconds under the webhook configurations' timeoutSeconds (the Helm chart's 10 s)")
	f.StringVar(&o.logFormat, "log-format", "json", "log format: json or text")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.IntVar(&o.gcPercent, "gc-percent", 400, "the Go garbage collector's target (GOGC) unless GOGC is set: the heap is small and each request makes short-lived garbage, so collecting less often raises throughput by about half for tens of MB; --memory-limit still bounds it")
	f.StringVar(&o.memoryLimit, "memory-limit", "", "the container's memory limit (a quantity such as 512Mi, or bytes; the Helm chart passes limits.memory): the Go runtime's soft limit is set to 90% of it, unless GOMEMLIMIT is set, so the collector works harder before the kernel would kill the pod")
	f.BoolVar(&o.dev, "dev", false, "development mode: make a self-signed certificate when none is given, and serve the built-in restricted preset when no --policies and --rbac are given")
	f.StringVar(&o.devDir, "dev-dir", filepath.Join(os.TempDir(), "kube-psp-dev"), "where --dev keeps its certificate, CA bundle and preset files: made when missing, never replaced (edits are kept; remove policies.yaml or rbac.yaml, or all of ca.crt, tls.crt and tls.key, to have them made again)")
	return cmd
}

func runServe(cmd *cobra.Command, o *serveOptions) error {
	log, err := newLogger(cmd, o.logFormat, o.logLevel)
	if err != nil {
		return err
	}
	switch webhook.Mode(o.mode) {
	case webhook.ModeEnforce, webhook.ModeWarn, webhook.ModeAudit:
		o.cfg.Mode = webhook.Mode(o.mode)
	default:
		return fmt.Errorf("--mode must be enforce, warn or audit, not %q", o.mode)
	}
	switch webhook.FailurePolicy(o.failurePolicy) {
	case webhook.FailurePolicyFail, webhook.FailurePolicyAllow:
		o.cfg.FailurePolicy = webhook.FailurePolicy(o.failurePolicy)
	default:
		return fmt.Errorf("--failure-policy must be fail or allow, not %q", o.failurePolicy)
	}
	switch webhook.UnknownFieldPolicy(o.unknownFields) {
	case webhook.UnknownFieldsWarn, webhook.UnknownFieldsDeny:
		o.cfg.UnknownFields = webhook.UnknownFieldPolicy(o.unknownFields)
	default:
		return fmt.Errorf("--unknown-fields must be warn or deny, not %q", o.unknownFields)
	}
	if o.cfg.ReloadInterval <= 0 {
		return fmt.Errorf("--reload-interval must be positive")
	}
	if o.cfg.DecisionTimeout <= 0 {
		return fmt.Errorf("--decision-timeout must be positive")
	}
	cluster := o.connection.kubeconfig != "" || o.inCluster
	switch {
	case o.connection.kubeconfig != "" && o.inCluster:
		return fmt.Errorf("give --kubeconfig or --in-cluster, not both")
	case cluster && (len(o.cfg.PolicyPaths) > 0 || len(o.cfg.RBACPaths) > 0):
		return fmt.Errorf("--policies and --rbac read files; with --kubeconfig or --in-cluster policies and RBAC come from the cluster")
	case cluster:
		clients, _, err := o.connection.connect(o.inCluster)
		if err != nil {
			return err
		}
		o.cfg.Cluster = &serve.ClusterClients{Kube: clients.Kube, Dynamic: clients.Dynamic, Metadata: clients.Metadata, Config: clients.Config}
	}
	if o.authorization.subjectAccessReview() && !cluster {
		return fmt.Errorf("--authorization=subjectaccessreview asks a cluster's apiserver: give --kubeconfig or --in-cluster")
	}
	if cluster {
		if o.cfg.Cluster.Authorizer, err = o.authorization.authorizer(o.cfg.Cluster.Config); err != nil {
			return err
		}
	} else if err := o.authorization.validate(); err != nil {
		return err
	}
	// --dev makes a missing certificate pair and, without policies and
	// RBAC, the preset (serve.Config.DevDir).
	devCert := o.dev && o.cfg.CertFile == "" && o.cfg.KeyFile == ""
	required := map[string]bool{"--tls-cert-file": o.cfg.CertFile != "" || devCert, "--tls-private-key-file": o.cfg.KeyFile != "" || devCert}
	if !cluster {
		devPreset := o.dev && len(o.cfg.PolicyPaths) == 0 && len(o.cfg.RBACPaths) == 0
		required["--policies"], required["--rbac"] = len(o.cfg.PolicyPaths) > 0 || devPreset, len(o.cfg.RBACPaths) > 0 || devPreset
	}
	if o.dev {
		o.cfg.DevDir = o.devDir
	}
	var missing []string
	for flag, v := range required {
		if !v {
			missing = append(missing, flag)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("missing %s (or use --dev for a development server)", strings.Join(missing, ", "))
	}
	if os.Getenv("GOGC") == "" {
		if o.gcPercent <= 0 {
			return fmt.Errorf("--gc-percent must be positive (set GOGC=off to turn the collector off)")
		}
		debug.SetGCPercent(o.gcPercent)
	}
	soft, err := serve.SoftMemoryLimit(o.memoryLimit)
	if err != nil {
		return fmt.Errorf("--memory-limit: %w", err)
	}
	if soft > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(soft)
		log.Info("memory soft limit", "bytes", soft, "memoryLimit", o.memoryLimit)
	}
	o.cfg.Log = log
	return serve.Run(cmd.Context(), o.cfg)
}

func newLogger(cmd *cobra.Command, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return serve.NewLogger(cmd.ErrOrStderr(), format, lvl)
}
