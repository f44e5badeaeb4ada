package serve

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/kube-psp/kube-psp/pkg/webhook"
)

// Flags are psp serve's command-line options as given. Config holds those
// that are used as they are (paths, addresses, durations); the rest are
// words to parse and switches a Config is derived from. Check turns them
// into a Config; every error names the flag.
type Flags struct {
	Config Config
	// Mode, FailurePolicy and UnknownFields are --mode, --failure-policy
	// and --unknown-fields: webhook.Mode, webhook.FailurePolicy and
	// webhook.UnknownFieldPolicy values.
	Mode, FailurePolicy, UnknownFields string
	// LogFormat ("json" or "text") and LogLevel (slog's level names).
	LogFormat, LogLevel string
	// Kubeconfig says a --kubeconfig was given; InCluster is --in-cluster.
	// Either reads policies and RBAC from a cluster, whose clients the
	// caller connects after Check (Config.Cluster).
	Kubeconfig, InCluster bool
	// SubjectAccessReview: --authorization=subjectaccessreview, which asks
	// a cluster's apiserver.
	SubjectAccessReview bool
	// Dev is --dev; DevDir, --dev-dir, is used only with it.
	Dev    bool
	DevDir string
	// GCPercent is --gc-percent, the collector's target unless GOGC is set.
	GCPercent int
	// MemoryLimit is --memory-limit, the container's memory limit (see
	// SoftMemoryLimit); empty for none.
	MemoryLimit string
}

// FromCluster reports whether policies and RBAC come from a cluster.
func (f *Flags) FromCluster() bool { return f.Kubeconfig || f.InCluster }

// Logger returns the server's logger writing to w (see NewLogger), or an
// error naming --log-level or --log-format.
func (f *Flags) Logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return NewLogger(w, f.LogFormat, level)
}

// Check parses and checks the flags and returns the Config they give,
// without Cluster and Log, which the caller sets, and the Go runtime
// settings to apply. It reads the environment variables GOGC and
// GOMEMLIMIT, which take precedence over --gc-percent and --memory-limit.
// It touches no file and no network.
func (f *Flags) Check() (Config, RuntimeSettings, error) {
	cfg := f.Config
	var rt RuntimeSettings
	switch m := webhook.Mode(f.Mode); m {
	case webhook.ModeEnforce, webhook.ModeWarn, webhook.ModeAudit:
		cfg.Mode = m
	default:
		return Config{}, rt, fmt.Errorf("--mode must be enforce, warn or audit, not %q", f.Mode)
	}
	switch p := webhook.FailurePolicy(f.FailurePolicy); p {
	case webhook.FailurePolicyFail, webhook.FailurePolicyAllow:
		cfg.FailurePolicy = p
	default:
		return Config{}, rt, fmt.Errorf("--failure-policy must be fail or allow, not %q", f.FailurePolicy)
	}
	switch p := webhook.UnknownFieldPolicy(f.UnknownFields); p {
	case webhook.UnknownFieldsWarn, webhook.UnknownFieldsDeny:
		cfg.UnknownFields = p
	default:
		return Config{}, rt, fmt.Errorf("--unknown-fields must be warn or deny, not %q", f.UnknownFields)
	}
	if cfg.ReloadInterval <= 0 {
		return Config{}, rt, fmt.Errorf("--reload-interval must be positive")
	}
	if cfg.DecisionTimeout <= 0 {
		return Config{}, rt, fmt.Errorf("--decision-timeout must be positive")
	}
	cluster := f.FromCluster()
	switch {
	case f.Kubeconfig && f.InCluster:
		return Config{}, rt, fmt.Errorf("give --kubeconfig or --in-cluster, not both")
	case cluster && (len(cfg.PolicyPaths) > 0 || len(cfg.RBACPaths) > 0):
		return Config{}, rt, fmt.Errorf("--policies and --rbac read files; with --kubeconfig or --in-cluster policies and RBAC come from the cluster")
	case f.SubjectAccessReview && !cluster:
		return Config{}, rt, fmt.Errorf("--authorization=subjectaccessreview asks a cluster's apiserver: give --kubeconfig or --in-cluster")
	}
	if err := f.checkRequired(); err != nil {
		return Config{}, rt, err
	}
	if f.Dev {
		cfg.DevDir = f.DevDir
	}
	if os.Getenv("GOGC") == "" {
		if f.GCPercent <= 0 {
			return Config{}, rt, fmt.Errorf("--gc-percent must be positive (set GOGC=off to turn the collector off)")
		}
		rt.GCPercent = f.GCPercent
	}
	soft, err := SoftMemoryLimit(f.MemoryLimit)
	if err != nil {
		return Config{}, rt, fmt.Errorf("--memory-limit: %w", err)
	}
	if soft > 0 && os.Getenv("GOMEMLIMIT") == "" {
		rt.SoftMemoryLimit, rt.MemoryLimit = soft, f.MemoryLimit
	}
	return cfg, rt, nil
}

// checkRequired names the flags missing: a certificate and key, and
// without a cluster policies and RBAC, unless --dev makes them up
// (devFiles).
func (f *Flags) checkRequired() error {
	cfg := &f.Config
	devCert := f.Dev && cfg.CertFile == "" && cfg.KeyFile == ""
	required := map[string]bool{"--tls-cert-file": cfg.CertFile != "" || devCert, "--tls-private-key-file": cfg.KeyFile != "" || devCert}
	if !f.FromCluster() {
		devPreset := f.Dev && len(cfg.PolicyPaths) == 0 && len(cfg.RBACPaths) == 0
		required["--policies"], required["--rbac"] = len(cfg.PolicyPaths) > 0 || devPreset, len(cfg.RBACPaths) > 0 || devPreset
	}
	var missing []string
	for flag, given := range required {
		if !given {
			missing = append(missing, flag)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("missing %s (or use --dev for a development server)", strings.Join(missing, ", "))
}

// RuntimeSettings are the Go runtime settings psp serve applies before
// serving; zero values leave the runtime's own.
type RuntimeSettings struct {
	// GCPercent is the collector's target (debug.SetGCPercent).
	GCPercent int
	// SoftMemoryLimit is the runtime's soft memory limit in bytes
	// (debug.SetMemoryLimit), derived from MemoryLimit, the container's
	// limit as given.
	SoftMemoryLimit int64
	MemoryLimit     string
}

// Apply sets the settings for this process, logging the memory limit.
func (rt RuntimeSettings) Apply(log *slog.Logger) {
	if rt.GCPercent > 0 {
		debug.SetGCPercent(rt.GCPercent)
	}
	if rt.SoftMemoryLimit > 0 {
		debug.SetMemoryLimit(rt.SoftMemoryLimit)
		log.Info("memory soft limit", "bytes", rt.SoftMemoryLimit, "memoryLimit", rt.MemoryLimit)
	}
}
