package diff

import (
	"fmt"
	"strings"

	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// Keywords that --before and --after take instead of paths.
const (
	// ClusterSet is the live cluster's current policies and RBAC.
	ClusterSet = "cluster"
	// NoneSet is no policy and no RBAC: every pod is denied (v1.24's "no
	// providers available"), as after deleting every policy.
	NoneSet = "none"
)

// LoadFiles reads a set from files and directories (read recursively),
// each of which may hold policies and RBAC alike, as a cluster's export
// does. warnings are load problems that did not stop the load. Errors: the
// loader's (naming file, document and line), and paths that hold neither a
// PodSecurityPolicy nor RBAC, which would silently deny every pod (NoneSet
// says so on purpose).
func LoadFiles(paths []string, opts loader.Options) (Set, []string, error) {
	name := strings.Join(paths, ", ")
	res, err := loader.Load(paths, opts)
	if err != nil {
		return Set{}, nil, err
	}
	rbac := len(res.RBAC.Roles) + len(res.RBAC.ClusterRoles) + len(res.RBAC.RoleBindings) + len(res.RBAC.ClusterRoleBindings)
	if len(res.Policies) == 0 && rbac == 0 {
		return Set{}, nil, fmt.Errorf("no PodSecurityPolicy or RBAC found in %s; for a set without any, give %q", name, NoneSet)
	}
	snap, err := source.Build(res, "")
	if err != nil {
		return Set{}, nil, err
	}
	return FromSnapshot(name, snap), snap.Warnings, nil
}

// None is NoneSet: no policies and no RBAC.
func None() (Set, error) {
	snap, err := source.Build(&loader.PoliciesAndRBAC{}, "")
	if err != nil {
		return Set{}, err
	}
	return FromSnapshot(NoneSet, snap), nil
}

// FromSnapshot is the set of a snapshot (files, or a cluster's).
func FromSnapshot(name string, snap *source.Snapshot) Set {
	return Set{Name: name, Policies: snap.Policies, Authorizer: snap.Authorizer}
}
