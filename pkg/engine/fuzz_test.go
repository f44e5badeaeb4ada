package engine

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
)

func fuzzPolicies() []*policyv1.PodSecurityPolicy {
	custom := permissivePolicy("custom")
	custom.Annotations = map[string]string{
		policyv1.SeccompAllowedProfilesAnnotationKey:  "runtime/default,localhost/a",
		policyv1.SeccompDefaultProfileAnnotationKey:   "runtime/default",
		policyv1.AppArmorAllowedProfilesAnnotationKey: "runtime/default",
		policyv1.AppArmorDefaultProfileAnnotationKey:  "runtime/default",
	}
	custom.Spec.Privileged = false
	custom.Spec.DefaultAddCapabilities = []corev1.Capability{"NET_BIND_SERVICE"}
	custom.Spec.AllowedCapabilities = []corev1.Capability{"CHOWN"}
	custom.Spec.RequiredDropCapabilities = []corev1.Capability{"NET_RAW"}
	custom.Spec.RunAsUser = policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyMustRunAs, Ranges: []policyv1.IDRange{{Min: 1000, Max: 2000}}}
	custom.Spec.RunAsGroup = &policyv1.RunAsGroupStrategyOptions{Rule: policyv1.RunAsGroupStrategyMustRunAs, Ranges: []policyv1.IDRange{{Min: 1000, Max: 2000}}}
	custom.Spec.SELinux = policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyMustRunAs, SELinuxOptions: &corev1.SELinuxOptions{Level: "s0:c1,c2"}}
	custom.Spec.AllowedHostPaths = []policyv1.AllowedHostPath{{PathPrefix: "/var/log", ReadOnly: true}}
	custom.Spec.RuntimeClass = &policyv1.RuntimeClassStrategyOptions{AllowedRuntimeClassNames: []string{"gvisor"}, DefaultRuntimeClassName: ptr("gvisor")}
	return []*policyv1.PodSecurityPolicy{restrictedPolicy("restricted"), custom, permissivePolicy("zz-privileged")}
}

func FuzzDecide(f *testing.F) {
	for _, seed := range []string{
		`{"spec":{"containers":[{"name":"a"}]}}`,
		`{"metadata":{"annotations":{"seccomp.security.alpha.kubernetes.io/pod":"localhost/a"}},"spec":{"securityContext":{"fsGroup":5,"seccompProfile":{"type":"Localhost"}},"containers":[{"name":"a","securityContext":{"privileged":true,"capabilities":{"add":["CHOWN"],"drop":["NET_RAW"]}}}]}}`,
		`{"spec":{"serviceAccountName":"sa","hostNetwork":true,"volumes":[{"name":"h","hostPath":{"path":"/var/log/x"}}],"containers":[{"name":"a","volumeMounts":[{"name":"h","mountPath":"/x"}],"ports":[{"containerPort":1,"hostPort":80}]}],"ephemeralContainers":[{"name":"d","securityContext":{"runAsUser":0}}]}}`,
	} {
		f.Add([]byte(seed), true)
	}
	set, err := NewPolicySet(fuzzPolicies())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, grantAll bool) {
		pod := &corev1.Pod{}
		if err := json.Unmarshal(data, pod); err != nil {
			return
		}
		var authz authorizer.Authorizer = allowAll()
		if !grantAll {
			authz = &staticAuthorizer{grants: map[string][]string{"system:serviceaccount:ns:sa": {"custom"}}}
		}
		req := Request{Phase: PhaseAdmit, Operation: OperationCreate, Namespace: "ns", User: authorizer.UserInfo{Name: "user"}, Pod: pod}
		before := pod.DeepCopy()
		d1, err := Decide(context.Background(), set, authz, req, Options{})
		if err != nil {
			t.Fatal(err)
		}
		d2, _ := Decide(context.Background(), set, authz, req, Options{})
		if !reflect.DeepEqual(d1.Message, d2.Message) || d1.Policy != d2.Policy || !equality.Semantic.DeepEqual(d1.Pod, d2.Pod) {
			t.Fatal("Decide is not deterministic")
		}
		if !equality.Semantic.DeepEqual(before, pod) {
			t.Fatal("Decide modified its input")
		}
		for _, prov := range set.providers {
			c := pod.DeepCopy()
			changes, _ := prov.apply(c)
			if mutated := !equality.Semantic.DeepEqual(pod, c); mutated != (len(changes) > 0) {
				t.Fatalf("%s: recorded changes %v disagree with a deep comparison", prov.name, changes)
			}
		}
		if !d1.Allowed {
			return
		}
		// The pod the admit phase produced passes the validate phase, with the same policy.
		v, err := Decide(context.Background(), set, authz, Request{Phase: PhaseValidate, Operation: OperationCreate, Namespace: "ns", User: authorizer.UserInfo{Name: "user"}, Pod: d1.Pod}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !v.Allowed || v.Policy != d1.Policy {
			t.Fatalf("admitted by %q but validate phase says %q %s", d1.Policy, v.Policy, v.Message)
		}
	})
}
