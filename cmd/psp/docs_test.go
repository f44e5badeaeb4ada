package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kube-psp/kube-psp/pkg/version"
)

// TestDocExamples runs every command of the ```console blocks of README.md
// and docs/ ("$ psp ARGS" or "$ go run ./cmd/psp ARGS") and compares the
// lines after it with what the command prints on stdout. With -update it
// rewrites the blocks with the real output. `psp version` runs on the
// fixed build of TestVersionGolden, its volatile parts injected.
func TestDocExamples(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	files := []string{"README.md"}
	err := filepath.WalkDir("docs", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got := runConsoleBlocks(t, file, string(data), &blocks)
		if got == string(data) {
			continue
		}
		if *update {
			if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s: an example's output differs from a real run (%s); run go test ./cmd/psp -run TestDocExamples -update and review the diff", file, firstDifference(string(data), got))
	}
	if blocks < 3 {
		t.Errorf("found %d console blocks; the README's and the docs' examples were not found", blocks)
	}
}

// firstDifference names the first line where the doc and the real run differ.
func firstDifference(doc, real string) string {
	d, r := strings.Split(doc, "\n"), strings.Split(real, "\n")
	for i := range min(len(d), len(r)) {
		if d[i] != r[i] {
			return fmt.Sprintf("line %d: the doc says %q, the program prints %q", i+1, d[i], r[i])
		}
	}
	return fmt.Sprintf("the doc has %d lines, with the real output %d", len(d), len(r))
}

var consoleBlock = regexp.MustCompile("(?s)```console\n(.*?)```")

// runConsoleBlocks returns doc with the output of every console block's
// commands replaced by a real run's.
func runConsoleBlocks(t *testing.T, file, doc string, blocks *int) string {
	return consoleBlock.ReplaceAllStringFunc(doc, func(block string) string {
		*blocks++
		body := consoleBlock.FindStringSubmatch(block)[1]
		var out strings.Builder
		for _, line := range strings.SplitAfter(body, "\n") {
			cmd, ok := strings.CutPrefix(line, "$ ")
			if !ok {
				continue // the output, replaced below
			}
			out.WriteString(line)
			out.WriteString(runDocCommand(t, file, strings.TrimSpace(cmd)))
		}
		return "```console\n" + out.String() + "```"
	})
}

// runDocCommand runs one documented psp command line and returns its stdout.
func runDocCommand(t *testing.T, file, line string) string {
	t.Helper()
	var rest string
	var ok bool
	for _, prefix := range []string{"go run ./cmd/psp ", "psp ", "kubectl psp "} {
		if rest, ok = strings.CutPrefix(line, prefix); ok {
			break
		}
	}
	if !ok || strings.ContainsAny(rest, `|<>;&'"$`) {
		t.Errorf("%s: %q: a console block holds psp commands without shell syntax, so that its output can be checked", file, line)
		return ""
	}
	args := strings.Fields(rest)
	if args[0] == "version" {
		cmd := newVersionCommand(testBuild)
		var buf bytes.Buffer
		cmd.SetOut(&buf)
		cmd.SetArgs(args[1:])
		if err := cmd.Execute(); err != nil {
			t.Errorf("%s: %s: %v", file, line, err)
		}
		return buf.String()
	}
	out, _, _ := run(t, "", args...)
	return out
}

// testBuild is a build with fixed values where a real one's vary.
func testBuild() version.Info {
	return version.Info{Version: "v0.3.0", GitCommit: "0123456789abcdef0123456789abcdef01234567", GitTreeState: "clean", CommitDate: "2026-11-29T22:18:43Z", GoVersion: "go1.26.0", Platform: "linux/amd64"}
}

// TestDocThroughput: the throughput quoted in README.md and
// docs/commands/check.md is the one docs/performance.md measured.
func TestDocThroughput(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	figure := regexp.MustCompile(`about ([0-9,]+) workloads/s`)
	quote := func(file string) string {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m := figure.FindSubmatch(data)
		if m == nil {
			t.Fatalf("%s quotes no throughput (about N workloads/s)", file)
		}
		return string(m[1])
	}
	measured := quote("docs/performance.md")
	for _, file := range []string{"README.md", "docs/commands/check.md"} {
		if got := quote(file); got != measured {
			t.Errorf("%s says about %s workloads/s, docs/performance.md measured %s", file, got, measured)
		}
	}
}
