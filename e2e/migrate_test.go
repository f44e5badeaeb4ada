package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kube-psp/kube-psp/pkg/migrate"
)

// migrateDeployment is a one-replica Deployment of the pause image; spec
// is its pod spec, indented for the template.
func migrateDeployment(namespace, name, spec string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: %s}
spec:
  replicas: 1
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
%s`, name, namespace, name, name, indentLines(spec, "      "))
}

const (
	plainSpec  = "containers: [{name: app, image: registry.k8s.io/pause:3.10}]\n"
	lockedSpec = `securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
containers:
- name: app
  image: registry.k8s.io/pause:3.10
  securityContext: {runAsUser: 65535, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`
	hostPIDSpec = "hostPID: true\ncontainers: [{name: app, image: registry.k8s.io/pause:3.10}]\n"
)

// migrateReport is the part of psp migrate pss -o json the test reads.
type migrateReport struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespaces []struct {
		Name      string            `json:"name"`
		Enforce   string            `json:"enforce"`
		Warn      string            `json:"warn"`
		Labels    map[string]string `json:"labels"`
		Workloads []struct {
			Kind              string `json:"kind"`
			Name              string `json:"name"`
			Level             string `json:"level"`
			MutationDependent *struct {
				Denial string `json:"denial"`
				Fields []struct {
					ManifestField string `json:"manifestField"`
					Value         any    `json:"value"`
				} `json:"fields"`
			} `json:"mutationDependent"`
		} `json:"workloads"`
	} `json:"namespaces"`
}

// grantPolicy lets the default ServiceAccount of namespace use policy.
func (c *cluster) grantPolicy(t *testing.T, namespace, policy string) {
	t.Helper()
	c.mustIn(t, fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: use-%[2]s, namespace: %[1]s}
rules:
- {apiGroups: [policy, policy.kube-psp.io], resources: [podsecuritypolicies], resourceNames: [%[2]s], verbs: [use]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: use-%[2]s, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: use-%[2]s}
subjects:
- {kind: ServiceAccount, name: default, namespace: %[1]s}
`, namespace, policy), "apply", "-f", "-")
}

// podNames lists the pods of a namespace.
func (c *cluster) podNames(t *testing.T, namespace string) []string {
	t.Helper()
	out := c.must(t, "get", "pods", "-n", namespace, "-o", "jsonpath={.items[*].metadata.name}")
	return strings.Fields(out)
}

// recreatePods deletes every pod of namespace and waits until its
// controllers have made as many new ones: each admitted.
func (c *cluster) recreatePods(t *testing.T, namespace string) {
	t.Helper()
	old := c.podNames(t, namespace)
	c.must(t, "delete", "pods", "--all", "-n", namespace, "--wait=false")
	eventually(t, "the pods of "+namespace+" recreated", 60*time.Second, func() (bool, string) {
		now := c.podNames(t, namespace)
		fresh := slices.DeleteFunc(slices.Clone(now), func(n string) bool { return slices.Contains(old, n) })
		events, _ := c.kubectl("get", "events", "-n", namespace, "--field-selector", "reason=FailedCreate", "-o", "jsonpath={.items[*].message}")
		return len(fresh) == len(old), fmt.Sprintf("old %v, now %v; FailedCreate: %s", old, now, events)
	})
}

// TestMigratePSS checks psp migrate pss on the cluster, whose apiserver
// runs Pod Security Admission: the labels it proposes and applies admit
// every pod again when recreated, with kube-psp and after it is removed;
// the pods it flags as depending on their policy's defaults are refused
// without kube-psp unless their manifest gets the fields it names.
func TestMigratePSS(t *testing.T) {
	c := needCluster(t)
	// Registered first, so run last, once the policies are gone:
	// registerWebhooks waits for kube-psp to refuse a pod for want of any.
	t.Cleanup(func() {
		if err := c.registerWebhooks(); err != nil {
			t.Errorf("restoring kube-psp's webhooks: %v", err)
		}
	})
	c.applyPreset(t, "restricted")
	const nsR, nsB, nsP, nsStale = "migrate-restricted", "migrate-baseline", "migrate-privileged", "migrate-stale"
	for _, ns := range []string{nsR, nsB, nsP, nsStale} {
		c.namespace(t, ns)
	}
	c.grantPolicy(t, nsB, "baseline")
	c.grantPolicy(t, nsP, "eks.privileged")
	web := migrateDeployment(nsR, "web", plainSpec)
	c.mustIn(t, web+"---\n"+migrateDeployment(nsR, "locked", lockedSpec)+"---\n"+
		migrateDeployment(nsB, "app", plainSpec)+"---\n"+migrateDeployment(nsP, "debug", hostPIDSpec), "apply", "-f", "-")
	// A bare pod a cluster admin created, whom every policy admits:
	// created again by anyone else, PodSecurityPolicy would refuse it. The
	// plan still counts it, as it runs, so that its namespace is not
	// proposed a level that refuses it, and says it is denied today.
	c.mustIn(t, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: stale, namespace: %s}\nspec:\n%s", nsStale, indentLines(hostPIDSpec, "  ")),
		"create", "-f", "-")
	for ns, n := range map[string]int{nsR: 2, nsB: 1, nsP: 1} {
		eventually(t, "the pods of "+ns, 60*time.Second, func() (bool, string) {
			names := c.podNames(t, ns)
			return len(names) == n, strings.Join(names, " ")
		})
	}

	kubeconfig := []string{"--kubeconfig", c.kubeconfig}
	plan := map[string]migrateReport{}
	for _, ns := range []string{nsR, nsB, nsP} {
		out := c.mustPSP(t, append([]string{"migrate", "pss", "-n", ns, "-o", "json"}, kubeconfig...)...)
		var r migrateReport
		if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Namespaces) != 1 || r.APIVersion != migrate.ReportAPIVersion || r.Kind != migrate.ReportKind {
			t.Fatalf("psp migrate pss -n %s -o json: %v\n%s", ns, err, out)
		}
		plan[ns] = r
	}
	for ns, want := range map[string]string{nsR: "restricted", nsB: "baseline", nsP: "privileged"} {
		if got := plan[ns].Namespaces[0].Enforce; got != want {
			t.Errorf("%s: enforce %s, want %s\n%+v", ns, got, want, plan[ns])
		}
	}
	// web passes restricted only with the restricted policy's defaults;
	// locked sets them itself.
	var fields map[string]any
	for _, w := range plan[nsR].Namespaces[0].Workloads {
		switch {
		case w.Kind != "Deployment":
			t.Errorf("%s: workload %s %s, want the Deployment its ReplicaSet belongs to", nsR, w.Kind, w.Name)
		case w.Name == "locked" && w.MutationDependent != nil:
			t.Errorf("locked is flagged: %+v", w.MutationDependent)
		case w.Name == "web" && w.MutationDependent == nil:
			t.Errorf("web is not flagged")
		case w.Name == "web":
			fields = map[string]any{}
			for _, f := range w.MutationDependent.Fields {
				fields[f.ManifestField] = f.Value
			}
		}
	}
	wantFields := []string{"spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation", "spec.template.spec.containers[0].securityContext.capabilities",
		"spec.template.spec.containers[0].securityContext.runAsNonRoot", "spec.template.spec.securityContext.seccompProfile"}
	var gotFields []string
	for f := range fields {
		gotFields = append(gotFields, f)
	}
	slices.Sort(gotFields)
	if !slices.Equal(gotFields, wantFields) {
		t.Fatalf("web's fields %v, want %v", gotFields, wantFields)
	}
	for _, ns := range []string{nsB, nsP} {
		for _, w := range plan[ns].Namespaces[0].Workloads {
			if w.MutationDependent != nil {
				t.Errorf("%s/%s is flagged, but its policy changes nothing: %+v", ns, w.Name, w.MutationDependent)
			}
		}
	}

	// The text report, and pspmigrator's on the same cluster when
	// KUBE_PSP_E2E_PSPMIGRATOR names its binary: docs/commands/migrate.md
	// shows both.
	text, _, _ := c.pspRun("", append([]string{"migrate", "pss", "-A"}, kubeconfig...)...)
	t.Logf("psp migrate pss -A:\n%s", text)
	if bin := os.Getenv("KUBE_PSP_E2E_PSPMIGRATOR"); bin != "" {
		// pspmigrator reads ~/.kube/config before it parses --kubeconfig.
		home := t.TempDir()
		config, err := os.ReadFile(c.kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(home, ".kube"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, ".kube", "config"), config, 0o600); err != nil {
			t.Fatal(err)
		}
		var webPod string
		for _, n := range c.podNames(t, nsR) {
			if strings.HasPrefix(n, "web-") {
				webPod = n
			}
		}
		for _, args := range [][]string{{"mutating", "pods"}, {"mutating", "pod", webPod, "-n", nsR}, {"migrate"}} {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Env = append(os.Environ(), "HOME="+home)
			out, err := cmd.CombinedOutput()
			cancel()
			t.Logf("pspmigrator %s (%v):\n%s", strings.Join(args, " "), err, out)
		}
	}

	// --apply: each label after a server dry run.
	for _, ns := range []string{nsR, nsB, nsP} {
		_, errOut, err := c.pspRun("", append([]string{"migrate", "pss", "-n", ns, "--apply", "-o", "commands"}, kubeconfig...)...)
		if err != nil || !strings.Contains(errOut, "namespace/"+ns+" labeled") {
			t.Fatalf("psp migrate pss -n %s --apply: %v\n%s", ns, err, errOut)
		}
		for k, v := range plan[ns].Namespaces[0].Labels {
			if got := c.must(t, "get", "namespace", ns, "-o", "jsonpath={.metadata.labels."+strings.ReplaceAll(k, ".", `\.`)+"}"); got != v {
				t.Errorf("namespace %s: label %s=%q, want %q", ns, k, got, v)
			}
		}
	}
	// Applied: the live labels are read, and nothing is left to change.
	for _, ns := range []string{nsR, nsB, nsP} {
		out, errOut, err := c.pspRun("", append([]string{"migrate", "pss", "-n", ns, "-o", "commands"}, kubeconfig...)...)
		if err != nil || out != "" {
			t.Errorf("psp migrate pss -n %s -o commands after --apply: %v, want no command\n%s%s", ns, err, out, errOut)
		}
	}
	// The stale pod: counted as it runs, so the namespace gets privileged,
	// which the dry run accepts; exit 1 and a warning, for PodSecurityPolicy
	// denies it today.
	out, errOut, err := c.pspRun("", append([]string{"migrate", "pss", "-n", nsStale, "--apply"}, kubeconfig...)...)
	if code := exitCode(err); code != 1 || !strings.Contains(errOut, "namespace/"+nsStale+" labeled") ||
		!strings.Contains(errOut, "1 workload denied by PodSecurityPolicy today, in namespace "+nsStale) || !strings.Contains(out, "privileged as it runs; denied by PodSecurityPolicy today") {
		t.Fatalf("psp migrate pss -n %s --apply: exit %d, want 1, the namespace labelled and the warning\n%s%s", nsStale, code, out, errOut)
	}
	t.Logf("psp migrate pss -n %s --apply:\n%s%s", nsStale, out, errOut)
	if got := c.must(t, "get", "namespace", nsStale, "-o", `jsonpath={.metadata.labels.pod-security\.kubernetes\.io/enforce}`); got != "privileged" {
		t.Errorf("namespace %s labelled enforce=%q, want privileged: its running pod needs it", nsStale, got)
	}

	// Recreated with kube-psp still mutating: every pod admitted.
	for _, ns := range []string{nsR, nsB, nsP} {
		c.recreatePods(t, ns)
	}

	// kube-psp removed, as at the end of a migration.
	c.must(t, "delete", "mutatingwebhookconfiguration,validatingwebhookconfiguration", "kube-psp")
	plain := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: plain, namespace: %s}\nspec:\n%s", nsR, indentLines(plainSpec, "  "))
	var refusal string
	eventually(t, "the apiserver to stop calling kube-psp", 30*time.Second, func() (bool, string) {
		refusal, _ = c.kubectlIn(plain, "create", "--dry-run=server", "-f", "-")
		return strings.Contains(refusal, `violates PodSecurity "restricted:latest"`), refusal
	})
	for _, f := range plan[nsR].Namespaces[0].Workloads {
		if d := f.MutationDependent; d != nil && !strings.Contains(refusal, strings.TrimPrefix(d.Denial, "violates ")) {
			t.Errorf("the apiserver's refusal\n%s\ndoes not end with the reported denial\n%s", refusal, d.Denial)
		}
	}
	// Without the fields, web's pods are refused; with them they pass.
	c.must(t, "delete", "pods", "--all", "-n", nsR, "--wait=false")
	eventually(t, "web's ReplicaSet refused by PodSecurity", 60*time.Second, func() (bool, string) {
		events, _ := c.kubectl("get", "events", "-n", nsR, "--field-selector", "reason=FailedCreate", "-o", "jsonpath={.items[*].message}")
		return strings.Contains(events, `violates PodSecurity "restricted:latest"`), events
	})
	var manifest map[string]any
	if err := yaml.Unmarshal([]byte(web), &manifest); err != nil {
		t.Fatal(err)
	}
	for f, v := range fields {
		if err := migrate.SetField(manifest, f, v); err != nil {
			t.Fatal(err)
		}
	}
	fixed, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	c.mustIn(t, string(fixed), "apply", "-f", "-")
	eventually(t, "web's pod with the fields", 60*time.Second, func() (bool, string) {
		out, _ := c.kubectl("get", "pods", "-n", nsR, "-l", "app=web", "-o", "jsonpath={.items[*].spec.securityContext.seccompProfile.type}")
		return out == "RuntimeDefault", out
	})
	// Every other pod passes without kube-psp as it is.
	for _, ns := range []string{nsR, nsB, nsP} {
		c.recreatePods(t, ns)
	}
}

// exitCode is the exit status of a command run: 0 without error, -1 when
// it did not run to an exit.
func exitCode(err error) int {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	return -1
}
