package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
)

func decide(t *testing.T, set *PolicySet, authz authorizer.Authorizer, req Request) Decision {
	t.Helper()
	if req.Phase == "" {
		req.Phase = PhaseAdmit
	}
	if req.Operation == "" {
		req.Operation = OperationCreate
	}
	if req.Namespace == "" {
		req.Namespace = "ns"
	}
	if req.User.Name == "" {
		req.User = authorizer.UserInfo{Name: "user", Groups: []string{"system:authenticated"}}
	}
	before := req.Pod.DeepCopy()
	d, err := Decide(context.Background(), set, authz, req, Options{})
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	if !equality.Semantic.DeepEqual(before, req.Pod) {
		t.Fatal("Decide modified the request's pod")
	}
	return d
}

// privilegedPod asks for privileged: true and nothing else.
func privilegedPod() *corev1.Pod {
	return newPod(corev1.Container{Name: "app", Image: "x", SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}})
}

func TestDecideNoPolicies(t *testing.T) {
	d := decide(t, mustSet(t), allowAll(), Request{Pod: newPod()})
	if d.Allowed || d.Message != "PodSecurityPolicy: no providers available to validate pod request" {
		t.Errorf("got %+v", d)
	}
	// A policy v1.24 could not use does not count as a provider either.
	broken := permissivePolicy("broken")
	broken.Spec.RunAsUser = policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAs}
	set := mustSet(t, broken)
	if len(set.Unusable()) != 1 || !strings.Contains(set.Unusable()[0].Reason, "MustRunAs requires at least one range") {
		t.Errorf("unusable: %+v", set.Unusable())
	}
	if d := decide(t, set, allowAll(), Request{Pod: newPod()}); d.Message != NoProvidersMessage {
		t.Errorf("got %q", d.Message)
	}
}

func TestDecideNameOrderAndAnnotation(t *testing.T) {
	set := mustSet(t, permissivePolicy("zz"), permissivePolicy("aa"), permissivePolicy("mm"))
	d := decide(t, set, allowAll(), Request{Pod: newPod()})
	if !d.Allowed || d.Policy != "aa" {
		t.Fatalf("got %+v", d)
	}
	if d.Pod.Annotations["kubernetes.io/psp"] != "aa" {
		t.Errorf("annotation = %q", d.Pod.Annotations["kubernetes.io/psp"])
	}
	if len(d.Changes) != 1 || d.Changes[0].Field != "metadata.annotations[kubernetes.io/psp]" {
		t.Errorf("changes = %+v", d.Changes)
	}
	if d.Attempts[1].Outcome != OutcomeNotReached || d.Attempts[2].Outcome != OutcomeNotReached {
		t.Errorf("later policies should not be reached: %+v", d.Attempts)
	}
}

func TestDecidePrefersUnchanged(t *testing.T) {
	// "a-restricted" would default the pod; "b-privileged" admits it as is.
	set := mustSet(t, restrictedPolicy("a-restricted"), permissivePolicy("b-privileged"))
	d := decide(t, set, allowAll(), Request{Pod: newPod()})
	if d.Policy != "b-privileged" {
		t.Errorf("admit: chose %q, want the policy that does not mutate", d.Policy)
	}
	if d.Attempts[0].Outcome != OutcomeAdmittedWithChanges || d.Attempts[1].Outcome != OutcomeAdmitted || !d.Attempts[1].Chosen {
		t.Errorf("attempts = %+v", d.Attempts)
	}

	// Only mutating policies: the first one wins.
	set = mustSet(t, restrictedPolicy("b"), restrictedPolicy("a"))
	d = decide(t, set, allowAll(), Request{Pod: newPod()})
	if d.Policy != "a" || len(d.Changes) < 2 {
		t.Errorf("admit: chose %q with changes %+v", d.Policy, d.Changes)
	}
}

func TestDecideValidatePhase(t *testing.T) {
	set := mustSet(t, restrictedPolicy("a-restricted"), permissivePolicy("b-privileged"))
	admitted := decide(t, set, allowAll(), Request{Pod: newPod()}).Pod

	// The hint puts the annotated policy first.
	pod := newPod()
	pod.Annotations = map[string]string{"kubernetes.io/psp": "b-privileged"}
	d := decide(t, set, allowAll(), Request{Phase: PhaseValidate, Pod: pod})
	if !d.Allowed || d.Policy != "b-privileged" || d.Attempts[0].Policy != "b-privileged" {
		t.Errorf("hint: %+v", d)
	}
	if len(d.Changes) != 0 || d.Pod != pod {
		t.Errorf("validate must not change the pod")
	}

	// A policy that would change the pod is skipped without an error.
	set = mustSet(t, restrictedPolicy("restricted"))
	d = decide(t, set, allowAll(), Request{Phase: PhaseValidate, Pod: newPod()})
	if d.Allowed || d.Message != "PodSecurityPolicy: unable to validate pod: []" || d.Attempts[0].Outcome != OutcomeWouldMutate {
		t.Errorf("mutating policy in validate phase: %+v", d)
	}
	// The pod the admit phase produced validates.
	if d := decide(t, mustSet(t, restrictedPolicy("a-restricted"), permissivePolicy("b-privileged")), allowAll(),
		Request{Phase: PhaseValidate, Pod: admitted}); !d.Allowed {
		t.Errorf("admitted pod refused in validate phase: %s", d.Message)
	}
}

func TestDecideDenialMessage(t *testing.T) {
	restrictive := permissivePolicy("a")
	restrictive.Spec.Privileged = false
	other := permissivePolicy("b")
	other.Spec.Privileged = false
	other.Spec.HostNetwork = false
	pod := privilegedPod()
	pod.Spec.HostNetwork = true

	// Both usable: errors of both, in policy order.
	d := decide(t, mustSet(t, other, restrictive), allowAll(), Request{Pod: pod})
	want := "PodSecurityPolicy: unable to admit pod: [" +
		"spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed " +
		"spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used " +
		"spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]"
	if d.Allowed || d.Message != want {
		t.Errorf("got  %s\nwant %s", d.Message, want)
	}

	// Only "b" usable: only its errors.
	authz := &staticAuthorizer{grants: map[string][]string{"user": {"b"}}}
	d = decide(t, mustSet(t, other, restrictive), authz, Request{Pod: pod})
	want = "PodSecurityPolicy: unable to admit pod: [" +
		"spec.securityContext.hostNetwork: Invalid value: true: Host network is not allowed to be used " +
		"spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]"
	if d.Message != want {
		t.Errorf("got  %s\nwant %s", d.Message, want)
	}

	// None usable: the infamous empty list.
	d = decide(t, mustSet(t, other, restrictive), &staticAuthorizer{}, Request{Pod: pod})
	if d.Message != "PodSecurityPolicy: unable to admit pod: []" {
		t.Errorf("got %s", d.Message)
	}
	for _, a := range d.Attempts {
		if a.Outcome != OutcomeInvalid || a.Authorization == nil || a.Authorization.Allowed {
			t.Errorf("attempt %+v", a)
		}
	}
}

func TestDecideAuthorization(t *testing.T) {
	set := mustSet(t, permissivePolicy("privileged"))

	// Not authorized: admitted by nothing, and the policy's (absent) errors are not shown.
	d := decide(t, set, &staticAuthorizer{}, Request{Pod: newPod()})
	if d.Allowed || d.Message != "PodSecurityPolicy: unable to admit pod: []" || d.Attempts[0].Outcome != OutcomeUnauthorized {
		t.Errorf("unauthorized: %+v", d)
	}

	// The pod's ServiceAccount may use it: asked first, with v1.24's identity.
	pod := newPod()
	pod.Spec.ServiceAccountName = "app"
	authz := &staticAuthorizer{grants: map[string][]string{"system:serviceaccount:app-test:app": {"privileged"}}}
	d = decide(t, set, authz, Request{Namespace: "app-test", Pod: pod})
	if !d.Allowed {
		t.Fatalf("service account grant: %s", d.Message)
	}
	first := authz.calls[0]
	if first.User.Name != "system:serviceaccount:app-test:app" || strings.Join(first.User.Groups, ",") != "system:serviceaccounts,system:serviceaccounts:app-test" ||
		first.Verb != "use" || first.Resource != "podsecuritypolicies" || first.APIGroup != "policy" || first.Namespace != "app-test" || first.Name != "privileged" {
		t.Errorf("first authorization = %+v", first)
	}
	if a := d.Attempts[0].Authorization; a.Subject != "system:serviceaccount:app-test:app" || a.APIGroup != "policy" {
		t.Errorf("authorization = %+v", a)
	}

	// The deprecated alias spec.serviceAccount names the ServiceAccount when
	// serviceAccountName is empty, as the apiserver reads it.
	pod = newPod()
	pod.Spec.DeprecatedServiceAccount = "app"
	authz = &staticAuthorizer{grants: map[string][]string{"system:serviceaccount:app-test:app": {"privileged"}}}
	if d = decide(t, set, authz, Request{Namespace: "app-test", Pod: pod}); !d.Allowed || d.Attempts[0].Authorization.Subject != "system:serviceaccount:app-test:app" {
		t.Errorf("alias: %+v", d)
	}
	pod.Spec.ServiceAccountName = "other"
	if d = decide(t, set, authz, Request{Namespace: "app-test", Pod: pod}); d.Allowed {
		t.Errorf("serviceAccountName must win over the alias: %+v", d)
	}

	// Without a ServiceAccount name only the user is asked: policy, extensions, kube-psp's group.
	authz = &staticAuthorizer{}
	decide(t, set, authz, Request{Pod: newPod()})
	var groups []string
	for _, c := range authz.calls {
		if c.User.Name != "user" {
			t.Errorf("asked for %q", c.User.Name)
		}
		groups = append(groups, c.APIGroup)
	}
	if strings.Join(groups, ",") != "policy,extensions,policy.kube-psp.io" {
		t.Errorf("groups asked: %v", groups)
	}

	// Old RBAC in the extensions group works.
	d = decide(t, set, groupAuthorizer("extensions"), Request{Pod: newPod()})
	if !d.Allowed || d.Attempts[0].Authorization.APIGroup != "extensions" {
		t.Errorf("extensions grant: %+v", d)
	}

	// An authorizer error is a denial, and is reported.
	d = decide(t, set, &staticAuthorizer{err: errors.New("boom")}, Request{Pod: newPod()})
	if d.Allowed || len(d.Attempts[0].Authorization.Errors) != 3 {
		t.Errorf("authorizer error: %+v", d.Attempts[0].Authorization)
	}
}

type groupAuthorizer string

func (g groupAuthorizer) Authorize(_ context.Context, a authorizer.Attributes) (bool, string, error) {
	return a.APIGroup == string(g), "", nil
}

func TestDecideUpdates(t *testing.T) {
	set := mustSet(t, restrictedPolicy("restricted"))
	old := privilegedPod()
	updated := old.DeepCopy()
	updated.OwnerReferences = []metav1.OwnerReference{{Name: "rs", Kind: "ReplicaSet", APIVersion: "apps/v1", UID: "1"}}
	updated.Finalizers = []string{"x"}

	for _, phase := range []Phase{PhaseAdmit, PhaseValidate} {
		d := decide(t, set, allowAll(), Request{Phase: phase, Operation: OperationUpdate, Pod: updated, OldPod: old})
		if !d.Allowed || !d.Skipped {
			t.Errorf("%s: GC-only update: %+v", phase, d)
		}
	}
	updated.Labels = map[string]string{"a": "b"}
	if d := decide(t, set, allowAll(), Request{Phase: PhaseAdmit, Operation: OperationUpdate, Pod: updated, OldPod: old}); !d.Skipped {
		t.Errorf("admit phase of an update must be skipped: %+v", d)
	}
	if d := decide(t, set, allowAll(), Request{Phase: PhaseValidate, Operation: OperationUpdate, Pod: updated, OldPod: old}); d.Allowed || d.Skipped {
		t.Errorf("validate phase of an update must check: %+v", d)
	}
}

func TestDecideMalformedRequests(t *testing.T) {
	set := mustSet(t)
	for name, req := range map[string]Request{
		"no pod":            {Phase: PhaseAdmit, Operation: OperationCreate},
		"bad phase":         {Phase: "x", Operation: OperationCreate, Pod: newPod()},
		"update no old pod": {Phase: PhaseValidate, Operation: OperationUpdate, Pod: newPod()},
	} {
		if _, err := Decide(context.Background(), set, allowAll(), req, Options{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Decide(context.Background(), nil, allowAll(), Request{Phase: PhaseAdmit, Pod: newPod()}, Options{}); err == nil {
		t.Error("nil set: no error")
	}
}

func TestDecideExplainAll(t *testing.T) {
	set := mustSet(t, permissivePolicy("a"), restrictedPolicy("b"))
	d, err := Decide(context.Background(), set, allowAll(), Request{Phase: PhaseAdmit, Operation: OperationCreate, Namespace: "ns",
		User: authorizer.UserInfo{Name: "user"}, Pod: newPod()}, Options{ExplainAll: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Policy != "a" || d.Attempts[1].Outcome != OutcomeAdmittedWithChanges || d.Attempts[1].Authorization == nil || d.Attempts[1].Chosen {
		t.Errorf("explain all: %+v", d.Attempts)
	}
}

// TestSeedPolicies checks the behaviour the seed articles describe.
func TestSeedPolicies(t *testing.T) {
	eksPrivileged := permissivePolicy("eks.privileged")
	eksPrivileged.Spec.AllowedProcMountTypes = nil
	eksPrivileged.Spec.AllowedUnsafeSysctls = nil
	restricted := restrictedPolicy("restricted")

	t.Run("restricted defaults runAsNonRoot, so a root image fails at the kubelet", func(t *testing.T) {
		d := decide(t, mustSet(t, restricted), allowAll(), Request{Pod: newPod()})
		if !d.Allowed {
			t.Fatal(d.Message)
		}
		c := d.Pod.Spec.Containers[0].SecurityContext
		if c.RunAsNonRoot == nil || !*c.RunAsNonRoot || c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation ||
			c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem || c.Capabilities == nil || c.Capabilities.Drop[0] != "ALL" {
			t.Errorf("container security context = %+v", c)
		}
		if s := d.Pod.Spec.SecurityContext; *s.FSGroup != 1 || s.SupplementalGroups[0] != 1 {
			t.Errorf("pod security context = %+v", s)
		}
	})
	t.Run("restricted refuses an explicit root user and hostPath", func(t *testing.T) {
		pod := newPod()
		pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: ptr(int64(0))}
		addVolume(corev1.Volume{Name: "sock", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/run/docker.sock"}}})(pod)
		d := decide(t, mustSet(t, restricted), allowAll(), Request{Pod: pod})
		want := `PodSecurityPolicy: unable to admit pod: [spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used ` +
			`spec.containers[0].securityContext.runAsUser: Invalid value: 0: running with the root UID is forbidden]`
		if d.Message != want {
			t.Errorf("got  %s\nwant %s", d.Message, want)
		}
	})
	t.Run("eks.privileged admits anything unchanged", func(t *testing.T) {
		pod := privilegedPod()
		pod.Spec.HostNetwork, pod.Spec.HostPID = true, true
		d := decide(t, mustSet(t, eksPrivileged, restricted), allowAll(), Request{Pod: pod})
		if !d.Allowed || d.Policy != "eks.privileged" || len(d.Changes) != 1 {
			t.Errorf("got %+v", d)
		}
	})
	t.Run("without eks.privileged and any grant nothing starts", func(t *testing.T) {
		d := decide(t, mustSet(t, restricted), &staticAuthorizer{}, Request{Pod: newPod()})
		if d.Allowed || d.Message != "PodSecurityPolicy: unable to admit pod: []" {
			t.Errorf("got %+v", d)
		}
	})
}
