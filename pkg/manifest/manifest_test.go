package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const workloads = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers: [{name: web, image: nginx}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: busybox}]
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: bare}
  spec:
    containers: [{name: a, image: a}]
- apiVersion: v1
  kind: Service
  metadata: {name: ignored}
---
apiVersion: v1
kind: PodTemplate
metadata: {name: tmpl, namespace: ops}
template:
  spec:
    containers: [{name: t, image: t}]
`

func TestRead(t *testing.T) {
	ws, err := Read([]string{"-"}, strings.NewReader(workloads), Options{DefaultNamespace: "dflt"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ str, creator, generateName, sa string }{
		{"Deployment team/web", "system:serviceaccount:kube-system:replicaset-controller", "web-", "web"},
		{"CronJob dflt/nightly", "system:serviceaccount:kube-system:job-controller", "nightly-", ""},
		{"Pod dflt/bare", "", "", ""},
		{"PodTemplate ops/tmpl", "", "tmpl-", ""},
	}
	if len(ws) != len(want) {
		t.Fatalf("got %d workloads: %v", len(ws), ws)
	}
	for i, w := range want {
		got := ws[i]
		creator := ""
		if got.Creator != nil {
			creator = got.Creator.Name
			if !strings.Contains(strings.Join(got.Creator.Groups, ","), "system:authenticated") {
				t.Errorf("%s: controller identity lacks system:authenticated: %v", got, got.Creator.Groups)
			}
		}
		if got.String() != w.str || creator != w.creator || got.Pod.GenerateName != w.generateName || got.Pod.Spec.ServiceAccountName != w.sa || got.Pod.Namespace != got.Namespace {
			t.Errorf("workload %d: got %s by %q generateName %q sa %q ns %q", i, got, creator, got.Pod.GenerateName, got.Pod.Spec.ServiceAccountName, got.Pod.Namespace)
		}
	}
	if ws[2].Source.Item != 1 || ws[2].Source.Document != 3 || ws[1].Source.Line != 12 {
		t.Errorf("sources: %+v %+v", ws[2].Source, ws[1].Source)
	}
	if ws[0].Pod.Labels["app"] != "web" {
		t.Errorf("template labels not kept: %v", ws[0].Pod.Labels)
	}
}

func TestReadErrors(t *testing.T) {
	_, err := Read([]string{"-"}, strings.NewReader("kind: ReplicationController\napiVersion: v1\nmetadata: {name: rc}\nspec: {}\n"), Options{})
	if err == nil || !strings.Contains(err.Error(), `<stdin>: document 1 (line 1): ReplicationController "rc" has no spec.template`) {
		t.Errorf("got %v", err)
	}
	if _, err := Read([]string{"missing-dir"}, nil, Options{}); err == nil || !strings.Contains(err.Error(), "missing-dir") {
		t.Errorf("got %v", err)
	}
}

func TestRecursive(t *testing.T) {
	flat, err := Read([]string{"../../examples"}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	deep, err := Read([]string{"../../examples"}, nil, Options{Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	// examples/eks holds only a policy and RBAC; examples/apiserver holds 6
	// workloads.
	if len(flat) != 6 || len(deep) != 12 {
		t.Errorf("flat %d, recursive %d workloads", len(flat), len(deep))
	}
}

// TestReadAllKeepsGoodDocuments: a bad document does not hide the others;
// each bad one is reported at its file line, in input order.
func TestReadAllKeepsGoodDocuments(t *testing.T) {
	pod := func(name, extra string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + "}\nspec:\n  containers: [{name: a, image: a}]\n" + extra
	}
	data := pod("first", "") + "---\n" +
		pod("bad-yaml", " hostPID: true\n") + "---\n" + // line 7: the document starts here
		pod("bad-type", "  hostPID: yes-please\n") + "---\n" + // line 14
		"apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(pod("item", "  hostIPC: 3\n"), "\n", "\n  ") + "\n---\n" + // line 21
		pod("last", "")
	in, err := ReadAll([]string{"-"}, strings.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range in.Workloads {
		names = append(names, w.Name)
	}
	if strings.Join(names, ",") != "first,last" {
		t.Errorf("workloads %v, want first and last", names)
	}
	want := []string{
		`<stdin>: document 2 (line 7): not a valid YAML or JSON object: line 12: did not find expected key`,
		`<stdin>: document 3 (line 14): Pod "bad-type": cannot unmarshal string into Go struct field PodSpec.spec.hostPID of type bool`,
		`<stdin>: document 4 (line 21), item 1: Pod "item": cannot unmarshal number into Go struct field PodSpec.spec.hostIPC of type bool`,
	}
	if len(in.Errors) != len(want) {
		t.Fatalf("errors %v, want %d", in.Errors, len(want))
	}
	for i, w := range want {
		if in.Errors[i].Error() != w {
			t.Errorf("error %d:\n got %s\nwant %s", i, in.Errors[i], w)
		}
	}
	if len(in.Files) != 1 || in.Files[0] != "<stdin>" {
		t.Errorf("files %v", in.Files)
	}
}

// typos has unknown and repeated fields in workloads, and in a Service,
// which is not read.
const typos = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  fooBar: 1
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {privilegd: true}
      containers:
      - name: a
        image: a
        securityContext:
          privileged: false
          privileged: true
---
apiVersion: v1
kind: List
items:
- {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
   "spec": {"containers": [{"name": "a", "image": "a", "ports": [{"containerPort": 80, "hostPrt": 80}]}]}}
- apiVersion: v1
  kind: Service
  metadata: {name: s}
  spec: {weird: 1, weird: 2}
`

// TestReadUnknownAndDuplicateFields: unknown and repeated fields of the
// objects check reads are named by path and file line: warnings, whose
// objects are still read (the last of repeated values), or with Strict
// errors of their documents.
func TestReadUnknownAndDuplicateFields(t *testing.T) {
	// A field a known one is close to gets a did-you-mean at the end
	// (the pod-level securityContext has no "privileged").
	want := []string{
		`<stdin>: document 1 (line 1): Deployment "web": unknown field "spec.fooBar" (line 6)`,
		`<stdin>: document 1 (line 1): Deployment "web": unknown field "spec.template.spec.securityContext.privilegd" (line 10)`,
		`<stdin>: document 1 (line 1): Deployment "web": duplicate field "spec.template.spec.containers[0].securityContext.privileged" (line 16)`,
		`<stdin>: document 2 (line 18), item 1: Pod "p": unknown field "spec.containers[0].ports[0].hostPrt" (line 22)`,
	}
	hints := []string{"", "", "", `; did you mean "hostPort"?`}
	in, err := ReadAll([]string{"-"}, strings.NewReader(typos), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Errors) != 0 || len(in.Workloads) != 2 || len(in.Warnings) != len(want) {
		t.Fatalf("errors %v, %d workloads, warnings:\n%s", in.Errors, len(in.Workloads), strings.Join(in.Warnings, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(in.Warnings[i], w+": ") || !strings.HasSuffix(in.Warnings[i], hints[i]) {
			t.Errorf("warning %d:\n got %s\nwant %s: ...%s", i, in.Warnings[i], w, hints[i])
		}
	}
	if c := in.Workloads[0].Pod.Spec.Containers[0].SecurityContext; c == nil || c.Privileged == nil || !*c.Privileged {
		t.Errorf("the last of repeated values is not the one read: %+v", c)
	}

	in, err = ReadAll([]string{"-"}, strings.NewReader(typos), Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Workloads) != 0 || len(in.Warnings) != 0 || len(in.Errors) != len(want) {
		t.Fatalf("strict: %d workloads, warnings %v, errors %v", len(in.Workloads), in.Warnings, in.Errors)
	}
	for i, w := range want {
		if in.Errors[i].Error() != w+hints[i] {
			t.Errorf("strict error %d:\n got %s\nwant %s", i, in.Errors[i], w+hints[i])
		}
	}
}

// TestNothingRead: input without workloads says what was read, what it
// holds, and which directories have unread subdirectories.
func TestNothingRead(t *testing.T) {
	for _, tc := range []struct {
		paths      []string
		recursive  bool
		want       string
		wantUnread bool
	}{
		{[]string{"../../examples/eks"}, false, "../../examples/eks/eks-privileged.yaml holds only PodSecurityPolicy, ClusterRole, ClusterRoleBinding", false},
		{[]string{"../../examples/apiserver"}, false, "../../examples/apiserver holds no .yaml, .yml or .json file", true},
		{[]string{"../../examples/pitfalls", "../../examples/seed"}, false,
			"../../examples/pitfalls/policies.yaml, ../../examples/pitfalls/rbac.yaml, ../../examples/seed/example.yaml hold only PodSecurityPolicy, ClusterRole, ClusterRoleBinding, RoleBinding", false},
	} {
		in, err := ReadAll(tc.paths, nil, Options{Recursive: tc.recursive})
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Workloads) != 0 {
			t.Errorf("%v: %d workloads", tc.paths, len(in.Workloads))
		}
		if got := in.NothingRead(tc.paths); got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.paths, got, tc.want)
		}
		if (len(in.Unread) > 0) != tc.wantUnread {
			t.Errorf("%v: unread %v", tc.paths, in.Unread)
		}
	}
	dir := t.TempDir()
	for _, name := range []string{"a.yaml", "b.yaml", "c.yaml", "d.yaml", "e.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in, err := ReadAll([]string{dir}, nil, Options{})
	if want := filepath.Join(dir, "a.yaml") + ", " + filepath.Join(dir, "b.yaml") + ", " + filepath.Join(dir, "c.yaml") + " and 2 more files hold only ConfigMap"; err != nil || in.NothingRead([]string{dir}) != want {
		t.Errorf("got %v %q, want %q", err, in.NothingRead([]string{dir}), want)
	}
	in, err = ReadAll([]string{"-"}, strings.NewReader("# nothing\n---\n"), Options{})
	if err != nil || in.NothingRead([]string{"-"}) != "<stdin> holds no object" {
		t.Errorf("stdin: %v %q", err, in.NothingRead([]string{"-"}))
	}
}

// TestServiceAccounts: each workload gets the ServiceAccount its pod names
// (serviceAccountName, the alias, or default) from any file of the input,
// in its namespace; a later object of the same name wins.
func TestServiceAccounts(t *testing.T) {
	dir := t.TempDir()
	workloads := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      serviceAccountName: quiet
      containers: [{name: app, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: alias, namespace: shop}
spec:
  serviceAccount: quiet
  containers: [{name: app, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  containers: [{name: app, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere, namespace: other}
spec:
  serviceAccountName: quiet
  containers: [{name: app, image: nginx}]
`
	accounts := `apiVersion: v1
kind: ServiceAccount
metadata: {name: quiet, namespace: shop}
automountServiceAccountToken: true
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: quiet, namespace: shop}
  automountServiceAccountToken: false
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: default}
`
	for name, data := range map[string]string{"a-workloads.yaml": workloads, "b-accounts.yaml": accounts} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in, err := ReadAll([]string{dir}, nil, Options{})
	if err != nil || len(in.Errors) > 0 {
		t.Fatal(err, in.Errors)
	}
	if len(in.ServiceAccounts) != 2 || in.ServiceAccounts["default/default"] == nil {
		t.Errorf("ServiceAccounts: %v, want shop/quiet and default/default", in.ServiceAccounts)
	}
	want := map[string]string{"web": "shop/quiet false", "alias": "shop/quiet false", "plain": "default/default unset", "elsewhere": "none"}
	for _, w := range in.Workloads {
		got := "none"
		if sa := w.ServiceAccount; sa != nil {
			got = sa.Namespace + "/" + sa.Name + " unset"
			if a := sa.AutomountServiceAccountToken; a != nil {
				got = fmt.Sprintf("%s/%s %t", sa.Namespace, sa.Name, *a)
			}
		}
		if got != want[w.Name] {
			t.Errorf("%s: ServiceAccount %s, want %s", w, got, want[w.Name])
		}
	}
	if !slices.Contains(in.Others, "ServiceAccount") {
		t.Errorf("Others %v lacks ServiceAccount", in.Others)
	}
	bad := "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\nautomountServiceAccountToken: maybe\n"
	in, err = ReadAll([]string{"-"}, strings.NewReader(bad), Options{})
	if err != nil || len(in.Errors) != 1 || !strings.Contains(in.Errors[0].Error(), `<stdin>: document 1 (line 1): ServiceAccount "x": `) {
		t.Errorf("a bad ServiceAccount: %v %v", err, in.Errors)
	}
}

// TestReadMisspelledKind: a document that may be a workload but has no
// kind, or a workload kind in other letter case, is not skipped without a
// word: a warning, or with Options.Strict an error, names file, document
// and line.
func TestReadMisspelledKind(t *testing.T) {
	const input = `apiVersion: apps/v1
kind: deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: web, image: nginx, securityContext: {privileged: true}}]
---
apiVersion: v1
metadata: {name: bare}
spec:
  containers: [{name: a, image: a, securityContext: {privileged: true}}]
---
apiVersion: v1
kind: LIST
items:
- {apiVersion: v1, kind: pod, metadata: {name: p}}
---
apiVersion: v1
kind: Service
metadata: {name: s}
---
apiVersion: apps/v1
kind: Deploymnet
metadata: {name: typo}
---
apiVersion: batch/v1
kind: CronJobs
metadata: {name: plural}
---
apiVersion: v1
kind: Secret
metadata: {name: not-a-typo}
`
	want := []string{
		`<stdin>: document 1 (line 1): kind deployment is not a kind Kubernetes knows; did you mean Deployment? (object "web" not checked)`,
		`<stdin>: document 2 (line 9): object "bare" has no kind: not checked`,
		`<stdin>: document 3 (line 14): kind LIST is not a kind Kubernetes knows; did you mean List? (object not checked)`,
		`<stdin>: document 5 (line 23): kind Deploymnet is not a kind Kubernetes knows; did you mean Deployment? (object "typo" not checked)`,
		`<stdin>: document 6 (line 27): kind CronJobs is not a kind Kubernetes knows; did you mean CronJob? (object "plural" not checked)`,
	}
	for _, strict := range []bool{false, true} {
		in, err := ReadAll([]string{"-"}, strings.NewReader(input), Options{Strict: strict})
		if err != nil {
			t.Fatal(err)
		}
		got := in.Warnings
		if strict {
			got = nil
			for _, e := range in.Errors {
				got = append(got, e.Error())
			}
			if len(in.Warnings) != 0 {
				t.Errorf("strict: warnings %q", in.Warnings)
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("strict=%v:\n got %s\nwant %s", strict, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestPolicyAndRBACHint: a file given with -f that holds policies or RBAC
// (a chart's rendered output) gets one warning saying which flags read
// them, unless it is given to those flags too.
func TestPolicyAndRBACHint(t *testing.T) {
	const chart = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: chart}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: use-chart}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: use-chart}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c, image: i}]}
`
	file := filepath.Join(t.TempDir(), "chart.yaml")
	if err := os.WriteFile(file, []byte(chart), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := ReadAll([]string{file}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := file + " holds 1 PodSecurityPolicy and 2 RBAC objects, which -f does not read; to use them, pass the file with --policies " + file + " and --rbac " + file
	if len(in.Warnings) != 1 || in.Warnings[0] != want {
		t.Errorf("warnings %q\nwant %q", in.Warnings, want)
	}
	in, err = ReadAll([]string{file}, nil, Options{PolicyPaths: []string{filepath.Dir(file)}})
	if err != nil || len(in.Warnings) != 0 {
		t.Errorf("given to --policies too: %v, warnings %q", err, in.Warnings)
	}
	// A chart's own RBAC, without a policy, is no hint: most charts have it.
	rbacOnly := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(rbacOnly, []byte(chart[strings.Index(chart, "---\n")+4:]), 0o644); err != nil {
		t.Fatal(err)
	}
	in, err = ReadAll([]string{rbacOnly}, nil, Options{})
	if err != nil || len(in.Warnings) != 0 || len(in.Workloads) != 1 {
		t.Errorf("RBAC without a policy: %v, warnings %q, %d workloads", err, in.Warnings, len(in.Workloads))
	}
}
