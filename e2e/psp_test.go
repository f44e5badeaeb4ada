package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The tests run in this order on one cluster. Policies are cluster-wide:
// a test that adds a policy or a grant to everyone removes it when it ends.

const (
	appNS = "app-test"
	appSA = "system:serviceaccount:app-test:app"
	// privilegedMessage is v1.24's denial of a privileged container.
	privilegedMessage = "PodSecurityPolicy: unable to admit pod: [spec.containers[0].securityContext.privileged: Invalid value: true: Privileged containers are not allowed]"
)

// podYAML is a pod with one container, privileged or not.
func podYAML(name, serviceAccount string, privileged bool) string {
	sa := ""
	if serviceAccount != "" {
		sa = "\n  serviceAccountName: " + serviceAccount
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, labels: {e2e: "true"}}
spec:%s
  containers:
  - name: app
    image: registry.k8s.io/pause:3.10
    securityContext: {privileged: %v}
`, name, sa, privileged)
}

func (c *cluster) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.kubectl(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *cluster) mustIn(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := c.kubectlIn(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s\nstdin:\n%s", strings.Join(args, " "), err, out, stdin)
	}
	return out
}

// refused runs kubectl, which must fail with every one of wants in its output.
func (c *cluster) refused(t *testing.T, stdin string, wants []string, args ...string) string {
	t.Helper()
	out, err := c.kubectlIn(stdin, args...)
	if err == nil {
		t.Fatalf("kubectl %s succeeded; want it refused:\n%s", strings.Join(args, " "), out)
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Fatalf("kubectl %s: output lacks %q:\n%s", strings.Join(args, " "), w, out)
		}
	}
	return out
}

// pspRun runs the psp binary under test; its standard output and error
// come back apart, so that output meant for kubectl apply holds no warnings.
func (c *cluster) pspRun(stdin string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.psp, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// mustPSP returns psp's standard output, failing the test on an error.
func (c *cluster) mustPSP(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := c.pspRun("", args...)
	if err != nil {
		t.Fatalf("psp %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// namespace creates a namespace and waits for its default ServiceAccount
// (kube-controller-manager makes it; pods cannot be created before).
func (c *cluster) namespace(t *testing.T, name string) {
	t.Helper()
	c.must(t, "create", "namespace", name)
	eventually(t, "the default ServiceAccount of "+name, 60*time.Second, func() (bool, string) {
		out, err := c.kubectl("get", "serviceaccount", "default", "-n", name)
		return err == nil, out
	})
}

// namespaceEditedBy creates a namespace that user may edit (create pods in).
func (c *cluster) namespaceEditedBy(t *testing.T, name, user string) {
	t.Helper()
	c.namespace(t, name)
	c.must(t, "create", "rolebinding", user+"-edit", "--clusterrole=edit", "--user="+user, "-n", name)
}

// applyPreset applies `psp init --preset NAME` until the test ends: the
// grant to every authenticated user must not outlive it.
func (c *cluster) applyPreset(t *testing.T, name string) {
	t.Helper()
	preset := c.mustPSP(t, "init", "--preset", name)
	c.mustIn(t, preset, "apply", "-f", "-")
	t.Cleanup(func() { _, _ = c.kubectlIn(preset, "delete", "--ignore-not-found", "-f", "-") })
}

// eventually polls cond until it holds or timeout; cond also returns what
// it saw, for the failure message.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	var last string
	if err := waitFor(timeout, nil, func() (ok bool) { ok, last = cond(); return ok }); err != nil {
		t.Fatalf("%v waiting for %s; last:\n%s", err, what, last)
	}
}

// rbacDocuments keeps the RBAC documents of a multi-document YAML file.
func rbacDocuments(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, doc := range strings.Split(string(data), "\n---\n") {
		if strings.Contains(doc, "apiVersion: rbac.authorization.k8s.io/") {
			docs = append(docs, doc)
		}
	}
	return strings.Join(docs, "\n---\n")
}

// TestSeedArticleFlow is the seed article's walk-through, with its old
// policy/v1beta1 YAML converted to the CRD and its RBAC, which grants use
// in the old policy group, applied unchanged.
func TestSeedArticleFlow(t *testing.T) {
	c := needCluster(t)
	c.namespace(t, appNS)
	c.must(t, "create", "serviceaccount", "app", "-n", appNS)
	// As in the article: the ServiceAccount may edit its namespace.
	c.must(t, "create", "rolebinding", "app-edit", "--clusterrole=edit", "--serviceaccount="+appNS+":app", "-n", appNS)
	// bob may edit the namespace too, but has no policy of his own.
	c.must(t, "create", "rolebinding", "bob-edit", "--clusterrole=edit", "--user=bob", "-n", appNS)
	converted := c.mustPSP(t, "convert", "-f", "../examples/seed/example.yaml")
	c.mustIn(t, converted, "apply", "-f", "-")
	c.mustIn(t, rbacDocuments(t, "../examples/seed/example.yaml"), "apply", "-f", "-")

	// The question kube-psp asks, with the grant in the old policy group:
	// allowed for app, not for default.
	for sa, want := range map[string]string{"app": "true", "default": "false"} {
		if got := c.mustIn(t, subjectAccessReview("system:serviceaccount:"+appNS+":"+sa, appNS, "policy", "example"),
			"create", "-f", "-", "-o", "jsonpath={.status.allowed}"); got != want {
			t.Fatalf("SubjectAccessReview use podsecuritypolicies.policy/example as %s: allowed=%q, want %s", sa, got, want)
		}
	}
	// kubectl auth can-i maps podsecuritypolicy to the CRD's group
	// (policy.kube-psp.io), which the old grant does not name: "no", until
	// psp convert --rbac adds that group to the cluster's old grants.
	canI := func() (string, error) {
		return c.kubectl("auth", "can-i", "use", "podsecuritypolicy/example", "--as", appSA, "-n", appNS)
	}
	if out, err := canI(); err == nil || lastLine(out) != "no" {
		t.Fatalf("can-i with the old grant only: %v\n%s", err, out)
	}
	roles := c.must(t, "get", "clusterroles,roles", "-A", "-o", "yaml")
	grants, warnings, err := c.pspRun(roles, "convert", "-f", "-", "--rbac")
	if err != nil || !strings.Contains(grants, "name: psp:example") || strings.Count(grants, "kind: ClusterRole\n") != 1 {
		t.Fatalf("psp convert --rbac of the cluster's roles: %v\n%s%s", err, grants, warnings)
	}
	c.mustIn(t, grants, "apply", "-f", "-")
	if out, err := canI(); err != nil || lastLine(out) != "yes" {
		t.Fatalf("can-i with the grant in both groups: %v\n%s", err, out)
	}
	// kubectl get psp lists the CRD with the old columns.
	out := c.must(t, "get", "psp")
	for _, col := range []string{"PRIV", "CAPS", "SELINUX", "RUNASUSER", "FSGROUP", "SUPGROUP", "READONLYROOTFS", "VOLUMES", "example"} {
		if !strings.Contains(out, col) {
			t.Fatalf("kubectl get psp lacks %q:\n%s", col, out)
		}
	}

	// The ServiceAccount's pod is admitted by example and annotated.
	c.mustIn(t, podYAML("plain", "", false), "create", "-n", appNS, "--as", appSA, "-f", "-")
	if got := c.must(t, "get", "pod", "plain", "-n", appNS, "-o", `jsonpath={.metadata.annotations.kubernetes\.io/psp}`); got != "example" {
		t.Fatalf("kubernetes.io/psp = %q, want example", got)
	}
	// A privileged one is refused with v1.24's message, in kubectl's error.
	c.refused(t, podYAML("privileged", "", true), []string{`admission webhook "pods.mutate.kube-psp.io" denied the request: ` + privilegedMessage},
		"create", "-n", appNS, "--as", appSA, "-f", "-")
	// Neither bob nor the default ServiceAccount may use a policy: refused,
	// with no policy's errors (v1.24 reports only usable policies').
	c.refused(t, podYAML("nopolicy", "", false), []string{"PodSecurityPolicy: unable to admit pod: []"},
		"create", "-n", appNS, "--as", "bob", "-f", "-")
	// bob's pod with ServiceAccount app is admitted: the pod's ServiceAccount counts.
	c.mustIn(t, podYAML("bobs", "app", false), "create", "-n", appNS, "--as", "bob", "-f", "-")
}

func subjectAccessReview(user, namespace, group, policy string) string {
	return fmt.Sprintf(`apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: %q
  groups: [system:serviceaccounts, "system:serviceaccounts:%s"]
  resourceAttributes: {verb: use, group: %q, resource: podsecuritypolicies, name: %q, namespace: %q}
`, user, namespace, group, policy, namespace)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestDefaultsOnStoredPod: the admitting policy's defaults are in the pod
// the apiserver stores.
func TestDefaultsOnStoredPod(t *testing.T) {
	c := needCluster(t)
	const ns = "defaults-test"
	c.namespaceEditedBy(t, ns, "dev")
	c.applyPreset(t, "restricted")
	// psp init's grant names the CRD's group too, which kubectl auth can-i
	// asks about: kubectl agrees with admission.
	if out, err := c.kubectl("auth", "can-i", "use", "podsecuritypolicy/restricted", "--as", "dev", "-n", ns); err != nil || lastLine(out) != "yes" {
		t.Fatalf("kubectl auth can-i use podsecuritypolicy/restricted after psp init: %v\n%s", err, out)
	}

	c.mustIn(t, podYAML("defaulted", "", false), "create", "-n", ns, "--as", "dev", "-f", "-")
	get := func(path string) string {
		return c.must(t, "get", "pod", "defaulted", "-n", ns, "-o", "jsonpath="+path)
	}
	for path, want := range map[string]string{
		`{.metadata.annotations.kubernetes\.io/psp}`:                     "restricted",
		`{.spec.containers[0].securityContext.allowPrivilegeEscalation}`: "false",
		`{.spec.containers[0].securityContext.runAsNonRoot}`:             "true",
		`{.spec.securityContext.fsGroup}`:                                "1",
		`{.spec.securityContext.supplementalGroups[0]}`:                  "1",
		// The seccomp default reaches the field the kubelet reads; the
		// preset sets no AppArmor profile (docs/commands/init.md).
		`{.metadata.annotations.seccomp\.security\.alpha\.kubernetes\.io/pod}`: "runtime/default",
		`{.spec.securityContext.seccompProfile.type}`:                          "RuntimeDefault",
		`{.spec.containers[0].securityContext.appArmorProfile.type}`:           "",
	} {
		if got := get(path); got != want {
			t.Errorf("stored pod %s = %q, want %q", path, got, want)
		}
	}

	// A pod with only the seccomp annotation, which a v1.37 kubelet ignores,
	// is stored with the field.
	annotated := strings.Replace(podYAML("annotated", "", false), `metadata: {name: annotated, labels: {e2e: "true"}}`,
		`metadata: {name: annotated, labels: {e2e: "true"}, annotations: {seccomp.security.alpha.kubernetes.io/pod: runtime/default}}`, 1)
	c.mustIn(t, annotated, "create", "-n", ns, "--as", "dev", "-f", "-")
	if got := c.must(t, "get", "pod", "annotated", "-n", ns, "-o", "jsonpath={.spec.securityContext.seccompProfile.type}"); got != "RuntimeDefault" {
		t.Errorf("the annotation-only pod's stored seccompProfile = %q, want RuntimeDefault", got)
	}
}

// TestDeploymentPodsAdmittedThroughTheController: a Deployment's pods are
// created by the replicaset controller, and admitted by what their
// ServiceAccount may use.
func TestDeploymentPodsAdmittedThroughTheController(t *testing.T) {
	c := needCluster(t)
	deployment := func(name string, privileged bool) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      serviceAccountName: app
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
        securityContext: {privileged: %[2]v}
`, name, privileged)
	}
	c.mustIn(t, deployment("web", false), "apply", "-n", appNS, "-f", "-")
	eventually(t, "the web Deployment's pod", 60*time.Second, func() (bool, string) {
		out, err := c.kubectl("get", "pods", "-n", appNS, "-l", "app=web", "-o", `jsonpath={.items[*].metadata.annotations.kubernetes\.io/psp}`)
		return err == nil && strings.TrimSpace(out) == "example", out
	})
	// The privileged Deployment's ReplicaSet reports the denial.
	c.mustIn(t, deployment("root", true), "apply", "-n", appNS, "-f", "-")
	eventually(t, "the root ReplicaSet to report the denial", 60*time.Second, func() (bool, string) {
		out, err := c.kubectl("get", "replicasets", "-n", appNS, "-l", "app=root", "-o", `jsonpath={.items[*].status.conditions[*].message}`)
		return err == nil && strings.Contains(out, "Privileged containers are not allowed"), out
	})
	if out := c.must(t, "get", "pods", "-n", appNS, "-l", "app=root", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Fatalf("privileged pods were created: %s", out)
	}
}

// TestEKSPrivilegedDefault: with eks.privileged granted to every
// authenticated user (EKS's default), privileged pods are admitted;
// deleting it is what turns PodSecurityPolicy on. psp audit then lists the
// pods that would no longer be admitted.
func TestEKSPrivilegedDefault(t *testing.T) {
	c := needCluster(t)
	const ns = "eks-test"
	c.namespaceEditedBy(t, ns, "alice")
	c.applyPreset(t, "eks")

	eventually(t, "eks.privileged to admit alice's privileged pod", 30*time.Second, func() (bool, string) {
		out, err := c.kubectlIn(podYAML("privileged", "", true), "create", "-n", ns, "--as", "alice", "-f", "-")
		return err == nil, out
	})
	if got := c.must(t, "get", "pod", "privileged", "-n", ns, "-o", `jsonpath={.metadata.annotations.kubernetes\.io/psp}`); got != "eks.privileged" {
		t.Fatalf("kubernetes.io/psp = %q", got)
	}
	if out := c.must(t, "get", "psp", "eks.privileged"); !strings.Contains(out, "true") || !strings.Contains(out, "*") {
		t.Fatalf("kubectl get psp eks.privileged:\n%s", out)
	}

	c.must(t, "delete", "psp", "eks.privileged")
	eventually(t, "the deletion to take effect", 30*time.Second, func() (bool, string) {
		out, err := c.kubectlIn(podYAML("privileged-2", "", true), "create", "-n", ns, "--as", "alice", "-f", "-")
		return err != nil && strings.Contains(out, "PodSecurityPolicy: unable to admit pod: []"), out
	})

	// psp audit: the running privileged pod would now be refused.
	out, _, err := c.pspRun("", "audit", "--kubeconfig", c.kubeconfig, "-n", ns)
	var exit *exec.ExitError
	if err == nil || !asExit(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("psp audit: %v (want exit status 1)\n%s", err, out)
	}
	if !strings.Contains(out, "pod/"+ns+"/privileged") || !strings.Contains(out, "DENIED") || !strings.Contains(out, "1 workload: 0 admitted, 1 denied") {
		t.Fatalf("psp audit:\n%s", out)
	}
}

func asExit(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// TestDebugPrivilegedEphemeralContainerRefused: kubectl debug adds an
// ephemeral container (pods/ephemeralcontainers), which kube-psp checks.
// Even the cluster admin, who may use every policy, is refused: no policy
// allows privileged containers now.
func TestDebugPrivilegedEphemeralContainerRefused(t *testing.T) {
	c := needCluster(t)
	c.mustIn(t, podYAML("debug-target", "app", false), "create", "-n", appNS, "--as", appSA, "-f", "-")
	c.refused(t, "", []string{"denied the request", "Privileged containers are not allowed"},
		"debug", "-n", appNS, "debug-target", "--image=busybox", "--profile=sysadmin")
	// So is a restricted one: example allows no seccomp profile (v1.24
	// checked the annotation the apiserver still adds for it).
	c.refused(t, "", []string{"container.seccomp.security.alpha.kubernetes.io/debugger", "seccomp may not be set"},
		"debug", "-n", appNS, "debug-target", "--image=busybox", "--profile=restricted")
	// A baseline debug container is admitted.
	c.must(t, "debug", "-n", appNS, "debug-target", "--image=busybox", "--profile=baseline")
	out := c.must(t, "get", "pod", "debug-target", "-n", appNS, "-o", "jsonpath={.spec.ephemeralContainers[*].name}")
	if strings.Count(strings.TrimSpace(out), " ") != 0 || strings.TrimSpace(out) == "" {
		t.Fatalf("ephemeral containers: %q, want one", out)
	}
}

// TestPolicyAndRBACChangesTakeEffectLive: no restart, no cache to expire.
func TestPolicyAndRBACChangesTakeEffectLive(t *testing.T) {
	c := needCluster(t)
	create := func(name string, privileged bool) (string, error) {
		return c.kubectlIn(podYAML(name, "", privileged), "create", "-n", appNS, "--as", appSA, "-f", "-")
	}
	// Revoke the ServiceAccount's grant: its pods are refused.
	c.must(t, "delete", "clusterrolebinding", "psp:example:app:app-test")
	eventually(t, "the revocation", 30*time.Second, func() (bool, string) {
		out, err := create("after-revoke", false)
		return err != nil && strings.Contains(out, "PodSecurityPolicy: unable to admit pod: []"), out
	})
	// Grant it again: admitted.
	c.mustIn(t, rbacDocuments(t, "../examples/seed/example.yaml"), "apply", "-f", "-")
	eventually(t, "the grant", 30*time.Second, func() (bool, string) {
		out, err := create("after-grant", false)
		return err == nil, out
	})
	// Let the policy allow privileged containers: admitted; and back.
	c.must(t, "patch", "psp", "example", "--type=merge", "-p", `{"spec":{"privileged":true}}`)
	eventually(t, "the policy change", 30*time.Second, func() (bool, string) {
		out, err := create("after-patch", true)
		return err == nil, out
	})
	c.must(t, "patch", "psp", "example", "--type=merge", "-p", `{"spec":{"privileged":false}}`)
	eventually(t, "the policy change back", 30*time.Second, func() (bool, string) {
		out, err := create("after-patch-back", true)
		return err != nil && strings.Contains(out, privilegedMessage), out
	})
}

// invalidPolicy breaks rules the CRD's schema cannot express.
const invalidPolicy = `apiVersion: policy.kube-psp.io/v1
kind: PodSecurityPolicy
metadata: {name: bad}
spec:
  runAsUser: {rule: MustRunAs, ranges: [{min: 10, max: 5}]}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  allowedHostPaths: [{pathPrefix: "/var/../etc"}]
`

// TestCRDValidationRefusesInvalidPolicies: the schema refuses what it can
// express; the policy webhook refuses the rest with the loader's messages.
func TestCRDValidationRefusesInvalidPolicies(t *testing.T) {
	c := needCluster(t)
	out := c.refused(t, invalidPolicy, []string{`admission webhook "policies.validate.kube-psp.io" denied the request`}, "apply", "-f", "-")
	// psp check reads the same file and says the same.
	dir := t.TempDir()
	file := dir + "/bad.yaml"
	if err := os.WriteFile(file, []byte(invalidPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	_, loaderOut, err := c.pspRun(podYAML("p", "", false), "check", "--policies", file, "-f", "-")
	if err == nil {
		t.Fatalf("psp check accepted the invalid policy:\n%s", loaderOut)
	}
	n := 0
	for _, line := range strings.Split(loaderOut, "\n") {
		_, msg, ok := strings.Cut(line, "): ")
		if !ok || !strings.Contains(msg, `PodSecurityPolicy "bad" is invalid`) {
			continue
		}
		n++
		if !strings.Contains(out, msg) {
			t.Errorf("kubectl's error lacks the loader's %q:\n%s", msg, out)
		}
	}
	if n < 2 {
		t.Fatalf("the loader gave %d messages:\n%s", n, loaderOut)
	}
	c.refused(t, strings.Replace(invalidPolicy, "rule: MustRunAs,", "rule: Sometimes,", 1), []string{`Unsupported value: "Sometimes"`}, "apply", "-f", "-")
	if out, err := c.kubectl("get", "psp", "bad"); err == nil {
		t.Fatalf("the invalid policy was stored:\n%s", out)
	}
}

// TestWebhookRestart: while kube-psp is down pods are refused (failurePolicy
// Fail); when it is back, they are admitted again. It comes back asking the
// apiserver (--authorization=subjectaccessreview) instead of reading RBAC.
func TestWebhookRestart(t *testing.T) {
	c := needCluster(t)
	c.stopWebhook()
	// The chart's RBAC for authorization=subjectaccessreview: RBAC is only
	// watched (to drop cached answers), SubjectAccessReviews are created.
	if err := c.applyChartRBAC("kube-psp-chart-sar.yaml"); err != nil {
		t.Fatal(err)
	}
	c.refused(t, podYAML("while-down", "", false), []string{"failed calling webhook"}, "create", "-n", appNS, "--as", appSA, "-f", "-")
	if err := c.startWebhook("--authorization=subjectaccessreview"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pods admitted after the restart", 30*time.Second, func() (bool, string) {
		out, err := c.kubectlIn(podYAML("after-restart", "", false), "create", "-n", appNS, "--as", appSA, "-f", "-")
		return err == nil, out
	})
	c.refused(t, podYAML("privileged-after-restart", "", true), []string{privilegedMessage}, "create", "-n", appNS, "--as", appSA, "-f", "-")
	c.refused(t, podYAML("bob-after-restart", "", false), []string{"PodSecurityPolicy: unable to admit pod: []"},
		"create", "-n", appNS, "--as", "bob", "-f", "-")
}

// TestHelmChartIsValid: every object the chart renders (with generated
// certificates) is accepted by the apiserver (server-side dry run, so the
// webhooks registered by URL stay in force).
func TestHelmChartIsValid(t *testing.T) {
	c := needCluster(t)
	out := c.must(t, "apply", "--dry-run=server", "-f", c.chartDir+"/kube-psp-chart.yaml")
	for _, want := range []string{"deployment.apps/kube-psp", "poddisruptionbudget.policy/kube-psp", "service/kube-psp",
		"mutatingwebhookconfiguration.admissionregistration.k8s.io/kube-psp", "validatingwebhookconfiguration.admissionregistration.k8s.io/kube-psp",
		"secret/kube-psp-tls", "clusterrole.rbac.authorization.k8s.io/kube-psp"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %s:\n%s", want, out)
		}
	}
}
