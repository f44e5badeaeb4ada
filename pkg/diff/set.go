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

// SetSource is what --before or --after names: the cluster, no set, or
// paths.
type SetSource struct {
	Cluster bool
	None    bool
	Paths   []string
}

// ParseSetSource reads a flag's values: ClusterSet or NoneSet alone, or
// paths (a path of a keyword's name is written ./cluster or ./none).
// Errors: no value, or a keyword among paths.
func ParseSetSource(values []string) (SetSource, error) {
	if len(values) == 0 {
		return SetSource{}, fmt.Errorf("no set given: files or directories of policies and RBAC, %q or %q", ClusterSet, NoneSet)
	}
	for _, v := range values {
		if (v == ClusterSet || v == NoneSet) && len(values) > 1 {
			return SetSource{}, fmt.Errorf("%s cannot be combined with paths (a path of that name is written ./%s)", v, v)
		}
	}
	switch values[0] {
	case ClusterSet:
		return SetSource{Cluster: true}, nil
	case NoneSet:
		return SetSource{None: true}, nil
	}
	return SetSource{Paths: values}, nil
}

// Load reads a set that is not the cluster's: NoneSet, or paths
// (LoadFiles). warnings are load problems that did not stop the load.
func (s SetSource) Load(opts loader.Options) (Set, []string, error) {
	switch {
	case s.Cluster:
		return Set{}, nil, fmt.Errorf("the cluster's set is read from the cluster (audit.ReadPolicies)")
	case s.None:
		set, err := None()
		return set, nil, err
	}
	return LoadFiles(s.Paths, opts)
}

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
	set := FromSnapshot(name, snap)
	set.Sources = paths
	return set, snap.Warnings, nil
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
	return Set{Name: name, Sources: []string{name}, Policies: snap.Policies, Authorizer: snap.Authorizer}
}
