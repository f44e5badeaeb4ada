package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kube-psp/kube-psp/internal/testutil"
)

// TestAuditCannotReadCluster runs psp audit against real HTTP servers on
// 127.0.0.1 that fail as clusters do: it exits 2 within a bounded time,
// naming what is missing, where it used to wait forever.
func TestAuditCannotReadCluster(t *testing.T) {
	type auditCase struct {
		name   string
		server func(t *testing.T) string
		args   []string
		want   string
	}
	var cases []auditCase
	for _, c := range testutil.BrokenClusters() {
		cases = append(cases, auditCase{c.Name, c.Server, nil, "error: reading policies and RBAC from the cluster: " + c.Says})
	}
	for _, tc := range append(cases, []auditCase{
		{"pods forbidden", func(t *testing.T) string {
			return testutil.NewAPIServer(t, testutil.Answer("/api/v1/namespaces/team/pods", http.StatusForbidden, "Forbidden",
				`pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team"`)).URL
		}, []string{"-n", "team"}, `error: pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team" (kube-psp needs list on pods)`},
		{"no answer", testutil.PoliciesNotAnswered, []string{"--request-timeout", "1"}, "error: reading policies and RBAC from the cluster: policies and RBAC are not read from the cluster yet: " +
			"waiting for the apiserver's first answer on podsecuritypolicies.policy.kube-psp.io (gave up: no complete answer within 1s (--request-timeout))"},
		{"pods no answer", func(t *testing.T) string {
			return testutil.NewAPIServer(t, map[string]http.HandlerFunc{"/api/v1/pods": testutil.NoAnswer}).URL
		}, []string{"--request-timeout", "500ms"}, "did not answer within 500ms (--request-timeout)"},
	}...) {
		t.Run(tc.name, func(t *testing.T) {
			server := tc.server(t)
			args := append([]string{"audit", "--kubeconfig", testutil.Kubeconfig(t, server), "--request-timeout", "5s"}, tc.args...)
			start := time.Now()
			_, errOut, code := run(t, "", args...)
			if elapsed := time.Since(start); elapsed > 4*time.Second {
				t.Errorf("took %s", elapsed)
			}
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant 2 and %q", code, errOut, tc.want)
			}
			if tc.args == nil {
				documented(t, "docs/commands/audit.md", errOut, server)
			}
		})
	}
}

// documented checks that docs (a path from the repository's root) shows
// the error of a run on a test server at serverURL as it is, with the
// address of a real apiserver in its place.
func documented(t *testing.T, docs, errOut, serverURL string) {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSuffix(errOut, "\n")
	line = strings.ReplaceAll(line, serverURL, "https://127.0.0.1:6443")
	line = strings.ReplaceAll(line, u.Host, "127.0.0.1:6443")
	data, err := os.ReadFile(filepath.Join("..", "..", docs))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), line) {
		t.Errorf("%s does not show the error as the program prints it:\n%s", docs, line)
	}
}

// TestAuditEmptyCluster: the same server, answering, is read in full.
func TestAuditEmptyCluster(t *testing.T) {
	out, errOut, code := run(t, "", "audit", "--kubeconfig", testutil.Kubeconfig(t, testutil.NewAPIServer(t, nil).URL))
	if code != 0 || errOut != "" {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

func TestRequestTimeoutSyntax(t *testing.T) {
	_, errOut, code := run(t, "", "audit", "--request-timeout", "soon")
	if code != 2 || !strings.Contains(errOut, "--request-timeout: Invalid timeout value") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
