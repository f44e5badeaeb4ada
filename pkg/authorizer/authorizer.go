// Package authorizer defines the question the engine asks about a policy
// ("may this subject use it here?") and the identities it asks it for.
// Implementations live elsewhere: local RBAC evaluation (package rbac) and,
// in cluster mode, SubjectAccessReview.
package authorizer

import (
	"context"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// UserInfo is an authenticated identity: a user name and its groups, and
// for a request's user its uid and extra attributes as the apiserver
// authenticated them (v1.24 passed the whole user.Info to the authorizer;
// an authorizer other than RBAC, a webhook say, may read them).
type UserInfo struct {
	Name   string              `json:"name"`
	UID    string              `json:"uid,omitempty"`
	Groups []string            `json:"groups,omitempty"`
	Extra  map[string][]string `json:"extra,omitempty"`
}

// Attributes is one authorization question, shaped like the apiserver's
// authorizer attributes for a resource request.
type Attributes struct {
	User      UserInfo
	Verb      string
	Namespace string
	APIGroup  string
	Resource  string
	Name      string
}

// Authorizer answers authorization questions. An error means the answer is
// unknown; callers treat it as a denial and report it.
type Authorizer interface {
	// Authorize reports whether the request is allowed, and why: the
	// binding and role that allow it, or why nothing did.
	Authorize(ctx context.Context, attrs Attributes) (allowed bool, reason string, err error)
}

// Group names with a fixed meaning in Kubernetes authentication.
const (
	// GroupMasters may do everything: a real apiserver allows it before RBAC is asked.
	GroupMasters = "system:masters"
	// GroupAuthenticated holds every authenticated user.
	GroupAuthenticated = "system:authenticated"
	// GroupServiceAccounts holds every ServiceAccount.
	GroupServiceAccounts = "system:serviceaccounts"

	serviceAccountUsernamePrefix = "system:serviceaccount:"
	serviceAccountGroupPrefix    = "system:serviceaccounts:"
)

// ServiceAccountsGroup is the group of every ServiceAccount of a
// namespace: "system:serviceaccounts:NAMESPACE".
func ServiceAccountsGroup(namespace string) string { return serviceAccountGroupPrefix + namespace }

// ServiceAccountUsername is "system:serviceaccount:NAMESPACE:NAME".
func ServiceAccountUsername(namespace, name string) string {
	return serviceAccountUsernamePrefix + namespace + ":" + name
}

// Names of the anonymous user and of the group of unauthenticated requests.
const (
	UserAnonymous        = "system:anonymous"
	GroupUnauthenticated = "system:unauthenticated"
)

// Impersonate is the identity a v1.37 apiserver gives a request that
// impersonates name with groups (kubectl --as NAME --as-group GROUP...), as
// k8s.io/apiserver pkg/endpoints/filters/impersonation/impersonation.go
// builds it:
//
//   - a name of the form system:serviceaccount:NAMESPACE:NAME (a valid
//     namespace and ServiceAccount name) without groups gets
//     system:serviceaccounts and system:serviceaccounts:NAMESPACE;
//   - given groups replace those: they are the authority;
//   - system:authenticated is added unless the groups hold it or
//     system:unauthenticated; for system:anonymous, system:unauthenticated is
//     added instead, unless present.
//
// The result never shares groups' backing array.
func Impersonate(name string, groups []string) UserInfo {
	u := UserInfo{Name: name, Groups: slices.Clone(groups)}
	if len(groups) == 0 {
		if ns, _, ok := SplitServiceAccountUsername(name); ok {
			u.Groups = []string{GroupServiceAccounts, ServiceAccountsGroup(ns)}
		}
	}
	if name == UserAnonymous {
		if !slices.Contains(u.Groups, GroupUnauthenticated) {
			u.Groups = append(u.Groups, GroupUnauthenticated)
		}
		return u
	}
	if !slices.Contains(u.Groups, GroupAuthenticated) && !slices.Contains(u.Groups, GroupUnauthenticated) {
		u.Groups = append(u.Groups, GroupAuthenticated)
	}
	return u
}

// SplitServiceAccountUsername returns the namespace and name of a
// ServiceAccount user name, system:serviceaccount:NAMESPACE:NAME, and false
// when username is not one: the namespace must be a DNS label and the name a
// DNS subdomain, as k8s.io/apiserver pkg/authentication/serviceaccount's
// SplitUsername requires.
func SplitServiceAccountUsername(username string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(username, serviceAccountUsernamePrefix)
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 2 {
		return "", "", false
	}
	namespace, name = parts[0], parts[1]
	if len(validation.IsDNS1123Label(namespace)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 {
		return "", "", false
	}
	return namespace, name, true
}
