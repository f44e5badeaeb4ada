package source

import (
	"io"

	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/presets"
)

// Offline says where a command without a cluster (check, explain, lint,
// who-can, can-i) reads its policies and RBAC: files, else a built-in
// preset.
type Offline struct {
	// PolicyPaths and RBACPaths are --policies and --rbac
	// (loader.LoadPoliciesAndRBAC).
	PolicyPaths, RBACPaths []string
	// Preset is read when neither path is given (presets.Load).
	Preset string
	// Strict refuses unknown fields in the files (loader.Options).
	Strict bool
	// Stdin is read for a path "-" (loader.Options).
	Stdin io.Reader
}

// Load reads the files, or the preset, and builds the snapshot. warnings
// are the snapshot's and, for policies given without RBAC, that nobody
// may use any policy. Errors are the loader's (naming file, document and
// line), an unknown preset's, or the set's.
func (o Offline) Load() (*loader.PoliciesAndRBAC, *Snapshot, []string, error) {
	var res *loader.PoliciesAndRBAC
	var err error
	if len(o.PolicyPaths) == 0 && len(o.RBACPaths) == 0 {
		res, err = presets.Load(o.Preset)
	} else {
		res, err = loader.LoadPoliciesAndRBAC(o.PolicyPaths, o.RBACPaths, loader.Options{Strict: o.Strict, Stdin: o.Stdin})
	}
	if err != nil {
		return nil, nil, nil, err
	}
	snap, err := Build(res, "")
	if err != nil {
		return nil, nil, nil, err
	}
	warnings := snap.Warnings
	if len(o.PolicyPaths) > 0 && len(o.RBACPaths) == 0 {
		warnings = append(warnings, "no --rbac given: nobody may use any policy (except members of system:masters)")
	}
	return res, snap, warnings, nil
}
