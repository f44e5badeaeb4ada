package sar

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
)

// BenchmarkWarmDecision is the scale test's worst user in
// SubjectAccessReview mode with every answer cached: 100 policies that
// each admit the pod, only the last usable (by the user, in the last API
// group asked), so the decision reads 600 answers from the cache (100
// policies × 2 identities × 3 API groups). The fake apiserver (HTTP on 127.0.0.1) answers only
// the first, cold, decision.
func BenchmarkWarmDecision(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review authorizationv1.SubjectAccessReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a := review.Spec.ResourceAttributes
		review.APIVersion, review.Kind = "authorization.k8s.io/v1", "SubjectAccessReview"
		review.Status.Allowed = review.Spec.User == "worst" && a.Group == policyv1.GroupName && a.Name == "p099"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(&review)
	}))
	defer srv.Close()
	// As the scale test's: each admits the pod unchanged.
	var policies []*policyv1.PodSecurityPolicy
	for i := range 100 {
		policies = append(policies, &policyv1.PodSecurityPolicy{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%03d", i)}, Spec: policyv1.PodSecurityPolicySpec{
			Volumes: []policyv1.FSType{policyv1.All}, SELinux: policyv1.SELinuxStrategyOptions{Rule: policyv1.SELinuxStrategyRunAsAny},
			RunAsUser: policyv1.RunAsUserStrategyOptions{Rule: policyv1.RunAsUserStrategyRunAsAny}, SupplementalGroups: policyv1.SupplementalGroupsStrategyOptions{Rule: policyv1.SupplementalGroupsStrategyRunAsAny},
			FSGroup: policyv1.FSGroupStrategyOptions{Rule: policyv1.FSGroupStrategyRunAsAny}}})
	}
	set, err := engine.NewPolicySet(policies)
	if err != nil {
		b.Fatal(err)
	}
	client, err := NewClient(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}}, 5000, 10000)
	if err != nil {
		b.Fatal(err)
	}
	authz := New(client, DefaultOptions())
	req := engine.Request{Phase: engine.PhaseValidate, Operation: engine.OperationCreate, Namespace: "team",
		User: authorizer.UserInfo{Name: "worst", UID: "1", Groups: []string{"scale:last-policy", authorizer.GroupAuthenticated}},
		Pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "team"}, Spec: corev1.PodSpec{ServiceAccountName: "default",
			Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}}}}}
	decide := func() {
		d, err := engine.Decide(context.Background(), set, authz, req, engine.Options{})
		if err != nil || !d.Allowed || d.Policy != "p099" {
			b.Fatalf("decision: allowed %v by %q (%s), %v", d.Allowed, d.Policy, d.Message, err)
		}
	}
	decide()
	if n := authz.Len(); n != 600 {
		b.Fatalf("%d answers cached, want 600", n)
	}
	b.ReportAllocs()
	for b.Loop() {
		decide()
	}
}
