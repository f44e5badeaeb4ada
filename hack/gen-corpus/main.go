// Command gen-corpus writes the large-run corpus of docs/performance.md:
// FILES manifest files (default 10,000) of PER_FILE workloads each
// (default 6: 60,000 workloads), as a chart's rendered output looks: per
// file a Deployment, a StatefulSet, a DaemonSet, a Job, a CronJob and a Pod,
// with labels, resources, probes and env, the controllers' pods with a
// sidecar. One workload in seven is privileged (denied by the restricted
// preset); the others run as a non-root user.
//
//	go run ./hack/gen-corpus DIR [FILES] [PER_FILE]
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen-corpus:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) < 1 || len(args) > 3 {
		return fmt.Errorf("usage: go run ./hack/gen-corpus DIR [FILES] [PER_FILE]")
	}
	files, per := 10000, 6
	var err error
	if len(args) > 1 {
		if files, err = strconv.Atoi(args[1]); err != nil {
			return fmt.Errorf("FILES: %w", err)
		}
	}
	if len(args) > 2 {
		if per, err = strconv.Atoi(args[2]); err != nil {
			return fmt.Errorf("PER_FILE: %w", err)
		}
	}
	if err := os.MkdirAll(args[0], 0o755); err != nil {
		return err
	}
	for f := range files {
		var b bytes.Buffer
		for w := range per {
			workload(&b, f, f*per+w, w%6)
		}
		if err := os.WriteFile(filepath.Join(args[0], fmt.Sprintf("m%05d.yaml", f)), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// workload writes workload n of file f, of the kind'th kind.
func workload(b *bytes.Buffer, f, n, kind int) {
	name, ns := fmt.Sprintf("app%d", n), fmt.Sprintf("team%d", f%50)
	privileged, uid := n%7 == 0, 1000+n%3
	b.WriteString("---\n")
	switch kind {
	case 5:
		fmt.Fprintf(b, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: %s\n  labels: {app: %s, tier: backend}\nspec:\n  containers:\n", name, ns, name)
		container(b, "  ", "app", name, privileged, uid)
	case 4:
		fmt.Fprintf(b, "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: %s\n  namespace: %s\n  labels: {app: %s}\nspec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        metadata:\n          labels: {app: %s}\n        spec:\n          restartPolicy: OnFailure\n          containers:\n", name, ns, name, name)
		container(b, "          ", "app", name, privileged, uid)
	default:
		k := []string{"Deployment", "StatefulSet", "DaemonSet", "Job"}[kind]
		api := "apps/v1"
		if k == "Job" {
			api = "batch/v1"
		}
		fmt.Fprintf(b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  namespace: %s\n  labels: {app: %s, tier: backend}\nspec:\n", api, k, name, ns, name)
		if k != "Job" {
			fmt.Fprintf(b, "  selector: {matchLabels: {app: %s}}\n", name)
		}
		if k == "StatefulSet" {
			fmt.Fprintf(b, "  serviceName: %s\n", name)
		}
		fmt.Fprintf(b, "  template:\n    metadata:\n      labels: {app: %s, tier: backend}\n    spec:\n", name)
		if k == "Job" {
			b.WriteString("      restartPolicy: Never\n")
		}
		b.WriteString("      containers:\n")
		container(b, "      ", "app", name, privileged, uid)
		container(b, "      ", "sidecar", name+"-proxy", false, uid)
	}
}

// container writes one container at indent.
func container(b *bytes.Buffer, indent, name, image string, privileged bool, uid int) {
	lines := []string{
		fmt.Sprintf("- name: %s", name),
		fmt.Sprintf("  image: registry.example.com/team/%s:1.%d", image, uid%10),
		"  ports: [{containerPort: 8080, name: http}]",
		"  env: [{name: LOG_LEVEL, value: info}, {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]",
		"  resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 256Mi}}",
		"  readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 10}",
		fmt.Sprintf("  securityContext: {privileged: %t, runAsUser: %d}", privileged, uid),
	}
	for _, l := range lines {
		b.WriteString(indent + l + "\n")
	}
}
