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

	"github.com/kube-psp/kube-psp/internal/kubectlplugin"
)

func main() {
	os.Exit(execute(os.Args[0], os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// execute runs the command line as the program argv0 and returns the exit status.
func execute(argv0 string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	inv := kubectlplugin.InvokedAs(argv0)
	if inv.Complete {
		// kubectl passes the words after `kubectl psp` and the word being
		// completed; cobra's hidden __complete command answers in the
		// format kubectl reads (candidates, then ":DIRECTIVE").
		args = append([]string{"__complete"}, args...)
	}
	cmd := newRootCommand(inv.Name, stdin, stdout, stderr)
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

// exitError ends the command with a code and no further message.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
