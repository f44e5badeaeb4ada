package kubeclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kube-psp/kube-psp/internal/testutil"
)

var policies = schema.GroupResource{Group: "policy.kube-psp.io", Resource: "podsecuritypolicies"}

// TestDescribe lists policies from real HTTP servers on 127.0.0.1 that fail
// as clusters do, and checks that each error says what is missing, within
// the request timeout.
func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server func(t *testing.T) string
		want   []string
	}{
		{"nothing listening", testutil.Unreachable,
			[]string{"cannot reach the apiserver at http://127.0.0.1:", "is the kubeconfig's server right", "connection refused"}},
		{"CRD served", func(t *testing.T) string { return testutil.NewAPIServer(t, nil).URL }, nil},
		{"CRD missing", testutil.WithoutCRD, []string{"the server doesn't have a resource type podsecuritypolicies.policy.kube-psp.io; install the CRD"}},
		{"forbidden", testutil.PoliciesNotListable, []string{`forbidden: User "alice" cannot list resource "podsecuritypolicies"`, "kube-psp needs list and watch on podsecuritypolicies.policy.kube-psp.io"}},
		{"unauthorized", func(t *testing.T) string {
			return testutil.NewAPIServer(t, testutil.Answer(testutil.PolicyPath, http.StatusUnauthorized, "Unauthorized", "Unauthorized")).URL
		}, []string{"the apiserver refused the credentials"}},
		{"no answer", testutil.PoliciesNotAnswered, []string{"watching podsecuritypolicies.policy.kube-psp.io: the apiserver at http://127.0.0.1:", "did not answer within 300ms (--request-timeout)"}},
		// A web server that is not an apiserver: a 404 page for everything.
		{"not an apiserver", func(t *testing.T) string {
			srv := httptest.NewServer(http.NotFoundHandler())
			t.Cleanup(srv.Close)
			return srv.URL
		}, []string{"the server doesn't have a resource type podsecuritypolicies.policy.kube-psp.io, which every Kubernetes apiserver serves: is the kubeconfig's server (or --context) a Kubernetes apiserver?"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clients, err := Connect(Options{Kubeconfig: testutil.Kubeconfig(t, tc.server(t)), RequestTimeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = clients.Dynamic.Resource(policies.WithVersion("v1")).List(context.Background(), metav1.ListOptions{})
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("took %s", elapsed)
			}
			err = Describe(err, "watch", policies, "install the CRD: kubectl apply -f deploy/crds")
			if tc.want == nil {
				if err != nil {
					t.Errorf("a served CRD: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
		})
	}
}

// TestDescribeBuiltInNotFound: a 404 for a type every apiserver serves
// (RBAC Roles) names the likely cause, a server that is not an apiserver,
// not a missing CRD.
func TestDescribeBuiltInNotFound(t *testing.T) {
	roles := schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "roles"}
	err := Describe(apierrors.NewNotFound(roles, ""), "list", roles, "install the CRD")
	if err == nil || !strings.Contains(err.Error(), "is the kubeconfig's server (or --context) a Kubernetes apiserver?") || strings.Contains(err.Error(), "CRD") {
		t.Errorf("got %v", err)
	}
}

// TestWatchOutlivesTimeout: the timeout bounds the wait for a watch's
// answer, not the watch, which informers keep open for minutes.
func TestWatchOutlivesTimeout(t *testing.T) {
	server := testutil.NewAPIServer(t, nil)
	clients, err := Connect(Options{Kubeconfig: testutil.Kubeconfig(t, server.URL), RequestTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w, err := clients.Kube.RbacV1().Roles("").Watch(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	select {
	case ev, ok := <-w.ResultChan():
		t.Errorf("the watch ended or failed: %v %v", ev, ok)
	case <-time.After(time.Second):
	}
}
