// Command psp is kube-psp's one binary: PodSecurityPolicy for clusters that
// no longer have it. Installed as kubectl-psp it is also `kubectl psp`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	name := "psp"
	if strings.HasPrefix(filepath.Base(os.Args[0]), "kubectl-psp") {
		name = "kubectl psp"
	}
	cmd := newRootCommand(name, os.Stdin, os.Stdout, os.Stderr)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		var exit *exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(2)
	}
}

// exitError ends the command with a code and no further message.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
