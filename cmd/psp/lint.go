package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/pkg/lint"
)

func newLintCommand(name string) *cobra.Command {
	o := &sourceOptions{}
	var output, failOn string
	var rules strings.Builder
	for _, r := range lint.Rules {
		fmt.Fprintf(&rules, "  %-24s %s\n", r.ID, r.Summary)
	}
	cmd := &cobra.Command{
		Use:   "lint --policies PATH --rbac PATH",
		Short: "Find PodSecurityPolicy and RBAC mistakes: wildcard grants, permissive policies for everyone, shadowing",
		Long: `Lint checks policies and RBAC together for the mistakes that silently
weakened PSP clusters. Each finding has a severity, the file and document,
and a fix. Rules:

` + rules.String() + `
Exit status: 1 when a finding is at or above --fail-on, 2 on a usage or
input error, else 0.`,
		Example: `  ` + name + ` lint --policies examples/eks --rbac examples/eks
  ` + name + ` lint --policies psp/ --rbac rbac/ -o sarif > psp.sarif`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			threshold, err := lint.ParseSeverity(failOn)
			if err != nil {
				return fmt.Errorf("--fail-on: %w", err)
			}
			res, snap, err := o.load(cmd)
			if err != nil {
				return err
			}
			findings := lint.Lint(res, snap.Policies, snap.RBAC())
			switch output {
			case "text":
				err = lint.WriteText(cmd.OutOrStdout(), findings)
			case "json", "yaml":
				err = lint.WriteReport(cmd.OutOrStdout(), output, findings)
			case "sarif":
				err = lint.WriteSARIF(cmd.OutOrStdout(), findings)
			default:
				return fmt.Errorf("--output must be text, json, yaml or sarif, not %q", output)
			}
			if err != nil {
				return err
			}
			for _, f := range findings {
				if f.Severity >= threshold {
					return &exitError{code: 1}
				}
			}
			return nil
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or yaml (a LintReport, see docs/output.md), or sarif")
	cmd.Flags().StringVar(&failOn, "fail-on", "error", "exit 1 on findings at or above this severity: info, warning, error or none")
	return cmd
}
