package serve

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/kube-psp/kube-psp/pkg/presets"
)

// devFiles fills what --dev may make up in cfg.DevDir: a certificate when
// no --tls-cert-file and --tls-private-key-file are given, and the
// restricted preset as policies.yaml and rbac.yaml when neither policies,
// RBAC nor a cluster are given. Files already there are used as they are
// (an edited rbac.yaml survives a restart; the CA a caBundle was copied
// from stays); only missing ones are written. Run calls it after binding
// its ports, so an instance that cannot start writes nothing.
func devFiles(cfg *Config, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DevDir, 0o700); err != nil {
		return fmt.Errorf("--dev-dir: %w", err)
	}
	if cfg.CertFile == "" && cfg.KeyFile == "" {
		ca, cert, key, created, err := DevCertificate(cfg.DevDir)
		if err != nil {
			return fmt.Errorf("development certificate: %w", err)
		}
		cfg.CertFile, cfg.KeyFile = cert, key
		log.Info("development certificate for 127.0.0.1 and localhost", "caBundle", ca, "created", created)
	}
	if len(cfg.PolicyPaths) == 0 && len(cfg.RBACPaths) == 0 && cfg.Cluster == nil {
		policies, rbac, created, err := devPreset(cfg.DevDir)
		if err != nil {
			return fmt.Errorf("writing the preset: %w", err)
		}
		cfg.PolicyPaths, cfg.RBACPaths = []string{policies}, []string{rbac}
		log.Info("serving the policies and RBAC of --dev-dir (the built-in restricted preset when first written); edit them: they are reloaded",
			"policies", policies, "rbac", rbac, "created", created)
	}
	return nil
}

// devPreset returns policies.yaml and rbac.yaml of dir, writing the
// restricted preset's version of a missing one and never replacing one.
func devPreset(dir string) (policyFile, rbacFile string, created []string, err error) {
	policyFile, rbacFile = filepath.Join(dir, "policies.yaml"), filepath.Join(dir, "rbac.yaml")
	var missing []string
	for _, f := range []string{policyFile, rbacFile} {
		if _, err := os.Stat(f); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, filepath.Base(f))
		} else if err != nil {
			return "", "", nil, err
		}
	}
	if len(missing) == 0 {
		return policyFile, rbacFile, nil, nil
	}
	tmp, err := os.MkdirTemp(dir, ".preset-")
	if err != nil {
		return "", "", nil, err
	}
	defer os.RemoveAll(tmp)
	if _, _, err := presets.WriteFiles("restricted", tmp); err != nil {
		return "", "", nil, err
	}
	for _, name := range missing {
		// A link is made only where no file is: another instance starting
		// at the same moment keeps what it wrote.
		if err := os.Link(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", "", nil, err
		} else if err == nil {
			created = append(created, name)
		}
	}
	return policyFile, rbacFile, created, nil
}
