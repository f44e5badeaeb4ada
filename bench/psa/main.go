// Command psa-webhook runs the Pod Security Admission webhook of
// k8s.io/pod-security-admission (its cmd/webhook/server package, unchanged)
// on the loopback interface, enforcing the restricted level everywhere, so
// that hack/loadtest.sh can drive it and psp serve with the same requests
// on the same cores.
//
// The webhook reads namespace labels from an apiserver. A cluster is not
// needed for that: this process serves the few read-only namespace
// requests it makes (list, watch, get) from memory, on 127.0.0.1, with
// namespaces without labels, so the configured defaults (restricted) apply.
//
//	psa-webhook -dir DIR -port PORT    # DIR holds tls.crt and tls.key
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/component-base/cli"
	"k8s.io/pod-security-admission/cmd/webhook/server"
)

func main() {
	dir := flag.String("dir", "", "directory with tls.crt and tls.key; the kubeconfig and PodSecurity configuration are written there")
	port := flag.Int("port", 0, "HTTPS port on 127.0.0.1")
	flag.Parse()
	if *dir == "" || *port <= 0 {
		fmt.Fprintln(os.Stderr, "usage: psa-webhook -dir DIR -port PORT")
		os.Exit(2)
	}
	apiURL, err := serveNamespaces()
	if err != nil {
		fmt.Fprintln(os.Stderr, "psa-webhook:", err)
		os.Exit(1)
	}
	kubeconfig := filepath.Join(*dir, "psa.kubeconfig")
	config := filepath.Join(*dir, "podsecurity.yaml")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: %q}}]
users: [{name: fake, user: {}}]
contexts: [{name: fake, context: {cluster: fake, user: fake}}]
current-context: fake
`, apiURL)), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "psa-webhook:", err)
		os.Exit(1)
	}
	// Every namespace enforces restricted, at the newest version.
	if err := os.WriteFile(config, []byte(`apiVersion: pod-security.admission.config.k8s.io/v1
kind: PodSecurityConfiguration
defaults: {enforce: restricted, enforce-version: latest, audit: restricted, audit-version: latest, warn: restricted, warn-version: latest}
exemptions: {usernames: [], runtimeClasses: [], namespaces: []}
`), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "psa-webhook:", err)
		os.Exit(1)
	}
	cmd := server.NewServerCommand()
	cmd.SetArgs([]string{"--kubeconfig", kubeconfig, "--config", config, "--bind-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(*port), "--tls-cert-file", filepath.Join(*dir, "tls.crt"),
		"--tls-private-key-file", filepath.Join(*dir, "tls.key")})
	os.Exit(cli.Run(cmd))
}

// serveNamespaces answers the webhook's namespace requests: a list, a
// watch that stays open with no events, and a get of any name.
func serveNamespaces() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	namespace := func(name string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": name, "resourceVersion": "1", "labels": map[string]any{"kubernetes.io/metadata.name": name}}}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/namespaces", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		items := []any{namespace("team"), namespace("default")}
		if r.URL.Query().Get("watch") != "true" {
			_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "v1", "kind": "NamespaceList",
				"metadata": map[string]any{"resourceVersion": "1"}, "items": items})
			return
		}
		w.WriteHeader(http.StatusOK)
		enc := json.NewEncoder(w)
		// client-go's informers list by watching (WatchList): the initial
		// objects, then a bookmark that says they are all there.
		if r.URL.Query().Get("sendInitialEvents") == "true" {
			for _, ns := range items {
				_ = enc.Encode(map[string]any{"type": "ADDED", "object": ns})
			}
			_ = enc.Encode(map[string]any{"type": "BOOKMARK", "object": map[string]any{"apiVersion": "v1", "kind": "Namespace",
				"metadata": map[string]any{"resourceVersion": "1", "annotations": map[string]any{"k8s.io/initial-events-end": "true"}}}})
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		<-r.Context().Done()
	})
	mux.HandleFunc("/api/v1/namespaces/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(namespace(strings.TrimPrefix(r.URL.Path, "/api/v1/namespaces/")))
	})
	go func() { _ = http.Serve(ln, mux) }()
	return "http://" + ln.Addr().String(), nil
}
