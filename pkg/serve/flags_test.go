package serve

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kube-psp/kube-psp/pkg/webhook"
)

// validFlags are psp serve's defaults with files, a certificate and a key.
func validFlags() Flags {
	return Flags{
		Config: Config{
			PolicyPaths: []string{"p"}, RBACPaths: []string{"r"}, CertFile: "c", KeyFile: "k",
			ReloadInterval: 2 * time.Second, DecisionTimeout: 7 * time.Second,
		},
		Mode: "enforce", FailurePolicy: "fail", UnknownFields: "warn", LogFormat: "json", LogLevel: "info",
		DevDir: "/tmp/dev", GCPercent: 400,
	}
}

func TestFlagsCheck(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	tests := []struct {
		name   string
		change func(*Flags)
		want   string // the error; "" for none
	}{
		{"defaults", func(*Flags) {}, ""},
		{"mode", func(f *Flags) { f.Mode = "loud" }, `--mode must be enforce, warn or audit, not "loud"`},
		{"failure policy", func(f *Flags) { f.FailurePolicy = "ignore" }, `--failure-policy must be fail or allow, not "ignore"`},
		{"unknown fields", func(f *Flags) { f.UnknownFields = "allow" }, `--unknown-fields must be warn or deny, not "allow"`},
		{"reload interval", func(f *Flags) { f.Config.ReloadInterval = 0 }, "--reload-interval must be positive"},
		{"decision timeout", func(f *Flags) { f.Config.DecisionTimeout = -time.Second }, "--decision-timeout must be positive"},
		{"kubeconfig and in-cluster", func(f *Flags) { f.Kubeconfig, f.InCluster = true, true }, "give --kubeconfig or --in-cluster, not both"},
		{"cluster and files", func(f *Flags) { f.InCluster = true }, "--policies and --rbac read files; with --kubeconfig or --in-cluster"},
		{"cluster", func(f *Flags) { f.InCluster, f.Config.PolicyPaths, f.Config.RBACPaths = true, nil, nil }, ""},
		{"subjectaccessreview without a cluster", func(f *Flags) { f.SubjectAccessReview = true }, "--authorization=subjectaccessreview asks a cluster's apiserver"},
		{"subjectaccessreview", func(f *Flags) {
			f.SubjectAccessReview, f.Kubeconfig, f.Config.PolicyPaths, f.Config.RBACPaths = true, true, nil, nil
		}, ""},
		{"nothing", func(f *Flags) { f.Config = Config{ReloadInterval: time.Second, DecisionTimeout: time.Second} },
			"missing --policies, --rbac, --tls-cert-file, --tls-private-key-file (or use --dev for a development server)"},
		{"key only", func(f *Flags) { f.Config.CertFile = "" }, "missing --tls-cert-file (or use --dev"},
		{"cluster without certificate", func(f *Flags) {
			f.InCluster, f.Config.PolicyPaths, f.Config.RBACPaths, f.Config.CertFile, f.Config.KeyFile = true, nil, nil, "", ""
		},
			"missing --tls-cert-file, --tls-private-key-file (or"},
		{"dev makes all", func(f *Flags) {
			f.Dev, f.Config = true, Config{ReloadInterval: time.Second, DecisionTimeout: time.Second}
		}, ""},
		// --dev makes a pair, not the half that is missing; nor RBAC for given policies.
		{"dev with a key only", func(f *Flags) { f.Dev, f.Config.CertFile = true, "" }, "missing --tls-cert-file (or"},
		{"dev with policies only", func(f *Flags) { f.Dev, f.Config.RBACPaths = true, nil }, "missing --rbac (or"},
		{"gc percent", func(f *Flags) { f.GCPercent = 0 }, "--gc-percent must be positive (set GOGC=off to turn the collector off)"},
		{"memory limit", func(f *Flags) { f.MemoryLimit = "lots" }, `--memory-limit: memory limit "lots"`},
		{"memory limit negative", func(f *Flags) { f.MemoryLimit = "-1Gi" }, `--memory-limit: memory limit "-1Gi": negative`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := validFlags()
			tt.change(&f)
			_, _, err := f.Check()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFlagsCheckConfig(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	f := validFlags()
	f.Mode, f.FailurePolicy, f.UnknownFields, f.MemoryLimit = "audit", "allow", "deny", "1000"
	cfg, rt, err := f.Check()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != webhook.ModeAudit || cfg.FailurePolicy != webhook.FailurePolicyAllow || cfg.UnknownFields != webhook.UnknownFieldsDeny {
		t.Errorf("parsed %q %q %q", cfg.Mode, cfg.FailurePolicy, cfg.UnknownFields)
	}
	if cfg.PolicyPaths[0] != "p" || cfg.CertFile != "c" || cfg.ReloadInterval != 2*time.Second || cfg.DevDir != "" {
		t.Errorf("config %+v", cfg)
	}
	if rt != (RuntimeSettings{GCPercent: 400, SoftMemoryLimit: 900, MemoryLimit: "1000"}) {
		t.Errorf("runtime %+v", rt)
	}
	// --dev-dir counts only with --dev.
	f.Dev = true
	if cfg, _, _ := f.Check(); cfg.DevDir != "/tmp/dev" {
		t.Errorf("dev dir %q", cfg.DevDir)
	}
	// The environment wins over the flags, bad values included.
	t.Setenv("GOGC", "100")
	t.Setenv("GOMEMLIMIT", "1GiB")
	f.GCPercent = 0
	if _, rt, err := f.Check(); err != nil || rt != (RuntimeSettings{}) {
		t.Errorf("with GOGC and GOMEMLIMIT: %+v %v", rt, err)
	}
}

func TestFlagsLogger(t *testing.T) {
	var buf bytes.Buffer
	f := validFlags()
	f.LogFormat, f.LogLevel = "text", "warn"
	log, err := f.Logger(&buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, "level=WARN msg=shown") {
		t.Errorf("log: %q", out)
	}
	for _, tt := range []struct{ format, level, want string }{
		{"json", "loud", "--log-level: "},
		{"xml", "info", `--log-format must be json or text, not "xml"`},
	} {
		f.LogFormat, f.LogLevel = tt.format, tt.level
		if _, err := f.Logger(&buf); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %s: %v, want %q", tt.format, tt.level, err, tt.want)
		}
	}
}
