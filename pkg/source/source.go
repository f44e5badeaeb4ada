// Package source provides the policies and RBAC that admission decides with,
// as immutable snapshots: built from files (or the built-in presets), swapped
// atomically on reload, so a request in flight keeps the snapshot it started
// with and a reload that fails keeps the last good one.
package source

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/rbac"
	"github.com/kube-psp/kube-psp/pkg/yamlfile"
)

// Snapshot is one consistent set of policies and RBAC.
type Snapshot struct {
	Policies *engine.PolicySet
	// Authorizer answers whether a user or ServiceAccount may use a
	// policy: the RBAC read (RBAC), or in cluster mode with
	// --authorization=subjectaccessreview the apiserver.
	Authorizer authorizer.Authorizer
	// Warnings are load problems that did not stop the load.
	Warnings []string
	// Version identifies the files' contents.
	Version  string
	LoadedAt time.Time

	// rbac is the RBAC read, indexed.
	rbac *rbac.Index
}

// RBAC is the RBAC read (files, a preset, the cluster's RBAC), indexed, for
// tools that list grants (who-can, lint); it is what Authorizer asks,
// unless the apiserver answers instead.
func (s *Snapshot) RBAC() *rbac.Index { return s.rbac }

// Build compiles what the loader read (files or a preset) into a snapshot;
// version identifies the contents.
func Build(res *loader.PoliciesAndRBAC, version string) (*Snapshot, error) {
	return build(res.Policies, res.RBAC, res.Warnings, version)
}

// build compiles policies and RBAC into a snapshot, wherever they were read
// (the loader, a cluster's informers). The policies passed
// engine.DefaultAndValidatePolicy as they were read, and are not validated
// again. warnings are the reader's, kept in Snapshot.Warnings before those
// of unusable policies.
func build(policies []*policyv1.PodSecurityPolicy, objs rbac.Objects, warnings []string, version string) (*Snapshot, error) {
	set, warnings, err := compile(policies, warnings)
	if err != nil {
		return nil, err
	}
	r := rbac.NewIndex(objs)
	return &Snapshot{Policies: set, Authorizer: r, rbac: r, Warnings: warnings, Version: version, LoadedAt: time.Now()}, nil
}

// compile compiles policies that passed engine.DefaultAndValidatePolicy,
// and adds to the reader's warnings one for each policy admission skips.
func compile(policies []*policyv1.PodSecurityPolicy, readWarnings []string) (*engine.PolicySet, []string, error) {
	set, err := engine.NewPolicySetFromValid(policies)
	if err != nil {
		return nil, nil, err
	}
	warnings := slices.Clone(readWarnings)
	for _, u := range set.Unusable() {
		warnings = append(warnings, fmt.Sprintf("policy %q is skipped by admission, as in v1.24: %s", u.Name, u.Reason))
	}
	return set, warnings, nil
}

// Files loads policies and RBAC from files and directories and reloads them
// when they change.
type Files struct {
	policyPaths, rbacPaths []string
	opts                   loader.Options
	log                    *slog.Logger
	// onReload is told about every reload attempt: nil error on success.
	onReload func(*Snapshot, error)

	current atomic.Pointer[Snapshot]
	// mu serializes reloads (the poller and SIGHUP may both ask).
	mu sync.Mutex
	// fingerprint is what the files looked like at the last attempt.
	fingerprint string
}

// NewFiles returns a file source; call Load before Current.
func NewFiles(policyPaths, rbacPaths []string, opts loader.Options, log *slog.Logger, onReload func(*Snapshot, error)) *Files {
	if onReload == nil {
		onReload = func(*Snapshot, error) {}
	}
	return &Files{policyPaths: policyPaths, rbacPaths: rbacPaths, opts: opts, log: log, onReload: onReload}
}

// Current returns the snapshot in force, nil before the first good load.
func (f *Files) Current() *Snapshot { return f.current.Load() }

// Load reads the files now. On failure the previous snapshot stays in force.
func (f *Files) Load() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fp, err := f.fingerprintFiles()
	if err != nil {
		f.fail(err)
		return err
	}
	return f.loadLocked(fp)
}

func (f *Files) loadLocked(fp string) error {
	f.fingerprint = fp
	res, err := loader.LoadPoliciesAndRBAC(f.policyPaths, f.rbacPaths, f.opts)
	if err != nil {
		f.fail(err)
		return err
	}
	snap, err := Build(res, fp)
	if err != nil {
		f.fail(err)
		return err
	}
	f.current.Store(snap)
	for _, w := range snap.Warnings {
		f.log.Warn("policy load warning", "warning", w)
	}
	f.log.Info("policies and RBAC loaded", "version", shortVersion(fp), "policies", snap.Policies.Len())
	f.onReload(snap, nil)
	return nil
}

func (f *Files) fail(err error) {
	if f.current.Load() != nil {
		f.log.Error("reload failed; keeping the last good policies and RBAC", "error", err)
	} else {
		f.log.Error("loading policies and RBAC failed", "error", err)
	}
	f.onReload(nil, err)
}

// ReloadIfChanged reloads when the files' fingerprint differs from the last
// attempt's, so a broken file is reported once, not at every poll.
func (f *Files) ReloadIfChanged() {
	f.mu.Lock()
	defer f.mu.Unlock()
	fp, err := f.fingerprintFiles()
	if err != nil {
		if f.fingerprint != "error:"+err.Error() {
			f.fingerprint = "error:" + err.Error()
			f.fail(err)
		}
		return
	}
	if fp == f.fingerprint {
		return
	}
	_ = f.loadLocked(fp)
}

// fingerprintFiles hashes the contents of every file the paths name. Contents,
// not modification times: a ConfigMap update swaps a symlink, and editors
// may keep times.
func (f *Files) fingerprintFiles() (string, error) {
	h := sha256.New()
	for _, p := range append(append([]string{}, f.policyPaths...), f.rbacPaths...) {
		files, err := yamlfile.ListFiles(p, true)
		if err != nil {
			return "", err
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				return "", fmt.Errorf("reading %s: %w", file, err)
			}
			fmt.Fprintf(h, "%s\x00%d\x00", file, len(data))
			h.Write(data)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func shortVersion(v string) string {
	if len(v) > 12 {
		return v[:12]
	}
	return v
}
