package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// run runs the psp command line in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCommand("psp", strings.NewReader(stdin), &out, &errOut)
	cmd.SetArgs(args)
	code := 0
	if err := cmd.Execute(); err != nil {
		code = 2
		if e, ok := err.(*exitError); ok {
			code = e.code
		} else {
			errOut.WriteString("error: " + err.Error() + "\n")
		}
	}
	return out.String(), errOut.String(), code
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := name
	if !strings.Contains(name, string(filepath.Separator)) {
		path = filepath.Join("testdata", name)
	}
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/psp -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output; run go test ./cmd/psp -update and review the diff\n--- got:\n%s", path, got)
	}
}

func TestCheckExamples(t *testing.T) {
	// Paths relative to the repository root, as a user types them there.
	t.Chdir(filepath.Join("..", ".."))
	for _, tc := range []struct {
		name, golden string
		args         []string
		code         int
	}{
		{"restricted preset", "check-examples.txt", []string{"check", "-f", "examples/"}, 1},
		{"json", "check-examples.json", []string{"check", "-f", "examples/", "-o", "json"}, 1},
		{"eks default policy admits everything", "check-examples-eks.txt", []string{"check", "-f", "examples/", "--policies", "examples/eks", "--rbac", "examples/eks"}, 0},
		{"privileged preset", "check-examples-privileged.txt", []string{"check", "-f", "examples/", "--preset", "privileged"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			t.Chdir(filepath.Join("cmd", "psp"))
			golden(t, tc.golden, out)
		})
	}
}

// TestCommandsGolden runs every command and output format on the examples.
func TestCommandsGolden(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	seed := []string{"--policies", "examples/seed", "--rbac", "examples/seed"}
	eks := []string{"--policies", "examples/eks", "--rbac", "examples/eks"}
	pitfalls := []string{"--policies", "examples/pitfalls", "--rbac", "examples/pitfalls"}
	for _, tc := range []struct {
		golden string
		args   []string
		code   int
	}{
		{"check-examples.sarif", []string{"check", "-f", "examples/", "-o", "sarif"}, 1},
		{"check-examples.yaml", []string{"check", "-f", "examples/", "-o", "yaml"}, 1},
		{"explain-nginx-root.txt", []string{"explain", "examples/nginx-root.yaml"}, 0},
		{"explain-web.txt", []string{"explain", "examples/web-deployment.yaml"}, 0},
		{"explain-nginx-root.json", []string{"explain", "examples/nginx-root.yaml", "-o", "json"}, 0},
		// explain takes check's input and output flags.
		{"explain-apiserver-recursive.yaml", []string{"explain", "-f", "examples/apiserver", "-R", "-o", "yaml"}, 0},
		{"can-i-seed-sa.txt", append([]string{"can-i", "use", "podsecuritypolicy/example", "--serviceaccount", "app-test:app"}, seed...), 0},
		{"can-i-seed-other-ns.txt", append([]string{"can-i", "use", "example", "--serviceaccount", "app-test:app", "-n", "prod"}, seed...), 0},
		{"can-i-seed-user.txt", append([]string{"can-i", "use", "example", "--as", "alice"}, seed...), 1},
		{"who-can-eks.txt", append([]string{"who-can", "use", "eks.privileged"}, eks...), 0},
		{"who-can-pitfalls.json", append([]string{"who-can", "use", "host-logs", "-o", "json"}, pitfalls...), 0},
		{"lint-eks.txt", append([]string{"lint"}, eks...), 1},
		{"lint-pitfalls.txt", append([]string{"lint"}, pitfalls...), 1},
		{"lint-pitfalls.json", append([]string{"lint", "-o", "json", "--fail-on", "none"}, pitfalls...), 0},
		{"lint-pitfalls.sarif", append([]string{"lint", "-o", "sarif", "--fail-on", "warning"}, pitfalls...), 1},
		{"convert-eks.yaml", []string{"convert", "-f", "examples/eks"}, 0},
		{"convert-seed-v1beta1.yaml", []string{"convert", "-f", "examples/seed", "--to", "policy/v1beta1"}, 0},
		// `kubectl get -o yaml` output: what the apiserver set is not written.
		{"convert-kubectl-get.yaml", []string{"convert", "-f", "cmd/psp/testdata/kubectl-get-psp.yaml", "--rbac"}, 0},
		{"convert-kubectl-get-v1beta1.yaml", []string{"convert", "-f", "cmd/psp/testdata/kubectl-get-psp.yaml", "--to", "policy/v1beta1"}, 0},
		// The cluster's answers to the three inputs of issue 12 (see examples/apiserver).
		{"check-hostnetwork-ports.txt", append([]string{"check", "-f", "examples/apiserver/hostnetwork-ports/daemonset.yaml"}, apiserver("hostnetwork-ports")...), 1},
		{"check-serviceaccount-alias.txt", append([]string{"check", "-f", "examples/apiserver/serviceaccount-alias/deployment.yaml"}, apiserver("serviceaccount-alias")...), 0},
		{"check-impersonation.txt", append([]string{"check", "-f", "examples/apiserver/impersonation/pod.yaml", "--as", controller}, apiserver("impersonation")...), 0},
		{"check-impersonation-default.txt", append([]string{"check", "-f", "examples/apiserver/impersonation/pod.yaml"}, apiserver("impersonation")...), 1},
		{"can-i-impersonation.txt", append([]string{"can-i", "use", "podsecuritypolicy/privileged", "--as", controller, "-n", "shop"}, apiserver("impersonation")...), 0},
		{"can-i-impersonation-groups.txt", append([]string{"can-i", "use", "podsecuritypolicy/privileged", "--as", controller, "--as-group", "ops", "-n", "shop"}, apiserver("impersonation")...), 1},
		// A ServiceAccount with automountServiceAccountToken: false, in the
		// input and not: the token volume, which the policy refuses.
		{"check-serviceaccount-automount.txt", append([]string{"check", "-f", "examples/apiserver/serviceaccount-automount"}, apiserver("serviceaccount-automount")...), 1},
		{"check-serviceaccount-automount-unknown.txt", append([]string{"check", "-f", "examples/apiserver/serviceaccount-automount/deployment.yaml"}, apiserver("serviceaccount-automount")...), 1},
		{"explain-hostnetwork-ports.json", append([]string{"explain", "examples/apiserver/hostnetwork-ports/daemonset.yaml", "-o", "json"}, apiserver("hostnetwork-ports")...), 0},
		{"explain-serviceaccount-alias.txt", append([]string{"explain", "examples/apiserver/serviceaccount-alias/deployment.yaml"}, apiserver("serviceaccount-alias")...), 0},
		{"init-restricted.yaml", []string{"init", "--preset", "restricted"}, 0},
		{"init-eks-v1beta1.yaml", []string{"init", "--preset", "eks", "--to", "policy/v1beta1"}, 0},
		// psp diff: the seed article's flow (EKS's eks.privileged and its
		// binding deleted, the article's own policy kept), every policy
		// deleted, and the pull request of examples/diff.
		{"diff-seed.txt", diffSeed, 1},
		{"diff-seed.json", append(diffSeed, "-o", "json"), 1},
		{"diff-seed.sarif", append(diffSeed, "-o", "sarif"), 1},
		{"diff-eks-none.txt", []string{"diff", "-f", "examples/", "--before", "examples/eks", "--after", "none"}, 1},
		{"diff-pr.txt", diffPR, 1},
		{"diff-pr.json", append(diffPR, "-o", "json"), 1},
		{"diff-pr.yaml", append(diffPR, "-o", "yaml"), 1},
		{"diff-pr.sarif", append(diffPR, "-o", "sarif"), 1},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			golden(t, filepath.Join("cmd", "psp", "testdata", tc.golden), out)
		})
	}
}

// controller is the identity of the Deployment controller.
const controller = "system:serviceaccount:kube-system:replicaset-controller"

// apiserver gives the policy and RBAC flags of an examples/apiserver case.
func apiserver(name string) []string {
	f := "examples/apiserver/" + name + "/policy.yaml"
	return []string{"--policies", f, "--rbac", f}
}

func TestKubectlPluginName(t *testing.T) {
	out, _, code := run(t, "", "check", "--help")
	if code != 0 || !strings.Contains(out, "psp check -f examples/") {
		t.Errorf("help: %d %s", code, out)
	}
	// Installed as kubectl-psp, every usage line, example and error says
	// "kubectl psp", never "kubectl check".
	for _, tc := range []struct {
		args       []string
		code       int
		want       []string
		wantStderr string
	}{
		{[]string{"check", "--help"}, 0, []string{"Usage:\n  kubectl psp check -f PATH... [flags]", "  kubectl psp check -f examples/\n"}, ""},
		{[]string{"explain", "--help"}, 0, []string{"Usage:\n  kubectl psp explain [-f] PATH... [flags]", "kubectl psp explain examples/nginx-root.yaml"}, ""},
		{[]string{"init", "--help"}, 0, []string{"(kubectl psp lint finds the rest)"}, ""},
		{[]string{"--help"}, 0, []string{"Usage:\n  kubectl psp [command]", `Use "kubectl psp [command] --help"`, "help for kubectl psp"}, ""},
		{[]string{"chekc"}, 2, nil, `error: unknown command "chekc" for "kubectl psp"`},
		// kubectl's completion completes plugins; cobra's script would
		// register for the root command and replace kubectl's own.
		{[]string{"completion"}, 0, []string{"exec kubectl-psp __complete \"$@\"\n"}, ""},
		{[]string{"completion", "bash"}, 0, []string{"exec kubectl-psp __complete \"$@\"\n"}, ""},
		{[]string{"completion", "tcsh"}, 2, nil, `invalid argument "tcsh" for "kubectl psp completion"`},
	} {
		var out, errOut bytes.Buffer
		code := execute("/home/u/.krew/bin/kubectl-psp", tc.args, strings.NewReader(""), &out, &errOut)
		if code != tc.code || !strings.Contains(errOut.String(), tc.wantStderr) {
			t.Errorf("kubectl psp %v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.wantStderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("kubectl psp %v: output lacks %q:\n%s", tc.args, w, out.String())
			}
		}
		if strings.Contains(out.String()+errOut.String(), "kubectl check") || strings.Contains(out.String(), "__start_kubectl") {
			t.Errorf("kubectl psp %v names kubectl itself:\n%s%s", tc.args, out.String(), errOut.String())
		}
	}
}

// TestKubectlCompletion runs the binary as kubectl runs kubectl_complete-psp
// for "kubectl psp check --pre<TAB>": the words after psp, then the partial word.
func TestKubectlCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ch"}, "check\t"},
		{[]string{"check", "--pre"}, "--preset\t"},
		{[]string{"version", "-o", ""}, "json\n"},
	} {
		var out, errOut bytes.Buffer
		if code := execute("kubectl_complete-psp", tc.args, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if !strings.Contains(out.String(), tc.want) || !strings.HasPrefix(lines[len(lines)-1], ":") {
			t.Errorf("completing %q: got %q, want a candidate %q and a final :DIRECTIVE line", tc.args, out.String(), tc.want)
		}
	}
}

// TestVersionGolden prints a fixed build (the volatile parts of a real one
// injected) in each format.
func TestVersionGolden(t *testing.T) {
	for _, format := range []string{"text", "json", "yaml"} {
		cmd := newVersionCommand(testBuild)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs([]string{"-o", format})
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		golden(t, "version."+format, out.String())
	}
	// The real build, through the root command: this test binary's Go.
	out, errOut, code := run(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "kube-psp ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("psp version: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := run(t, "", "version", "-o", "xml"); code != 2 || !strings.Contains(errOut, "--output must be text, json or yaml") {
		t.Errorf("psp version -o xml: exit %d %s", code, errOut)
	}
}

func TestCheckErrors(t *testing.T) {
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"missing file", "", []string{"check", "-f", "does-not-exist.yaml"}, "reading does-not-exist.yaml"},
		{"no -f", "", []string{"check"}, `psp check needs manifests: -f FILE or DIRECTORY (repeatable), or -f - for standard input`},
		{"file without -f", "", []string{"check", "pod.yaml", "dir/"}, "psp check takes files with -f: psp check -f pod.yaml -f dir/"},
		// Checks of nothing fail (issue 16 item 5).
		{"policy file", "", []string{"check", "-f", "../../examples/eks"},
			"no workloads to check: ../../examples/eks/eks-privileged.yaml holds only PodSecurityPolicy, ClusterRole, ClusterRoleBinding (checked are Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs, CronJobs and PodTemplates); policies and RBAC are given with --policies and --rbac; --allow-empty accepts input without workloads"},
		{"empty stdin", "# nothing\n", []string{"check", "-f", "-"}, "no workloads to check: <stdin> holds no object"},
		{"directory of subdirectories", "", []string{"check", "-f", "../../examples/apiserver"},
			"no workloads to check: ../../examples/apiserver holds no .yaml, .yml or .json file (checked are Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs, CronJobs and PodTemplates); ../../examples/apiserver has subdirectories, read with -R; --allow-empty"},
		{"explain of nothing", "", []string{"explain", "-f", "-"}, "no workloads to check: <stdin> holds no object"},
		// Each flag takes its own kinds.
		{"policies and RBAC swapped", "", []string{"check", "-f", "../../examples/nginx-root.yaml", "--policies", "../../examples/pitfalls/rbac.yaml", "--rbac", "../../examples/pitfalls/policies.yaml"},
			"error: no PodSecurityPolicy found in ../../examples/pitfalls/rbac.yaml (they hold: 2 ClusterRoles, 2 ClusterRoleBindings, 1 RoleBinding); RBAC is given with --rbac\n"},
		{"RBAC in --policies", "", []string{"check", "-f", "../../examples/nginx-root.yaml", "--policies", "../../examples/eks"},
			"error: ../../examples/eks/eks-privileged.yaml also holds RBAC (2 objects), which --policies does not take; add --rbac ../../examples/eks/eks-privileged.yaml\n"},
		{"policies in --rbac alone", "", []string{"who-can", "use", "eks.privileged", "--rbac", "../../examples/eks"},
			"error: ../../examples/eks/eks-privileged.yaml also holds 1 PodSecurityPolicy, which --rbac does not take; add --policies ../../examples/eks/eks-privileged.yaml\n"},
		{"policies in --rbac", "", []string{"can-i", "use", "x", "--as", "alice", "--rbac", "../../examples/seed", "--policies", "../../examples/pitfalls/policies.yaml"},
			"../../examples/seed/example.yaml also holds 1 PodSecurityPolicy, which --rbac does not take; add --policies ../../examples/seed/example.yaml"},
		// A --policies or --rbac path without its kind is an input error in
		// every command that takes them, not every pod denied.
		{"check, policies path of workloads", "", []string{"check", "-f", "../../examples/nginx-root.yaml", "--policies", "../../examples/nginx-root.yaml", "--rbac", "../../examples/pitfalls/rbac.yaml"},
			"no PodSecurityPolicy found in ../../examples/nginx-root.yaml (they hold: 1 Deployment)"},
		{"explain, empty rbac path", "", []string{"explain", "-f", "../../examples/nginx-root.yaml", "--policies", "../../examples/pitfalls/policies.yaml", "--rbac", "testdata/input/empty"},
			"no RBAC (Role, ClusterRole, RoleBinding or ClusterRoleBinding) found in testdata/input/empty: no .yaml, .yml or .json file there"},
		{"lint, policies path of workloads", "", []string{"lint", "--policies", "../../examples/nginx-root.yaml"}, "no PodSecurityPolicy found in"},
		{"can-i, rbac path of workloads", "", []string{"can-i", "use", "x", "--as", "alice", "--rbac", "../../examples/nginx-root.yaml"}, "no RBAC (Role"},
		{"who-can, rbac path of workloads", "", []string{"who-can", "use", "x", "--rbac", "../../examples/nginx-root.yaml"}, "no RBAC (Role"},
		{"explain without files", "", []string{"explain", "--as", "alice"}, "give the files to explain, with -f or as arguments"},
		{"explain bad output", "", []string{"explain", "-f", "-", "-o", "xml"}, "--output must be text, json, yaml or sarif"},
		{"bad output", "", []string{"check", "-f", "-", "-o", "xml"}, "--output must be text, json, yaml or sarif"},
		{"bad preset", "", []string{"check", "-f", "-", "--preset", "open"}, `unknown preset "open"`},
		{"preset with files", "", []string{"check", "-f", "-", "--preset", "baseline", "--policies", "x"}, "--preset cannot be combined"},
		{"convert unknown version", "", []string{"convert", "-f", "-", "--to", "policy/v1"}, `cannot write policies as "policy/v1"`},
		{"convert additions to v1beta1", "apiVersion: policy.kube-psp.io/v1\nkind: PodSecurityPolicy\nmetadata: {name: u}\nspec: {requireUserNamespace: true, runAsUser: {rule: RunAsAny}, seLinux: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}\n",
			[]string{"convert", "-f", "-", "--to", "policy/v1beta1"}, "spec.requireUserNamespace: Forbidden"},
		{"init unknown preset", "", []string{"init", "--preset", "open"}, `unknown preset "open"`},
		{"duplicate policy field", "", []string{"check", "-f", "-", "--policies", "testdata/duplicate-privileged.yaml", "--rbac", "testdata/duplicate-privileged.yaml", "--strict"},
			`testdata/duplicate-privileged.yaml: document 1 (line 1): PodSecurityPolicy "looks-restricted": line 14: duplicate field "spec.privileged" (first set at line 8)`},
		{"bad manifest names document and field", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {hostPID: yes-please}\n",
			[]string{"check", "-f", "-"}, "<stdin>: document 2 (line 5): Pod \"x\": cannot unmarshal string into Go struct field PodSpec.spec.hostPID of type bool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, tc.stdin, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
}

// TestBadDocuments: the documents around bad ones are checked and printed,
// then each bad document is reported at its file line, and the exit status
// is 2, for check and explain, in every format.
func TestBadDocuments(t *testing.T) {
	const file = "testdata/input/bad-documents.yaml"
	wantErrors := "error: " + file + ": document 2 (line 10): not a valid YAML or JSON object: line 18: did not find expected key\n" +
		"error: " + file + `: document 3 (line 20): Pod "wrong-type": cannot unmarshal string into Go struct field PodSpec.spec.hostPID of type bool` + "\n"
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"check-bad-documents.txt", []string{"check", "-f", file}},
		{"check-bad-documents.json", []string{"check", "-f", file, "-o", "json"}},
		{"explain-bad-documents.txt", []string{"explain", file}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != 2 || errOut != wantErrors {
				t.Errorf("exit %d, stderr:\n%s\nwant 2 and:\n%s", code, errOut, wantErrors)
			}
			if !strings.Contains(out, "privileged") {
				t.Errorf("the privileged pod after the bad documents is not reported:\n%s", out)
			}
			golden(t, tc.golden, out)
		})
	}
}

// TestUnknownAndDuplicateFields: check warns about the fields of a pod it
// cannot check, naming file, document, line and field path, and refuses
// them with --strict.
func TestUnknownAndDuplicateFields(t *testing.T) {
	const file = "testdata/input/typos.yaml"
	problems := []string{
		file + `: document 1 (line 1): Pod "typos": unknown field "spec.fooBar" (line 8)`,
		file + `: document 1 (line 1): Pod "typos": duplicate field "spec.hostNetwork" (line 10)`,
		file + `: document 1 (line 1): Pod "typos": unknown field "spec.containers[0].securityContext.privilegd" (line 14); did you mean "privileged"?`,
	}
	out, errOut, code := run(t, "", "check", "-f", file)
	if code != 0 {
		t.Errorf("exit %d, want 0: the pod as decoded is neither privileged nor on the host network\n%s", code, errOut)
	}
	golden(t, "check-typos.txt", out)
	wantWarnings := "warning: " + problems[0] + ": not checked (a typo, or a field newer than kube-psp knows)\n" +
		"warning: " + problems[1] + ": the last value is checked\n" +
		"warning: " + strings.TrimSuffix(problems[2], `; did you mean "privileged"?`) + `: not checked (a typo, or a field newer than kube-psp knows); did you mean "privileged"?` + "\n"
	if errOut != wantWarnings {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantWarnings)
	}
	out, errOut, code = run(t, "", "check", "-f", file, "--strict")
	if want := "error: " + strings.Join(problems, "\nerror: ") + "\n"; code != 2 || errOut != want {
		t.Errorf("--strict: exit %d, stderr:\n%s\nwant 2 and:\n%s", code, errOut, want)
	}
	if !strings.Contains(out, "0 workloads") {
		t.Errorf("--strict: the pod was checked:\n%s", out)
	}
}

// TestExplainTakesCheckInput: explain reads -f (JSON too, and stdin), as
// check does, and files given as arguments.
func TestExplainTakesCheckInput(t *testing.T) {
	pod := `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j", "namespace": "team"},
  "spec": {"containers": [{"name": "a", "image": "x", "securityContext": {"privileged": true}}]}}`
	dir := t.TempDir()
	file := filepath.Join(dir, "pod.json")
	if err := os.WriteFile(file, []byte(pod), 0o644); err != nil {
		t.Fatal(err)
	}
	fromFlag, errOut, code := run(t, "", "explain", "-f", file)
	if code != 0 || !strings.Contains(fromFlag, "Pod team/j") || !strings.Contains(fromFlag, "Privileged containers are not allowed") {
		t.Fatalf("explain -f pod.json: exit %d\n%s%s", code, fromFlag, errOut)
	}
	fromArg, _, _ := run(t, "", "explain", file)
	if fromArg != fromFlag {
		t.Errorf("explain FILE and explain -f FILE differ:\n%s\n---\n%s", fromArg, fromFlag)
	}
	fromStdin, _, _ := run(t, pod, "explain", "-f", "-")
	if want := strings.ReplaceAll(fromFlag, file, "<stdin>"); fromStdin != want {
		t.Errorf("explain -f - differs from the file's explanation:\n%s\n---\n%s", fromStdin, want)
	}
}

// TestAllowEmpty: --allow-empty accepts input without workloads.
func TestAllowEmpty(t *testing.T) {
	for _, cmd := range []string{"check", "explain"} {
		out, errOut, code := run(t, "", cmd, "-f", "../../examples/eks", "--allow-empty")
		// The one warning: what the file holds is read by other flags.
		hint := "warning: ../../examples/eks/eks-privileged.yaml holds 1 PodSecurityPolicy and 2 RBAC objects, which -f does not read; to use them, pass the file with --policies ../../examples/eks/eks-privileged.yaml and --rbac ../../examples/eks/eks-privileged.yaml\n"
		if code != 0 || errOut != hint {
			t.Errorf("%s: exit %d, stderr %q; out:\n%s", cmd, code, errOut, out)
		}
	}
}

func TestCheckStdinAdmitted(t *testing.T) {
	// The restricted preset writes its seccomp default as the annotation too (as v1.24 did).
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: ok, namespace: team, annotations: {seccomp.security.alpha.kubernetes.io/pod: runtime/default}}\n" +
		"spec:\n  securityContext: {runAsUser: 1000, fsGroup: 1, supplementalGroups: [1], seccompProfile: {type: RuntimeDefault}}\n" +
		"  containers:\n  - name: a\n    image: x\n    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}, appArmorProfile: {type: RuntimeDefault}}\n"
	out, errOut, code := run(t, pod, "check", "-f", "-")
	if code != 0 || !strings.Contains(out, `ADMITTED by policy "restricted", unchanged`) {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestSARIFFromStdin: a denial read from standard input has a location
// (uri "stdin", the document's line); a file under the working directory
// is relative to %SRCROOT%.
func TestSARIFFromStdin(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: c, image: nginx}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: priv}\nspec: {containers: [{name: c, image: nginx, securityContext: {privileged: true}}]}\n"
	for _, tc := range []struct {
		stdin, file, want string
	}{
		{pod, "-", `{"physicalLocation":{"artifactLocation":{"uri":"stdin"},"region":{"startLine":6}}}`},
		{"", "../../examples/debug-pod.yaml", `{"physicalLocation":{"artifactLocation":{"uri":"file://`},
		{"", "testdata/input/bad-documents.yaml", `{"physicalLocation":{"artifactLocation":{"uri":"testdata/input/bad-documents.yaml","uriBaseId":"%SRCROOT%"},"region":{"startLine":`},
	} {
		out, errOut, code := run(t, tc.stdin, "check", "-f", tc.file, "-o", "sarif")
		if code == 0 {
			t.Fatalf("%s: exit %d: %s", tc.file, code, errOut)
		}
		var log struct {
			Runs []struct {
				Results []struct {
					Locations []json.RawMessage `json:"locations"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(out), &log); err != nil {
			t.Fatal(err)
		}
		rs := log.Runs[0].Results
		if len(rs) == 0 || len(rs[0].Locations) != 1 || !strings.HasPrefix(compactJSON(t, rs[0].Locations[0]), tc.want) {
			t.Errorf("%s: results %+v, want the first at %s", tc.file, rs, tc.want)
		}
	}
}

func compactJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestVersionFlag: --version prints what `psp version` prints.
func TestVersionFlag(t *testing.T) {
	flag, _, code := run(t, "", "--version")
	cmd, _, code2 := run(t, "", "version")
	if code != 0 || code2 != 0 || flag != cmd || !strings.HasPrefix(flag, "kube-psp ") {
		t.Errorf("--version %q (exit %d), version %q (exit %d)", flag, code, cmd, code2)
	}
}

// TestPolicyTypos: a misspelt restriction in a policy's spec is refused
// (exit 2) naming its line, policy and the intended field, by every
// command that reads policies; a typo elsewhere (RBAC) is warned about
// once, also by generate --verify, which reports its snapshot's warnings.
func TestPolicyTypos(t *testing.T) {
	dir := t.TempDir()
	policy := `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: restricted}
spec:
  allowPrivilegeEscalaton: false
  runAsUser: {rule: RunAsAny}
  seLinux: {rule: RunAsAny}
  supplementalGroups: {rule: RunAsAny}
  fsGroup: {rule: RunAsAny}
  volumes: ['*']
`
	rbacDoc := `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: all}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: use}
subjects: [{kind: Group, name: system:authenticated, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: use}
rules: [{apiGroups: [policy], resources: [podsecuritypolicies], verbs: [use], resourceName: [restricted]}]
`
	typo := filepath.Join(dir, "typo-policy.yaml")
	rbacFile := filepath.Join(dir, "rbac.yaml")
	if err := os.WriteFile(typo, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rbacFile, []byte(rbacDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	pod := filepath.Join("testdata", "input", "typos.yaml")
	want := typo + `: document 1 (line 1): PodSecurityPolicy "restricted": unknown field "spec.allowPrivilegeEscalaton" (line 5): refused`
	for _, args := range [][]string{
		{"check", "-f", pod, "--policies", typo, "--rbac", rbacFile},
		{"lint", "--policies", typo, "--rbac", rbacFile},
		{"who-can", "use", "restricted", "--policies", typo, "--rbac", rbacFile},
		{"generate", "--verify", "-f", pod, "--policies", typo, "--rbac", rbacFile},
		{"diff", "-f", pod, "--before", typo, "--after", "none"},
	} {
		_, errOut, code := run(t, "", args...)
		if code != 2 || !strings.Contains(errOut, want) || !strings.Contains(errOut, `did you mean "allowPrivilegeEscalation"?`) {
			t.Errorf("%v: exit %d, stderr:\n%s\nwant exit 2 and %s ...", args, code, errOut, want)
		}
	}

	fixed := strings.Replace(policy, "allowPrivilegeEscalaton", "allowPrivilegeEscalation", 1)
	if err := os.WriteFile(typo, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, _ := run(t, "", "generate", "--verify", "-f", pod, "--policies", typo, "--rbac", rbacFile)
	warning := rbacFile + `: document 2 (line 7): ClusterRole "use": unknown field "rules[0].resourceName" (line 10): ignored, as the Kubernetes v1.24 apiserver did; did you mean "resourceNames"?`
	if n := strings.Count(errOut, warning); n != 1 {
		t.Errorf("generate --verify: the RBAC typo is warned about %d times, want once:\n%s", n, errOut)
	}
}

// TestPolicySetsFromStdin: "-" reads policies and RBAC, or a diff's set,
// from standard input, unless -f reads it already.
func TestPolicySetsFromStdin(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	eks, err := os.ReadFile("examples/eks/eks-privileged.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fromFile, _, code := run(t, "", "check", "-f", "examples/nginx-root.yaml", "--policies", "examples/eks", "--rbac", "examples/eks")
	if code != 0 {
		t.Fatalf("from files: exit %d", code)
	}
	fromStdin, errOut, code := run(t, string(eks), "check", "-f", "examples/nginx-root.yaml", "--policies", "-", "--rbac", "-")
	if code != 0 || fromStdin != fromFile {
		t.Errorf("--policies - --rbac -: exit %d, %s\n%s\nwant\n%s", code, errOut, fromStdin, fromFile)
	}
	out, errOut, code := run(t, string(eks), "diff", "-f", "examples/nginx-root.yaml", "--before", "-", "--after", "none")
	if code == 2 || !strings.Contains(out, "nginx") {
		t.Errorf("diff --before -: exit %d, %s\n%s", code, errOut, out)
	}
	for _, args := range [][]string{
		{"check", "-f", "-", "--policies", "-", "--rbac", "examples/eks"},
		{"generate", "-f", "-", "--verify", "--policies", "examples/eks", "--rbac", "-"},
		{"diff", "-f", "-", "--before", "-", "--after", "none"},
		{"diff", "-f", "examples/", "--before", "-", "--after", "-"},
	} {
		_, errOut, code := run(t, string(eks), args...)
		if code != 2 || !strings.Contains(errOut, "-: standard input is already") {
			t.Errorf("%v: exit %d, stderr %s", args, code, errOut)
		}
	}
}
