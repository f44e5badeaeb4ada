package testutil

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// PolicyPath is the collection of kube-psp's CRD.
const PolicyPath = "/apis/policy.kube-psp.io/v1/podsecuritypolicies"

// APIServer is an HTTP server on 127.0.0.1 that answers the requests
// kube-psp's cluster commands make as a kube-apiserver with no objects
// does: empty lists of pods, RBAC and policies, and watches that stay open
// with no event. Override answers one path (PolicyPath, say) its own way,
// for the failures a real cluster gives: a missing CRD (404), a missing
// permission (403), no answer. Watches asking for the initial events
// (the WatchList protocol) are refused as by an apiserver without the
// feature, so clients list instead.
type APIServer struct {
	*httptest.Server
	Override map[string]http.HandlerFunc
}

// NewAPIServer starts an APIServer, closed when the test ends.
func NewAPIServer(t *testing.T, override map[string]http.HandlerFunc) *APIServer {
	s := &APIServer{Override: override}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.CloseClientConnections()
		s.Close()
	})
	return s
}

// lists are the collections served, by path, with their list kinds.
var lists = map[string]string{
	"/api/v1/pods": "PodList",
	"/apis/rbac.authorization.k8s.io/v1/roles":               "RoleList",
	"/apis/rbac.authorization.k8s.io/v1/clusterroles":        "ClusterRoleList",
	"/apis/rbac.authorization.k8s.io/v1/rolebindings":        "RoleBindingList",
	"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings": "ClusterRoleBindingList",
	PolicyPath: "PodSecurityPolicyList",
}

func (s *APIServer) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if h, ok := s.Override[path]; ok {
		h(w, r)
		return
	}
	if strings.HasPrefix(path, "/api/v1/namespaces/") && strings.HasSuffix(path, "/pods") {
		path = "/api/v1/pods"
	}
	kind, ok := lists[path]
	if !ok {
		WriteStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	switch q := r.URL.Query(); {
	case q.Get("watch") == "true" && q.Get("sendInitialEvents") == "true":
		WriteStatus(w, http.StatusBadRequest, "BadRequest", "sendInitialEvents is not supported")
	case q.Get("watch") == "true":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	default:
		group := strings.TrimPrefix(strings.TrimSuffix(path[:strings.LastIndex(path, "/")], "/v1"), "/apis/")
		apiVersion := "v1"
		if strings.HasPrefix(path, "/apis/") {
			apiVersion = group + "/v1"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"apiVersion":%q,"kind":%q,"metadata":{"resourceVersion":"1"},"items":[]}`, apiVersion, kind)
	}
}

// WriteStatus answers with a metav1.Status, as the apiserver does.
func WriteStatus(w http.ResponseWriter, code int, reason, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": message, "reason": reason, "code": code})
}

// ClosedPort returns a 127.0.0.1 address nothing listens on.
func ClosedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Kubeconfig writes a kubeconfig for server (a URL) into the test's
// temporary directory and returns its path.
func Kubeconfig(t *testing.T, server string) string {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q}
users:
- name: alice
  user: {token: secret}
contexts:
- name: test
  context: {cluster: test, user: alice}
current-context: test
`, server)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Answer is an Override that answers path with a Status, as the apiserver
// fails: Answer(PolicyPath, 404, "NotFound", NotFoundMessage) is a cluster
// without the CRD.
func Answer(path string, code int, reason, message string) map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{path: func(w http.ResponseWriter, _ *http.Request) { WriteStatus(w, code, reason, message) }}
}

// NotFoundMessage is the apiserver's message for a path it does not serve.
const NotFoundMessage = "the server could not find the requested resource"

// PoliciesForbidden is the apiserver's message when user alice (the user
// of Kubeconfig) may not list the policies.
const PoliciesForbidden = `podsecuritypolicies.policy.kube-psp.io is forbidden: User "alice" cannot list resource "podsecuritypolicies" in API group "policy.kube-psp.io" at the cluster scope`

// NoAnswer holds a request until the client gives up: an apiserver that
// accepts connections and never answers.
func NoAnswer(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// The clusters kube-psp's cluster commands must fail on, fast and saying
// what is missing; each returns the apiserver's URL.

// Unreachable is an apiserver URL nothing listens at.
func Unreachable(t *testing.T) string { return "http://" + ClosedPort(t) }

// WithoutCRD is a cluster that does not serve kube-psp's CRD.
func WithoutCRD(t *testing.T) string {
	return NewAPIServer(t, Answer(PolicyPath, http.StatusNotFound, "NotFound", NotFoundMessage)).URL
}

// PoliciesNotListable is a cluster where user alice may not list policies.
func PoliciesNotListable(t *testing.T) string {
	return NewAPIServer(t, Answer(PolicyPath, http.StatusForbidden, "Forbidden", PoliciesForbidden)).URL
}

// PoliciesNotAnswered is a cluster whose apiserver never answers a
// request for the policies.
func PoliciesNotAnswered(t *testing.T) string {
	return NewAPIServer(t, map[string]http.HandlerFunc{PolicyPath: NoAnswer}).URL
}

// BrokenCluster is a cluster kube-psp cannot read, and what every cluster
// command must say about it.
type BrokenCluster struct {
	Name string
	// Server starts it and returns the apiserver's URL.
	Server func(*testing.T) string
	// Says is the part of the message that names what is missing.
	Says string
}

// BrokenClusters are the clusters whose errors kube-psp's cluster commands
// must report at once: the apiserver unreachable, the CRD missing, the
// permission to list policies missing.
func BrokenClusters() []BrokenCluster {
	return []BrokenCluster{
		{"nothing listening", Unreachable, "cannot reach the apiserver at http://127.0.0.1:"},
		{"CRD missing", WithoutCRD, "the server doesn't have a resource type podsecuritypolicies.policy.kube-psp.io; install the CRD: kubectl apply -f deploy/crds"},
		{"forbidden", PoliciesNotListable, PoliciesForbidden + " (kube-psp needs list and watch on podsecuritypolicies.policy.kube-psp.io)"},
	}
}
