// Command psp is kube-psp's one binary: PodSecurityPolicy for clusters that
// no longer have it. Installed as kubectl-psp it is also `kubectl psp`, and
// linked or copied as kubectl_complete-psp it completes `kubectl psp` for
// kubectl's own shell completion.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	os.Exit(execute(os.Args[0], os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// execute runs the command line as the program argv0 and returns the exit status.
func execute(argv0 string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	inv := invokedAs(argv0)
	if inv.complete {
		// kubectl passes the words after `kubectl psp` and the word being
		// completed; cobra's hidden __complete command answers in the
		// format kubectl reads (candidates, then ":DIRECTIVE").
		args = append([]string{"__complete"}, args...)
	}
	cmd := newRootCommand(inv.name, stdin, stdout, stderr)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		var exit *exitError
		if errors.As(err, &exit) {
			return exit.code
		}
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 2
	}
	return 0
}

// invocation is what the program was started as.
type invocation struct {
	// name is the command users type: "psp" or, as a plugin, "kubectl psp".
	name string
	// complete is true for kubectl_complete-psp.
	complete bool
}

// invokedAs follows kubectl's plugin conventions
// (k8s.io/kubectl v0.37 pkg/cmd/plugin/plugin.go and plugin_completion.go):
// an executable kubectl-psp on the PATH is `kubectl psp`, and kubectl (v1.26
// or later) completes `kubectl psp ...` by running kubectl_complete-psp with
// the words after `psp`. Any other name, and a Windows .exe suffix, is psp.
func invokedAs(argv0 string) invocation {
	switch strings.TrimSuffix(filepath.Base(argv0), ".exe") {
	case "kubectl-psp":
		return invocation{name: "kubectl psp"}
	case "kubectl_complete-psp":
		return invocation{name: "kubectl psp", complete: true}
	}
	return invocation{name: "psp"}
}

// exitError ends the command with a code and no further message.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
