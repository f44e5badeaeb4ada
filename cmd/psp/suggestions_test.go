package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestErrorsSuggestOwnFlags: the errors of every command that reads
// manifests with -f suggest only flags that command has, for input without
// workloads and for a bad argument.
func TestErrorsSuggestOwnFlags(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	flagRE := regexp.MustCompile(`--[a-z][a-z0-9-]+`)
	root := newRootCommand("psp", strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	tested := 0
	for _, sub := range root.Commands() {
		if sub.Flags().Lookup("filename") == nil {
			continue
		}
		tested++
		for _, args := range [][]string{{sub.Name(), "-f", empty}, {sub.Name(), "-f", dir}} {
			_, errOut, _ := run(t, "", args...)
			for _, flag := range flagRE.FindAllString(errOut, -1) {
				if sub.Flags().Lookup(strings.TrimPrefix(flag, "--")) == nil && sub.InheritedFlags().Lookup(strings.TrimPrefix(flag, "--")) == nil {
					t.Errorf("%v suggests %s, which %s does not have: %s", args, flag, sub.Name(), errOut)
				}
			}
		}
	}
	if tested < 3 {
		t.Errorf("only %d commands read -f", tested)
	}
}
