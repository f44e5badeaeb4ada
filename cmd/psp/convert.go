package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/kube-psp/kube-psp/pkg/convert"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/presets"
)

func newConvertCommand(name string) *cobra.Command {
	var files []string
	var to string
	var strict, rbacGrants bool
	cmd := &cobra.Command{
		Use:   "convert -f PATH... [--to VERSION]",
		Short: "Convert PodSecurityPolicies between policy/v1beta1 and kube-psp's CRD (policy.kube-psp.io/v1)",
		Long: `Convert reads PodSecurityPolicies written as policy/v1beta1,
extensions/v1beta1 or policy.kube-psp.io/v1 and writes them in the version
--to names: policy.kube-psp.io/v1 (the CRD kube-psp serves, the default) or
back as policy/v1beta1. Policies are validated as the v1.24 apiserver did;
the defaults it applied (allowPrivilegeEscalation: true when unset) are
written out. RBAC needs no conversion: grants of use in the policy or
extensions group keep working, and other objects are ignored.

With --rbac, the Roles and ClusterRoles among the input that grant use of
PodSecurityPolicies in group policy or extensions are written too, with
policy.kube-psp.io added to those rules. kube-psp does not need it, but
kubectl auth can-i use podsecuritypolicy/NAME asks about the CRD's group
and answers "no" for a grant written for v1.24 until then.`,
		Example: `  ` + name + ` convert -f old-psp.yaml > psp-crs.yaml && kubectl apply -f psp-crs.yaml
  kubectl get psp -o yaml | ` + name + ` convert -f - --to policy/v1beta1

  # Let kubectl auth can-i see the cluster's old grants
  kubectl get clusterroles,roles -A -o yaml | ` + name + ` convert -f - --rbac | kubectl apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := convert.Read(files, cmd.InOrStdin(), loader.Options{Strict: strict})
			if err != nil {
				return err
			}
			warn(cmd, res.Warnings)
			out, err := convert.Write(res, to, rbacGrants)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "policy file or directory, or - for standard input (repeatable)")
	cmd.Flags().StringVar(&to, "to", "policy.kube-psp.io/v1", "version to write: "+strings.Join(convert.APIVersions, ", "))
	cmd.Flags().BoolVar(&strict, "strict", false, "refuse unknown fields instead of warning")
	cmd.Flags().BoolVar(&rbacGrants, "rbac", false, "also write the Roles and ClusterRoles that grant use in group policy or extensions, with policy.kube-psp.io added (for kubectl auth can-i)")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

func newInitCommand(name string) *cobra.Command {
	var preset, to string
	cmd := &cobra.Command{
		Use:   "init --preset NAME",
		Short: "Print policies and RBAC to apply to a cluster, from a built-in preset",
		Long: `Init prints the built-in policies (restricted from the EKS PSP guide, the Pod
Security Standards baseline, and eks.privileged) and the RBAC that grants
the preset's policy to every authenticated user, ready for kubectl apply.
Presets: restricted, baseline, privileged, and eks (eks.privileged with
EKS's own eks:podsecuritypolicy:* role and binding names).

The grants name API groups policy and policy.kube-psp.io, so that kubectl
auth can-i agrees with admission. Narrow them afterwards: bind permissive
policies to the ServiceAccounts that need them only (` + name + ` lint finds the rest).`,
		Example: `  ` + name + ` init --preset restricted | kubectl apply -f -
  ` + name + ` init --preset eks --to policy/v1beta1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := convert.Preset(preset, to)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&preset, "preset", "restricted", "preset: "+strings.Join(presets.Names, ", "))
	cmd.Flags().StringVar(&to, "to", "policy.kube-psp.io/v1", "version to write the policies in: "+strings.Join(convert.APIVersions, ", "))
	return cmd
}
