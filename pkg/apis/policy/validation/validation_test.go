package validation

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
)

func validPolicy() *policyv1.PodSecurityPolicy {
	t := true
	return &policyv1.PodSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: policyv1.PodSecurityPolicySpec{
			RunAsUser:                policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyRunAsAny},
			SELinux:                  policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyRunAsAny},
			SupplementalGroups:       policyv1.SupplementalGroupsStrategyOptions{Rule: policyv1.SupplementalGroupsStrategyRunAsAny},
			FSGroup:                  policyv1.FSGroupStrategyOptions{Rule: policyv1.FSGroupStrategyRunAsAny},
			AllowPrivilegeEscalation: &t,
		},
	}
}

func TestValidatePodSecurityPolicy(t *testing.T) {
	f := false
	tr := true
	tests := []struct {
		name   string
		modify func(p *policyv1.PodSecurityPolicy)
		want   []string
	}{
		{"valid", func(*policyv1.PodSecurityPolicy) {}, nil},
		{"no name", func(p *policyv1.PodSecurityPolicy) { p.Name = "" }, []string{"metadata.name: Required value: name or generateName is required"}},
		{"bad name", func(p *policyv1.PodSecurityPolicy) { p.Name = "Bad_Name" }, []string{`metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain`}},
		{"namespaced", func(p *policyv1.PodSecurityPolicy) { p.Namespace = "x" }, []string{"metadata.namespace: Forbidden: not allowed on this type"}},
		{"empty rules", func(p *policyv1.PodSecurityPolicy) {
			p.Spec.RunAsUser.Rule, p.Spec.SELinux.Rule, p.Spec.FSGroup.Rule, p.Spec.SupplementalGroups.Rule = "", "", "", ""
		}, []string{
			`spec.runAsUser.rule: Unsupported value: "": supported values: "MustRunAs", "MustRunAsNonRoot", "RunAsAny"`,
			`spec.seLinux.rule: Unsupported value: "": supported values: "MustRunAs", "RunAsAny"`,
			`spec.supplementalGroups.rule: Unsupported value: "": supported values: "MayRunAs", "MustRunAs", "RunAsAny"`,
			`spec.fsGroup.rule: Unsupported value: "": supported values: "MayRunAs", "MustRunAs", "RunAsAny"`,
		}},
		{"bad ranges", func(p *policyv1.PodSecurityPolicy) {
			p.Spec.RunAsUser = policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAs, Ranges: []policyv1.IDRange{{Min: -1, Max: 5}, {Min: 10, Max: 5}}}
		}, []string{
			"spec.runAsUser.ranges[0].min: Invalid value: -1: min cannot be negative",
			"spec.runAsUser.ranges[1].min: Invalid value: 10: min cannot be greater than max",
		}},
		{"runAsGroup", func(p *policyv1.PodSecurityPolicy) {
			p.Spec.RunAsGroup = &policyv1.RunAsGroupStrategyOptions{Rule: policyv1.RunAsGroupStrategyMustRunAs}
		}, []string{"spec.runAsGroup.ranges: Invalid value: []policy.IDRange(nil): must provide at least one range"}},
		{"runAsGroup RunAsAny with ranges", func(p *policyv1.PodSecurityPolicy) {
			p.Spec.RunAsGroup = &policyv1.RunAsGroupStrategyOptions{Rule: policyv1.RunAsGroupStrategyRunAsAny, Ranges: []policyv1.IDRange{{Min: 1, Max: 2}}}
		}, []string{"spec.runAsGroup.ranges: Invalid value: []policy.IDRange{policy.IDRange{Min:1, Max:2}}: Ranges must be empty"}},
		{"unknown volume", func(p *policyv1.PodSecurityPolicy) { p.Spec.Volumes = []policyv1.FSType{"hostpath"} }, []string{`spec.volumes: Unsupported value: "hostpath": supported values: "*", "awsElasticBlockStore",`}},
		{"drop and allow", func(p *policyv1.PodSecurityPolicy) {
			p.Spec.RequiredDropCapabilities = []corev1.Capability{"NET_RAW"}
			p.Spec.AllowedCapabilities = []corev1.Capability{"NET_RAW"}
			p.Spec.DefaultAddCapabilities = []corev1.Capability{"NET_RAW"}
		}, []string{
			`defaultAddCapabilities: Invalid value: "NET_RAW": capability is listed in defaultAddCapabilities and requiredDropCapabilities`,
			`allowedCapabilities: Invalid value: "NET_RAW": capability is listed in allowedCapabilities and requiredDropCapabilities`,
		}},
		{"drop with wildcard", func(p *policyv1.PodSecurityPolicy) {
			p.Spec.RequiredDropCapabilities = []corev1.Capability{"ALL"}
			p.Spec.AllowedCapabilities = []corev1.Capability{"*"}
		}, []string{`requiredDropCapabilities: Invalid value: []core.Capability{"ALL"}: must be empty when all capabilities are allowed by a wildcard`}},
		{"default escalation without allow", func(p *policyv1.PodSecurityPolicy) {
			p.Spec.AllowPrivilegeEscalation, p.Spec.DefaultAllowPrivilegeEscalation = &f, &tr
		}, []string{"spec.defaultAllowPrivilegeEscalation: Invalid value: true: Cannot set DefaultAllowPrivilegeEscalation to true without also setting AllowPrivilegeEscalation to true"}},
		{"proc mount", func(p *policyv1.PodSecurityPolicy) { p.Spec.AllowedProcMountTypes = []corev1.ProcMountType{"Masked"} }, []string{
			`spec.allowedProcMountTypes[0]: Unsupported value: "Masked": supported values: "Default", "Unmasked"`}},
		{"host paths", func(p *policyv1.PodSecurityPolicy) {
			p.Spec.AllowedHostPaths = []policyv1.AllowedHostPath{{PathPrefix: "/var/../etc"}, {PathPrefix: ""}}
		}, []string{`spec.allowedHostPaths[0]: Invalid value: "/var/../etc": must not contain '..'`, "spec.allowedHostPaths[1]: Required value: is required"}},
		{"flex", func(p *policyv1.PodSecurityPolicy) { p.Spec.AllowedFlexVolumes = []policyv1.AllowedFlexVolume{{}} }, []string{
			"spec.allowedFlexVolumes.allowedFlexVolumes[0].driver: Required value: must specify a driver"}},
		{"csi", func(p *policyv1.PodSecurityPolicy) {
			p.Spec.AllowedCSIDrivers = []policyv1.AllowedCSIDriver{{Name: "Bad Name"}}
		}, []string{
			`spec.allowedCSIDrivers.allowedCSIDriver[0].name: Invalid value: "Bad Name": a lowercase RFC 1123 subdomain`}},
		{"sysctls", func(p *policyv1.PodSecurityPolicy) {
			p.Spec.AllowedUnsafeSysctls = []string{"kernel.*", "", "Bad"}
			p.Spec.ForbiddenSysctls = []string{"kernel.shm_rmid_forced", "*", "net.ipv4.x"}
		}, []string{
			`spec.allowedUnsafeSysctls[1]: Invalid value: "": empty sysctl not allowed`,
			`spec.allowedUnsafeSysctls[2]: Invalid value: "Bad": must have at most 253 characters and match regex`,
			`spec.forbiddenSysctls.items: Forbidden: if '*' is present, must not specify other sysctls`,
			`spec.forbiddenSysctls[0]: Invalid value: "kernel.shm_rmid_forced": sysctl overlaps with kernel.*`,
			`spec.allowedUnsafeSysctls[0]: Invalid value: "kernel.*": sysctl overlaps with *`,
			`spec.allowedUnsafeSysctls[1]: Invalid value: "": sysctl overlaps with *`,
			`spec.allowedUnsafeSysctls[2]: Invalid value: "Bad": sysctl overlaps with *`,
		}},
		{"runtime class", func(p *policyv1.PodSecurityPolicy) {
			p.Spec.RuntimeClass = &policyv1.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"a", "a", "*"}, DefaultRuntimeClassName: ptr("b")}
		}, []string{
			`spec.runtimeClass.allowedRuntimeClassNames[1]: Duplicate value: "a"`,
			`spec.runtimeClass.allowedRuntimeClassNames: Invalid value: []string{"a", "a", "*"}: if '*' is present, must not specify other RuntimeClass names`,
		}},
		{"runtime class default not allowed", func(p *policyv1.PodSecurityPolicy) {
			p.Spec.RuntimeClass = &policyv1.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"a"}, DefaultRuntimeClassName: ptr("b")}
		}, []string{`spec.runtimeClass.allowedRuntimeClassNames: Required value: default "b" must be allowed`}},
		{"annotations", func(p *policyv1.PodSecurityPolicy) {
			p.Annotations = map[string]string{
				policyv1.AppArmorDefaultProfileAnnotationKey:  "bogus",
				policyv1.AppArmorAllowedProfilesAnnotationKey: "runtime/default,bogus",
				policyv1.SeccompDefaultProfileAnnotationKey:   "localhost//abs",
				policyv1.SeccompAllowedProfilesAnnotationKey:  "*,runtime/default,nope",
			}
		}, []string{
			`metadata.annotations[apparmor.security.beta.kubernetes.io/defaultProfileName]: Invalid value: "bogus": invalid AppArmor profile name: "bogus"`,
			`metadata.annotations[apparmor.security.beta.kubernetes.io/allowedProfileNames]: Invalid value: "runtime/default,bogus": invalid AppArmor profile name: "bogus"`,
			`metadata.annotations[seccomp.security.alpha.kubernetes.io/defaultProfileName]: Invalid value: "/abs": must be a relative path`,
			`metadata.annotations[seccomp.security.alpha.kubernetes.io/allowedProfileNames]: Invalid value: "nope": must be a valid seccomp profile`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPolicy()
			tt.modify(p)
			errs := ValidatePodSecurityPolicy(p)
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d:\n got  %s\n want %s...", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestEveryFSTypeIsAccepted(t *testing.T) {
	p := validPolicy()
	p.Spec.Volumes = append(slices.Clone(policyv1.AllFSTypes), policyv1.All)
	if errs := ValidatePodSecurityPolicy(p); len(errs) != 0 {
		t.Errorf("got %v", errs)
	}
}

func ptr[T any](v T) *T { return &v }

func TestExtensionsOnlyInKubePSPVersion(t *testing.T) {
	p := validPolicy()
	p.Spec.Volumes = []policyv1.FSType{"image"}
	p.Spec.RequireUserNamespace = true
	for _, v := range []string{"", policyv1.APIVersion} {
		p.APIVersion = v
		if errs := ValidatePodSecurityPolicy(p); len(errs) != 0 {
			t.Errorf("%q: %v", v, errs)
		}
	}
	for _, v := range []string{policyv1.LegacyPolicyAPIVersion, policyv1.LegacyExtensionsAPIVersion} {
		p.APIVersion = v
		errs := ValidatePodSecurityPolicy(p)
		if len(errs) != 2 || !strings.HasPrefix(errs[0].Error(), `spec.volumes: Unsupported value: "image"`) ||
			errs[1].Error() != "spec.requireUserNamespace: Forbidden: requires apiVersion policy.kube-psp.io/v1" {
			t.Errorf("%q: %v", v, errs)
		}
	}
}
