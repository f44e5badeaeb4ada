package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// diffReport is what the test reads of psp diff -o json.
type diffReport struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Summary    struct {
		Workloads, Changed, NewlyDenied int
	} `json:"summary"`
	Items []struct {
		Source struct {
			Object string `json:"object"`
		} `json:"source"`
		Kind   string `json:"kind"`
		Name   string `json:"name"`
		Change string `json:"change"`
		Before struct {
			Admitted bool   `json:"admitted"`
			Policy   string `json:"policy"`
		} `json:"before"`
		After struct {
			Admitted bool   `json:"admitted"`
			Message  string `json:"message"`
		} `json:"after"`
	} `json:"items"`
}

// TestDiffAgainstCluster: psp diff --before cluster reads the live
// cluster's policies, RBAC and workloads, and predicts what deleting EKS's
// eks.privileged and its binding does (the seed article's warning); the
// cluster, once they are deleted, refuses exactly those workloads with the
// messages psp diff gave.
func TestDiffAgainstCluster(t *testing.T) {
	c := needCluster(t)
	const ns = "diff-test"
	c.namespaceEditedBy(t, ns, "alice")
	c.applyPreset(t, "eks")
	// The set after: the cluster's policies and RBAC without eks.privileged
	// and its binding, exported with kubectl.
	export := strings.Join([]string{
		c.must(t, "get", "podsecuritypolicies.policy.kube-psp.io", "--field-selector", "metadata.name!=eks.privileged", "-o", "yaml"),
		c.must(t, "get", "clusterrolebindings", "--field-selector", "metadata.name!=eks:podsecuritypolicy:authenticated", "-o", "yaml"),
		c.must(t, "get", "clusterroles,roles,rolebindings", "-A", "-o", "yaml"),
	}, "---\n")
	after := filepath.Join(t.TempDir(), "after.yaml")
	if err := os.WriteFile(after, []byte(export), 0o644); err != nil {
		t.Fatal(err)
	}

	// Three workloads eks.privileged admits: alice's privileged pod, a
	// privileged Deployment (by its template; its ReplicaSet and pod are
	// not compared apart), and a suspended CronJob that has no pod now.
	eventually(t, "eks.privileged to admit alice's privileged pod", 30*time.Second, func() (bool, string) {
		out, err := c.kubectlIn(podYAML("privileged", "", true), "create", "-n", ns, "--as", "alice", "-f", "-")
		return err == nil, out
	})
	c.mustIn(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: app, image: registry.k8s.io/pause:3.10, securityContext: {privileged: true}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 2 * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          hostNetwork: true
          containers:
          - {name: job, image: registry.k8s.io/pause:3.10}
`, "apply", "-n", ns, "-f", "-")
	eventually(t, "the Deployment's pod", 60*time.Second, func() (bool, string) {
		out, err := c.kubectl("get", "pods", "-n", ns, "-l", "app=web", "-o", `jsonpath={.items[*].metadata.annotations.kubernetes\.io/psp}`)
		return err == nil && strings.TrimSpace(out) == "eks.privileged", out
	})

	diff := func(args ...string) (diffReport, string, int) {
		t.Helper()
		out, errOut, err := c.pspRun("", append([]string{"diff", "--kubeconfig", c.kubeconfig, "-n", ns, "-o", "json"}, args...)...)
		code := 0
		if err != nil {
			var exit *exec.ExitError
			if !asExit(err, &exit) {
				t.Fatalf("psp diff %s: %v\n%s", strings.Join(args, " "), err, errOut)
			}
			code = exit.ExitCode()
		}
		var r diffReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("psp diff %s: %v (exit %d)\n%s%s", strings.Join(args, " "), err, code, out, errOut)
		}
		return r, out, code
	}

	r, out, code := diff("--before", "cluster", "--after", after)
	var files []string
	for _, ch := range r.Items {
		files = append(files, ch.Source.Object)
		if ch.Change != "NewlyDenied" || ch.Before.Policy != "eks.privileged" || ch.After.Admitted || ch.After.Message == "" {
			t.Errorf("%s: %s, before by %q, after %q; want NewlyDenied from eks.privileged", ch.Source.Object, ch.Change, ch.Before.Policy, ch.After.Message)
		}
	}
	want := []string{"cronjob/" + ns + "/nightly", "deployment/" + ns + "/web", "pod/" + ns + "/privileged"}
	if code != 1 || r.APIVersion != "report.kube-psp.io/v1alpha1" || r.Kind != "DiffReport" || r.Summary.Workloads != 3 || r.Summary.NewlyDenied != 3 || !slices.Equal(files, want) {
		t.Fatalf("psp diff --before cluster (exit %d, want 1): changed %v, want %v\n%s", code, files, want, out)
	}
	predicted := map[string]string{}
	for _, ch := range r.Items {
		predicted[ch.Source.Object] = ch.After.Message
	}

	// The other way round, over manifests: --after cluster.
	manifest := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(manifest, []byte(podYAML("again", "", true)), 0o644); err != nil {
		t.Fatal(err)
	}
	back, out, code := diff("-f", manifest, "--before", after, "--after", "cluster")
	if code != 0 || len(back.Items) != 1 || back.Items[0].Change != "NewlyAdmitted" {
		t.Fatalf("psp diff -f --after cluster (exit %d, want 0): want the pod NewlyAdmitted\n%s", code, out)
	}

	// Now delete them, as the article does.
	c.must(t, "delete", "psp", "eks.privileged")
	c.must(t, "delete", "clusterrolebinding", "eks:podsecuritypolicy:authenticated")
	// The bare pod, created again by alice (an authenticated user with no
	// grants of her own, as psp diff's --as), is refused with the
	// predicted message.
	eventually(t, "the bare pod to be refused", 30*time.Second, func() (bool, string) {
		out, err := c.kubectlIn(podYAML("privileged-2", "", true), "create", "-n", ns, "--as", "alice", "-f", "-")
		return err != nil && strings.Contains(out, predicted["pod/"+ns+"/privileged"]), fmt.Sprintf("predicted %q, got:\n%s", predicted["pod/"+ns+"/privileged"], out)
	})
	// The Deployment's next pod is refused as predicted.
	c.must(t, "scale", "deployment", "web", "-n", ns, "--replicas=2")
	eventually(t, "the Deployment's ReplicaSet to report the predicted denial", 60*time.Second, func() (bool, string) {
		out, err := c.kubectl("get", "replicasets", "-n", ns, "-l", "app=web", "-o", `jsonpath={.items[*].status.conditions[*].message}`)
		return err == nil && strings.Contains(out, predicted["deployment/"+ns+"/web"]), fmt.Sprintf("predicted %q, got:\n%s", predicted["deployment/"+ns+"/web"], out)
	})
	// The CronJob's next Job creates no pod.
	c.must(t, "create", "job", "nightly-now", "--from=cronjob/nightly", "-n", ns)
	eventually(t, "the Job's pod to be refused as predicted", 60*time.Second, func() (bool, string) {
		out, err := c.kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name=nightly-now,reason=FailedCreate", "-o", "jsonpath={.items[*].message}")
		return err == nil && strings.Contains(out, predicted["cronjob/"+ns+"/nightly"]), fmt.Sprintf("predicted %q, got:\n%s", predicted["cronjob/"+ns+"/nightly"], out)
	})

	// The cluster is now the set after: nothing changes any more. The Job
	// run is the CronJob's (kubectl create job --from makes it its
	// controller), so it is not a workload of its own.
	r, out, code = diff("--before", "cluster", "--after", after, "--fail-on", "any-change")
	if code != 0 || r.Summary.Changed != 0 || r.Summary.Workloads != 3 {
		t.Fatalf("psp diff after the deletion (exit %d, want 0): want 3 workloads, none changed\n%s", code, out)
	}
}
