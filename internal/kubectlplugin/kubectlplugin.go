// Package kubectlplugin follows kubectl's plugin conventions for kube-psp's
// one binary (k8s.io/kubectl v0.37 pkg/cmd/plugin/plugin.go and
// plugin_completion.go): an executable kubectl-psp on the PATH is `kubectl
// psp`, and kubectl (v1.26 or later) completes `kubectl psp ...` by running
// kubectl_complete-psp with the words after `psp`.
package kubectlplugin

import (
	"path/filepath"
	"strings"
)

// Invocation is what the program was started as.
type Invocation struct {
	// Name is the command users type: "psp" or, as a plugin, "kubectl psp".
	Name string
	// Complete is true for kubectl_complete-psp: the arguments are words
	// to complete.
	Complete bool
}

// InvokedAs tells from argv0 how the program was started: kubectl-psp is
// `kubectl psp`, kubectl_complete-psp completes it; any other name, and a
// Windows .exe suffix, is psp.
func InvokedAs(argv0 string) Invocation {
	switch strings.TrimSuffix(filepath.Base(argv0), ".exe") {
	case "kubectl-psp":
		return Invocation{Name: "kubectl psp"}
	case "kubectl_complete-psp":
		return Invocation{Name: "kubectl psp", Complete: true}
	}
	return Invocation{Name: "psp"}
}

// CompletionScript is kubectl_complete-psp as a shell script: kubectl runs
// it with the words after `kubectl psp` and reads cobra's __complete answer.
const CompletionScript = `#!/bin/sh
# kubectl_complete-psp: kubectl v1.26 or later runs it to complete "kubectl psp ...".
# Install it executable on the PATH, beside kubectl-psp.
exec kubectl-psp __complete "$@"
`
