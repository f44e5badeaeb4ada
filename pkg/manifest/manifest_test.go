package manifest

import (
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
	// examples/eks holds only a policy and RBAC; examples/apiserver holds 4
	// workloads.
	if len(flat) != 6 || len(deep) != 10 {
		t.Errorf("flat %d, recursive %d workloads", len(flat), len(deep))
	}
}
