package differential

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/apis/policy/validation"
)

// breakPolicy applies one to three random defects to a valid policy.
func (g gen) breakPolicy(p *policyv1.PodSecurityPolicy) {
	defects := []func(){
		func() { p.Name = pick(g, "", "Bad_Name", "-x", strings.Repeat("a", 254)) },
		func() { p.Namespace = "ns" },
		func() { p.Spec.RunAsUser.Rule = pick(g, policyv1.RunAsUserStrategy(""), "Sometimes") },
		func() { p.Spec.SELinux.Rule = pick(g, policyv1.SELinuxStrategy(""), "Never") },
		func() { p.Spec.FSGroup.Rule = "Whatever" },
		func() { p.Spec.SupplementalGroups.Rule = "Whatever" },
		func() { p.Spec.RunAsUser.Ranges = []policyv1.IDRange{{Min: -1, Max: -2}, {Min: 9, Max: 3}} },
		func() { p.Spec.FSGroup.Ranges = []policyv1.IDRange{{Min: 10, Max: 1}} },
		func() {
			p.Spec.RunAsGroup = pick(g, &policyv1.RunAsGroupStrategyOptions{Rule: "MustRunAs"}, &policyv1.RunAsGroupStrategyOptions{Rule: "RunAsAny", Ranges: []policyv1.IDRange{{Min: 1, Max: 2}}},
				&policyv1.RunAsGroupStrategyOptions{Rule: "Bogus"}, &policyv1.RunAsGroupStrategyOptions{Rule: "MayRunAs", Ranges: []policyv1.IDRange{{Min: 3, Max: 1}}})
		},
		func() { p.Spec.Volumes = append(p.Spec.Volumes, pick(g, policyv1.FSType("hostpath"), "image", "")) },
		func() {
			p.Spec.RequiredDropCapabilities = []corev1.Capability{"NET_RAW", "ALL"}
			p.Spec.AllowedCapabilities = pick(g, []corev1.Capability{"*"}, []corev1.Capability{"NET_RAW", "CHOWN"})
			p.Spec.DefaultAddCapabilities = pick(g, nil, []corev1.Capability{"ALL"})
		},
		func() {
			p.Spec.AllowPrivilegeEscalation, p.Spec.DefaultAllowPrivilegeEscalation = ptr(false), ptr(true)
		},
		func() {
			p.Spec.AllowedProcMountTypes = []corev1.ProcMountType{"Default", pick(g, corev1.ProcMountType("Masked"), "")}
		},
		func() {
			p.Spec.AllowedHostPaths = pick(g, []policyv1.AllowedHostPath{{PathPrefix: "/a/../b"}}, []policyv1.AllowedHostPath{{PathPrefix: ""}, {PathPrefix: ".."}})
		},
		func() { p.Spec.AllowedFlexVolumes = []policyv1.AllowedFlexVolume{{Driver: ""}} },
		func() {
			p.Spec.AllowedCSIDrivers = []policyv1.AllowedCSIDriver{{Name: pick(g, "", "Bad Name", strings.Repeat("x", 64), "UPPER.example.com")}}
		},
		func() {
			p.Spec.AllowedUnsafeSysctls = pick(g, []string{"", "Bad"}, []string{"kernel.*", "kernel.msgmax"}, []string{"*", "net.core.x"})
			p.Spec.ForbiddenSysctls = pick(g, nil, []string{"kernel.msgmax"}, []string{"kernel.*"}, []string{"*"}, []string{"a*", "net.*"})
		},
		func() {
			p.Spec.RuntimeClass = pick(g, &policyv1.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"a", "a"}},
				&policyv1.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"*", "b"}, DefaultRuntimeClassName: ptr("Bad")},
				&policyv1.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"a"}, DefaultRuntimeClassName: ptr("b")})
		},
		func() {
			p.Annotations[pick(g, policyv1.AppArmorDefaultProfileAnnotationKey, policyv1.AppArmorAllowedProfilesAnnotationKey)] = pick(g, "bogus", "runtime/default,x", "localhost/ok")
		},
		func() {
			p.Annotations[pick(g, policyv1.SeccompDefaultProfileAnnotationKey, policyv1.SeccompAllowedProfilesAnnotationKey)] = pick(g, "bogus", "localhost//abs", "localhost/../x", "*,nope", "runtime/default")
		},
	}
	for i, n := 0, 1+g.r.IntN(3); i < n; i++ {
		pick(g, defects...)()
	}
}

// TestDifferentialPolicyValidation requires kube-psp's policy validation to
// report exactly the errors the v1.24.17 apiserver reported, in order.
func TestDifferentialPolicyValidation(t *testing.T) {
	up := startUpstream(t)
	n := caseCount(t) / 4
	failures := 0
	invalid := 0
	for seed := 0; seed < n && failures < 5; seed++ {
		g := gen{rand.New(rand.NewPCG(uint64(seed), 7))}
		p := g.policy(pick(g, policyNames...))
		g.breakPolicy(p)

		legacy := p.DeepCopy()
		legacy.APIVersion, legacy.Kind = policyv1.LegacyPolicyAPIVersion, policyv1.Kind
		raw, err := json.Marshal(legacy)
		if err != nil {
			t.Fatal(err)
		}
		theirs := up.validate(t, raw)

		ours := legacy.DeepCopy()
		policyv1.SetDefaults(ours)
		var got []string
		for _, e := range validation.ValidatePodSecurityPolicy(ours) {
			got = append(got, e.Error())
		}
		if len(theirs) > 0 {
			invalid++
		}
		if !slices.Equal(got, theirs) {
			failures++
			t.Errorf("seed %d:\n kube-psp %q\n v1.24    %q\n policy: %s", seed, got, theirs, raw)
		}
	}
	if invalid < n/2 {
		t.Errorf("only %d of %d generated policies were invalid: the generator lost its teeth", invalid, n)
	}
}

func (u *upstream) validate(t *testing.T, policy json.RawMessage) []string {
	t.Helper()
	if err := u.in.Encode(map[string]json.RawMessage{"validatePolicy": policy}); err != nil {
		t.Fatalf("sending case: %v", err)
	}
	if !u.out.Scan() {
		t.Fatalf("reference exited: %v", u.out.Err())
	}
	var a struct {
		Errors []string `json:"errors"`
		Error  string   `json:"error"`
	}
	if err := json.Unmarshal(u.out.Bytes(), &a); err != nil {
		t.Fatalf("decoding answer: %v", err)
	}
	if a.Error != "" {
		t.Fatalf("reference failed: %s", a.Error)
	}
	if len(a.Errors) == 0 {
		return nil
	}
	return a.Errors
}
