package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// generateWorkloads are the workloads TestGenerateFromCluster runs: each
// ServiceAccount uses different privileges.
const generateWorkloads = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, e2e-generate: "true"}}
    spec:
      serviceAccountName: web
      securityContext:
        runAsUser: 1000
        runAsNonRoot: true
        fsGroup: 1000
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: web
        image: registry.k8s.io/pause:3.10
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        volumeMounts: [{name: cache, mountPath: /cache}]
      volumes: [{name: cache, emptyDir: {}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: agent}
spec:
  replicas: 1
  serviceName: agent
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent, e2e-generate: "true"}}
    spec:
      serviceAccountName: agent
      containers:
      - name: agent
        image: registry.k8s.io/pause:3.10
        ports: [{containerPort: 9100, hostPort: 9100}]
        securityContext:
          capabilities: {add: [NET_ADMIN]}
        volumeMounts: [{name: logs, mountPath: /host/log, readOnly: true}]
      volumes: [{name: logs, hostPath: {path: /var/log}}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: {e2e-generate: "true"}}
    spec:
      restartPolicy: Never
      serviceAccountName: migrate
      securityContext: {runAsUser: 2000, runAsGroup: 2000}
      containers:
      - name: migrate
        image: registry.k8s.io/pause:3.10
`

// generateBarePod is created by the user dev, with the namespace's default
// ServiceAccount.
const generateBarePod = `apiVersion: v1
kind: Pod
metadata: {name: debug, labels: {e2e-generate: "true"}}
spec:
  hostPID: true
  containers:
  - name: debug
    image: registry.k8s.io/pause:3.10
`

// TestGenerateFromCluster: psp generate reads the workloads running in a
// cluster (admitted so far by a preset every user may use), names the
// preset that would still win over its policies, and once the preset is
// gone writes policies and grants that, applied, admit every workload's
// pods again, each by its own policy, when they are deleted and recreated;
// a pod asking for more is refused.
func TestGenerateFromCluster(t *testing.T) {
	c := needCluster(t)
	const ns = "generate-test"
	c.namespaceEditedBy(t, ns, "dev")
	for _, sa := range []string{"web", "agent", "migrate"} {
		c.must(t, "create", "serviceaccount", sa, "-n", ns)
	}
	preset := c.mustPSP(t, "init", "--preset", "privileged")
	c.mustIn(t, preset, "apply", "-f", "-")
	t.Cleanup(func() { _, _ = c.kubectlIn(preset, "delete", "--ignore-not-found", "-f", "-") })

	c.mustIn(t, generateWorkloads, "apply", "-n", ns, "-f", "-")
	eventually(t, "the bare pod to be admitted by the preset", 30*time.Second, func() (bool, string) {
		out, err := c.kubectlIn(generateBarePod, "create", "-n", ns, "--as", "dev", "-f", "-")
		return err == nil, out
	})
	// One pod per workload, admitted by the preset.
	podsBy := func() (string, error) {
		return c.kubectl("get", "pods", "-n", ns, "-l", "e2e-generate=true", "--sort-by", ".metadata.name", "-o",
			`jsonpath={range .items[*]}{.metadata.name}={.metadata.annotations.kubernetes\.io/psp}{"\n"}{end}`)
	}
	eventually(t, "a pod of every workload", 60*time.Second, func() (bool, string) {
		out, err := podsBy()
		return err == nil && strings.Count(out, "=eks.privileged") == 4, out
	})

	generate := func() (string, string, int) {
		out, errOut, err := c.pspRun("", "generate", "--kubeconfig", c.kubeconfig, "-n", ns, "--as", "dev")
		code := 0
		var exit *exec.ExitError
		if asExit(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatalf("psp generate: %v\n%s", err, errOut)
		}
		return out, errOut, code
	}
	// The preset, usable by every authenticated user and first in name
	// order, would admit every workload before its own policy.
	_, errOut, code := generate()
	if code != 1 || !strings.Contains(errOut, `NOT PROVEN: admitted unchanged by policy "eks.privileged", not by its own "generated.generate-test.web": "eks.privileged" sorts before "generated.generate-test.web"`) ||
		!strings.Contains(errOut, "4 workloads: 0 admitted unchanged by their own policy, 4 not") {
		t.Fatalf("psp generate with the preset granted to everyone: exit %d, want 1 naming the preset:\n%s", code, errOut)
	}

	c.mustIn(t, preset, "delete", "-f", "-")
	policies, errOut, code := generate()
	if code != 0 || !strings.Contains(errOut, "4 workloads: 4 admitted unchanged by their own policy, 0 not") {
		t.Fatalf("psp generate: exit %d:\n%s\n%s", code, errOut, policies)
	}
	for _, want := range []string{"name: generated.generate-test.web", "name: generated.generate-test.agent", "name: generated.generate-test.migrate", "name: generated.generate-test.default",
		"#   Deployment generate-test/web (deployment/generate-test/web)", "#   Pod generate-test/debug (pod/generate-test/debug)"} {
		if !strings.Contains(policies, want) {
			t.Fatalf("psp generate output lacks %q:\n%s", want, policies)
		}
	}
	c.mustIn(t, policies, "apply", "-f", "-")
	t.Cleanup(func() { _, _ = c.kubectlIn(policies, "delete", "--ignore-not-found", "-f", "-") })
	// kubectl agrees with admission about the grants.
	if out, err := c.kubectl("auth", "can-i", "use", "podsecuritypolicy/generated.generate-test.web", "--as", "system:serviceaccount:"+ns+":web", "-n", ns); err != nil || lastLine(out) != "yes" {
		t.Fatalf("kubectl auth can-i use the generated policy: %v\n%s", err, out)
	}

	// Delete and recreate every workload's pods: the controllers recreate
	// theirs, the Job and the bare pod are created again.
	c.must(t, "delete", "pod", "debug", "-n", ns)
	c.must(t, "delete", "job", "migrate", "-n", ns, "--cascade=foreground", "--wait=true")
	c.must(t, "delete", "pods", "-n", ns, "-l", "e2e-generate=true", "--wait=true")
	c.mustIn(t, generateWorkloads, "apply", "-n", ns, "-f", "-")
	eventually(t, "the bare pod to be admitted by its generated policy", 30*time.Second, func() (bool, string) {
		out, err := c.kubectlIn(generateBarePod, "create", "-n", ns, "--as", "dev", "-f", "-")
		return err == nil, out
	})
	want := map[string]string{"agent-0": "generated.generate-test.agent", "debug": "generated.generate-test.default"}
	eventually(t, "every workload's pod admitted by its own policy", 90*time.Second, func() (bool, string) {
		out, err := podsBy()
		if err != nil {
			return false, out
		}
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			name, policy, _ := strings.Cut(line, "=")
			got[name] = policy
		}
		if len(got) != 4 {
			return false, out
		}
		for name, policy := range got {
			switch {
			case strings.HasPrefix(name, "web-"):
				if policy != "generated.generate-test.web" {
					return false, out
				}
			case strings.HasPrefix(name, "migrate-"):
				if policy != "generated.generate-test.migrate" {
					return false, out
				}
			default:
				if want[name] != policy {
					return false, out
				}
			}
		}
		return true, out
	})
	// The pods are the ones the policies were made for, unchanged: the web
	// pod keeps its own settings and got no defaults.
	if got := c.must(t, "get", "pods", "-n", ns, "-l", "app=web", "-o", `jsonpath={.items[0].spec.securityContext.supplementalGroups}`); got != "" {
		t.Errorf("the web pod got supplementalGroups %s from its policy; want it unchanged", got)
	}
	// One more privilege is refused: the debug pod as privileged, the web
	// ServiceAccount's pod with another host path.
	c.refused(t, podYAML("debug-privileged", "", true), []string{"Privileged containers are not allowed"}, "create", "-n", ns, "--as", "dev", "-f", "-")
	c.refused(t, `apiVersion: v1
kind: Pod
metadata: {name: web-hostpath}
spec:
  serviceAccountName: web
  securityContext: {runAsUser: 1000, runAsNonRoot: true, fsGroup: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: web
    image: registry.k8s.io/pause:3.10
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
    volumeMounts: [{name: etc, mountPath: /etc/host, readOnly: true}]
  volumes: [{name: etc, hostPath: {path: /etc}}]
`, []string{"hostPath volumes are not allowed to be used"}, "create", "-n", ns, "--as", "dev", "-f", "-")

	// --verify on the cluster: the applied policies still admit every
	// workload unchanged, each by the policy made for it.
	out, errOut, err := c.pspRun("", "generate", "--verify", "--kubeconfig", c.kubeconfig, "-n", ns, "--as", "dev")
	if err != nil || !strings.Contains(out, "4 workloads: 4 admitted unchanged by their own policy, 0 not") {
		t.Fatalf("psp generate --verify: %v\n%s%s", err, out, errOut)
	}
}
