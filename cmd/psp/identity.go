package main

import (
	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
)

// identityFlags are kubectl's --as and --as-group: the user an offline
// command acts as. user() is the one place they become a user.
type identityFlags struct {
	as     string
	groups []string
}

// addFlags adds --as (with its default and help) and --as-group.
func (f *identityFlags) addFlags(cmd *cobra.Command, defaultUser, usage string) {
	cmd.Flags().StringVar(&f.as, "as", defaultUser, usage)
	cmd.Flags().StringSliceVar(&f.groups, "as-group", nil, "group of the --as user, replacing a ServiceAccount's groups, as in kubectl (repeatable)")
}

// given reports whether --as names a user.
func (f *identityFlags) given() bool { return f.as != "" }

// user is the identity a v1.37 apiserver gives a request impersonating
// --as with --as-group (authorizer.Impersonate).
func (f *identityFlags) user() authorizer.UserInfo { return authorizer.Impersonate(f.as, f.groups) }
