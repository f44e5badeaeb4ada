package engine

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
)

func ptr[T any](v T) *T { return &v }

// permissivePolicy allows everything; control tests tighten one setting.
func permissivePolicy(name string) *policyv1.PodSecurityPolicy {
	return &policyv1.PodSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{
			policyv1.SeccompAllowedProfilesAnnotationKey: "*",
		}},
		Spec: policyv1.PodSecurityPolicySpec{
			Privileged:               true,
			AllowPrivilegeEscalation: ptr(true),
			AllowedCapabilities:      []corev1.Capability{"*"},
			Volumes:                  []policyv1.FSType{"*"},
			HostNetwork:              true,
			HostPorts:                []policyv1.HostPortRange{{Min: 0, Max: 65535}},
			HostIPC:                  true,
			HostPID:                  true,
			RunAsUser:                policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyRunAsAny},
			SELinux:                  policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyRunAsAny},
			SupplementalGroups:       policyv1.SupplementalGroupsStrategyOptions{Rule: policyv1.SupplementalGroupsStrategyRunAsAny},
			FSGroup:                  policyv1.FSGroupStrategyOptions{Rule: policyv1.FSGroupStrategyRunAsAny},
			AllowedUnsafeSysctls:     []string{"*"},
			AllowedProcMountTypes:    []corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount},
		},
	}
}

// restrictedPolicy is the restricted policy of the seed article (EKS).
func restrictedPolicy(name string) *policyv1.PodSecurityPolicy {
	return &policyv1.PodSecurityPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: policyv1.PodSecurityPolicySpec{
			AllowPrivilegeEscalation: ptr(false),
			FSGroup:                  policyv1.FSGroupStrategyOptions{Rule: policyv1.FSGroupStrategyMustRunAs, Ranges: []policyv1.IDRange{{Min: 1, Max: 65535}}},
			HostPorts:                []policyv1.HostPortRange{{Min: 1025, Max: 65535}},
			ReadOnlyRootFilesystem:   true,
			RequiredDropCapabilities: []corev1.Capability{"ALL"},
			RunAsUser:                policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAsNonRoot},
			SELinux:                  policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyRunAsAny},
			SupplementalGroups:       policyv1.SupplementalGroupsStrategyOptions{Rule: policyv1.SupplementalGroupsStrategyMustRunAs, Ranges: []policyv1.IDRange{{Min: 1, Max: 65535}}},
			Volumes:                  []policyv1.FSType{"configMap", "emptyDir", "projected", "secret", "downwardAPI", "persistentVolumeClaim", "awsElasticBlockStore"},
		},
	}
}

func newPod(containers ...corev1.Container) *corev1.Pod {
	if len(containers) == 0 {
		containers = []corev1.Container{{Name: "app", Image: "nginx"}}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "pod", Namespace: "ns"},
		Spec:       corev1.PodSpec{Containers: containers},
	}
}

func compileProvider(t *testing.T, p *policyv1.PodSecurityPolicy) *provider {
	t.Helper()
	p = p.DeepCopy()
	policyv1.SetDefaults(p)
	prov, err := newProvider(p)
	if err != nil {
		t.Fatalf("newProvider: %v", err)
	}
	return prov
}

// applyPolicy defaults and validates a copy of pod with one policy and
// returns the copy, the changed fields and the error texts. It also checks
// that the recorded changes agree with a deep comparison of the pods.
func applyPolicy(t *testing.T, p *policyv1.PodSecurityPolicy, pod *corev1.Pod) (*corev1.Pod, []string, []string) {
	t.Helper()
	podCopy := pod.DeepCopy()
	changes, errs := compileProvider(t, p).apply(podCopy)
	if mutated := !equality.Semantic.DeepEqual(pod, podCopy); mutated != (len(changes) > 0) {
		t.Errorf("recorded changes %v disagree with deep comparison (mutated=%v)", changes, mutated)
	}
	var fields, msgs []string
	for _, c := range changes {
		fields = append(fields, c.Field)
	}
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	return podCopy, fields, msgs
}

// controlCase is one row of a control's table test.
type controlCase struct {
	name        string
	policy      func(p *policyv1.PodSecurityPolicy)
	pod         func(pod *corev1.Pod)
	wantChanges []string
	wantErrors  []string
	check       func(t *testing.T, pod *corev1.Pod)
}

func runControlCases(t *testing.T, cases []controlCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := permissivePolicy("p")
			if tc.policy != nil {
				tc.policy(p)
			}
			pod := newPod()
			if tc.pod != nil {
				tc.pod(pod)
			}
			got, changes, errs := applyPolicy(t, p, pod)
			if !slices.Equal(changes, tc.wantChanges) {
				t.Errorf("changes:\n got  %q\n want %q", changes, tc.wantChanges)
			}
			if !slices.Equal(errs, tc.wantErrors) {
				t.Errorf("errors:\n got  %s\n want %s", strings.Join(errs, "\n      "), strings.Join(tc.wantErrors, "\n      "))
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func sc(c *corev1.Container) *corev1.SecurityContext { return ensureContainerSC(c) }
func psc(p *corev1.Pod) *corev1.PodSecurityContext {
	if p.Spec.SecurityContext == nil {
		p.Spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	return p.Spec.SecurityContext
}

// staticAuthorizer allows `use` of the listed policies to the listed users.
type staticAuthorizer struct {
	// grants maps a user name to the policies (and API group, "" for any) it may use.
	grants map[string][]string
	calls  []authorizer.Attributes
	err    error
}

func (s *staticAuthorizer) Authorize(_ context.Context, a authorizer.Attributes) (bool, string, error) {
	s.calls = append(s.calls, a)
	if s.err != nil {
		return false, "", s.err
	}
	for _, p := range s.grants[a.User.Name] {
		if p == a.Name || p == "*" {
			return true, "static grant to " + a.User.Name, nil
		}
	}
	return false, "", nil
}

func allowAll() *staticAuthorizer {
	return &staticAuthorizer{grants: map[string][]string{"user": {"*"}}}
}

func mustSet(t *testing.T, policies ...*policyv1.PodSecurityPolicy) *PolicySet {
	t.Helper()
	set, err := NewPolicySet(policies)
	if err != nil {
		t.Fatalf("NewPolicySet: %v", err)
	}
	return set
}
