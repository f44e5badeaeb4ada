package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
	"github.com/kube-psp/kube-psp/pkg/source"
)

// TestOfflineCheckMatchesCluster creates workloads of every kind through the
// real controllers and the real webhook, and asserts that psp check, on the
// same manifests, policies and RBAC, gives each the cluster's decision,
// policy and message, and that the pod it evaluated equals the stored pod on
// every field the engine reads (see engineFields).
//
// The manifests are written to a directory by offlineWorkloads; the
// policies and RBAC are testdata/offline. Every workload name is unique
// across namespaces and is the value of the label offlineLabel on its pods.
func TestOfflineCheckMatchesCluster(t *testing.T) {
	c := needCluster(t)
	start := time.Now()
	dir := t.TempDir()
	policies, rbac := "testdata/offline/policies.yaml", "testdata/offline/rbac.yaml"
	files := writeOfflineManifests(t, dir)

	// Cluster-wide objects go when the test ends; the namespaces too, so
	// that the controllers stop retrying the denied workloads.
	t.Cleanup(func() {
		for _, f := range []string{rbac, policies} {
			_, _ = c.kubectl("delete", "--ignore-not-found", "-f", f)
		}
		_, _ = c.kubectl("delete", "node", offlineNode, "--ignore-not-found")
		_, _ = c.kubectl("delete", "namespace", "--wait=false", "--ignore-not-found", offlineApps, offlineSystem, offlineOps)
	})
	c.must(t, "apply", "-f", files.setup)
	c.must(t, "apply", "-f", policies)
	c.must(t, "apply", "-f", rbac)
	for _, ns := range []string{offlineApps, offlineSystem, offlineOps} {
		eventually(t, "the default ServiceAccount of "+ns, 60*time.Second, func() (bool, string) {
			out, err := c.kubectl("get", "serviceaccount", "default", "-n", ns)
			return err == nil, out
		})
	}
	// A node for the DaemonSets' pods. The TaintNodesByCondition admission
	// plugin taints a new node not-ready (NoSchedule), which DaemonSet pods
	// do not tolerate; with no kubelet, nothing would remove it.
	c.mustIn(t, "apiVersion: v1\nkind: Node\nmetadata: {name: "+offlineNode+", labels: {kubernetes.io/hostname: "+offlineNode+"}}\n", "create", "-f", "-")
	c.must(t, "taint", "node", offlineNode, "node.kubernetes.io/not-ready:NoSchedule-")
	waitForOfflineGrants(t, c)
	setupTime := time.Since(start)

	// The cluster's decisions.
	created := time.Now()
	c.must(t, "create", "-f", files.workloads)
	for _, w := range offlineWorkloads() {
		if w.kind == "CronJob" {
			c.must(t, "create", "job", cronJobRun(w.name), "--from=cronjob/"+w.name, "-n", w.namespace)
		}
	}
	cluster := map[string]clusterOutcome{}
	for _, w := range offlineWorkloads() {
		if w.kind != "Pod" {
			continue
		}
		out, err := c.kubectl("create", "-f", filepath.Join(dir, bareDir(w.as), w.name+".yaml"), "--as", w.as)
		if err != nil {
			cluster[w.name] = deniedOutcome("kubectl create pod", out)
		}
	}
	waitForOutcomes(t, c, cluster)
	clusterTime := time.Since(created)

	// psp check's decisions: the CLI, and the Go API for the pods evaluated.
	checked := time.Now()
	cli := map[string]cliResult{}
	api := map[string]check.Verdict{}
	for _, run := range []struct {
		dir, as string
	}{{files.workloadsDir, ""}, {filepath.Join(dir, bareDir(offlineDev)), offlineDev}, {filepath.Join(dir, bareDir(offlineDeployer)), offlineDeployer}} {
		for _, r := range runCheckCLI(t, c, policies, rbac, run.dir, run.as) {
			cli[r.Name] = r
		}
		for _, r := range runCheckAPI(t, policies, rbac, run.dir, run.as) {
			api[r.Workload.Name] = r
		}
	}
	checkTime := time.Since(checked)

	admittedBy := map[string]int{}
	denied, compared := 0, 0
	for _, w := range offlineWorkloads() {
		got, ok := cluster[w.name]
		if !ok {
			t.Errorf("%s: no outcome in the cluster", w)
			continue
		}
		if got.admitted {
			admittedBy[got.policy]++
		} else {
			denied++
		}
		r, ok := cli[w.name]
		if !ok || r.Kind != w.kind || r.Namespace != w.namespace {
			t.Errorf("%s: psp check did not report it (%+v)", w, r)
			continue
		}
		if diff := compareDecision(got, r, api[w.name]); diff != "" {
			t.Errorf("%s: psp check disagrees with the cluster:\n%s", w, diff)
		}
		// Compared whenever both admitted: with different policies too,
		// the fields show why.
		if got.admitted && api[w.name].Admitted {
			compared += len(engineFields(got.pod))
			if diff := comparePods(got.pod, api[w.name].AdmittedPod); diff != "" {
				t.Errorf("%s: the pod psp check admitted differs from the stored pod %s/%s on fields the engine reads (cluster, then psp check):\n%s",
					w, got.pod.Namespace, got.pod.Name, diff)
			}
		}
	}
	// The workloads exercise every policy and denials, whatever psp check says.
	for _, p := range offlinePolicies {
		if admittedBy[p] == 0 {
			t.Errorf("the cluster admitted no workload with policy %s; admitted: %v", p, admittedBy)
		}
	}
	if denied < 10 {
		t.Errorf("the cluster denied only %d workloads, want at least 10", denied)
	}
	t.Logf("%d workloads: %d admitted (%v), %d denied; %d field values of stored pods compared; setup %s, cluster %s, psp check %s",
		len(offlineWorkloads()), len(offlineWorkloads())-denied, admittedBy, denied, compared,
		setupTime.Round(100*time.Millisecond), clusterTime.Round(100*time.Millisecond), checkTime.Round(100*time.Millisecond))
}

// Names of the test's namespaces, node, identities and label.
const (
	offlineApps   = "offline-apps"
	offlineSystem = "offline-system"
	offlineOps    = "offline-ops"
	offlineNode   = "offline-node"
	// offlineDev creates bare Pods in offlineApps (edit there); the
	// policy offline-f-defaults is granted to him.
	offlineDev = "dev"
	// offlineDeployer is a ServiceAccount that creates bare Pods in
	// offlineApps: its own grant is to the group of its namespace's
	// ServiceAccounts, which kubectl --as gives it (the third case).
	offlineDeployer = "system:serviceaccount:" + offlineOps + ":deployer"
	offlineLabel    = "offline.kube-psp.io/workload"
)

// offlinePolicies are the names in testdata/offline/policies.yaml.
var offlinePolicies = []string{"offline-a-restricted", "offline-b-hostnet", "offline-c-nonroot", "offline-d-hostports",
	"offline-e-privileged", "offline-f-defaults", "offline-g-profiles", "offline-h-notoken"}

// offlineWorkload is one workload: its pod spec as written (YAML at
// indentation 0) and, for a template, the pod template's annotations.
type offlineWorkload struct {
	kind, namespace, name string
	// as creates a bare Pod.
	as          string
	annotations string
	spec        string
	// workloadSpec is more of the workload's spec (YAML at indentation 0).
	workloadSpec string
}

func (w offlineWorkload) String() string { return fmt.Sprintf("%s %s/%s", w.kind, w.namespace, w.name) }

// Pod spec fragments.
const (
	pauseContainer = `containers:
- name: app
  image: registry.k8s.io/pause:3.10
`
	// hostTmp is a host path no policy restricts by prefix: only policies
	// that allow hostPath volumes at all admit it.
	hostTmp = `volumes:
- name: host
  hostPath: {path: /tmp}
containers:
- name: app
  image: registry.k8s.io/pause:3.10
  volumeMounts: [{name: host, mountPath: /host}]
`
	hostLogReadOnly = `volumes:
- name: logs
  hostPath: {path: /var/log/app}
containers:
- name: app
  image: registry.k8s.io/pause:3.10
  volumeMounts: [{name: logs, mountPath: /logs, readOnly: true}]
`
	// podProfiles sets the pod's seccomp and AppArmor profiles.
	podProfiles = "securityContext: {seccompProfile: {type: RuntimeDefault}, appArmorProfile: {type: RuntimeDefault}}\n"
	// initAndSidecar has a plain init container and a sidecar (an init
	// container with restartPolicy: Always), each with a port.
	initAndSidecar = `initContainers:
- name: init
  image: registry.k8s.io/pause:3.10
  ports: [{containerPort: 9050}]
- name: sidecar
  image: registry.k8s.io/pause:3.10
  restartPolicy: Always
  ports: [{containerPort: 9060, protocol: UDP}]
containers:
- name: app
  image: registry.k8s.io/pause:3.10
  ports: [{containerPort: 9070, name: http}]
`
)

// offlineWorkloads are the test's workloads, in a fixed order. Manifests
// leave out what the apiserver defaults: container port protocols (but one),
// hostPorts (defaulted from containerPort on the host network), image pull
// policies, termination message paths, the ServiceAccount (default), the
// token volume and its mounts (added unless automountServiceAccountToken is
// false), the pod security context.
func offlineWorkloads() []offlineWorkload {
	apps := func(kind, name, spec string) offlineWorkload {
		return offlineWorkload{kind: kind, namespace: offlineApps, name: name, spec: spec}
	}
	system := func(kind, name, spec string) offlineWorkload {
		return offlineWorkload{kind: kind, namespace: offlineSystem, name: name, spec: spec}
	}
	pod := func(as, name, spec string) offlineWorkload {
		return offlineWorkload{kind: "Pod", namespace: offlineApps, name: name, as: as, spec: spec}
	}
	withAnnotations := func(w offlineWorkload, annotations string) offlineWorkload {
		w.annotations = annotations
		return w
	}
	withClaims := func(w offlineWorkload) offlineWorkload {
		w.workloadSpec = `volumeClaimTemplates:
- metadata: {name: data}
  spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`
		return w
	}
	var ws []offlineWorkload
	// Deployments: pods created by the replicaset controller, which is
	// granted nothing: what counts is the pod's ServiceAccount.
	ws = append(ws,
		apps("Deployment", "deploy-plain", pauseContainer),
		// The alias alone (the second case): builder may use
		// c-nonroot, which allows the host path a-restricted refuses.
		apps("Deployment", "deploy-alias", "serviceAccount: builder\n"+hostTmp),
		// builder may use a-restricted and c-nonroot, which both must change
		// the pod: the first by name wins.
		apps("Deployment", "deploy-alias-plain", "serviceAccount: builder\n"+pauseContainer),
		apps("Deployment", "deploy-alias-and-name", "serviceAccount: builder\nserviceAccountName: builder\n"+hostTmp),
		apps("Deployment", "deploy-hostpath", hostTmp),
		apps("Deployment", "deploy-privileged", pauseContainer+"  securityContext: {privileged: true}\n"),
		apps("Deployment", "deploy-root", "securityContext: {runAsUser: 0}\n"+pauseContainer),
		apps("Deployment", "deploy-explicit", `securityContext: {runAsNonRoot: true, runAsUser: 1000, fsGroup: 10, supplementalGroups: [10]}
containers:
- name: app
  image: registry.k8s.io/pause:3.10
  securityContext:
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities: {drop: [ALL]}
`),
		apps("Deployment", "deploy-sidecar", "serviceAccountName: web\n"+initAndSidecar),
		apps("Deployment", "deploy-no-token", "automountServiceAccountToken: false\nserviceAccountName: builder\n"+hostTmp),
		// quiet's automountServiceAccountToken is false (in the setup file,
		// which psp check reads): no token volume, so h-notoken, which
		// refuses it, admits the pod unchanged; unless the pod asks for the
		// token, and then only a-restricted admits it.
		apps("Deployment", "deploy-quiet", "serviceAccountName: quiet\n"+pauseContainer),
		apps("Deployment", "deploy-quiet-alias", "serviceAccount: quiet\n"+pauseContainer),
		apps("Deployment", "deploy-quiet-token", "serviceAccountName: quiet\nautomountServiceAccountToken: true\n"+pauseContainer),
		// A projected volume of the user's own: a-restricted allows it only
		// when it is exactly an injected token volume.
		apps("Deployment", "deploy-projected", `volumes:
- name: creds
  projected: {sources: [{secret: {name: creds}}]}
containers:
- name: app
  image: registry.k8s.io/pause:3.10
  volumeMounts: [{name: creds, mountPath: /creds}]
`),
		// g-profiles (web's) allows named profiles only: both must be set.
		apps("Deployment", "deploy-profiles", "serviceAccountName: web\n"+podProfiles+pauseContainer),
		apps("Deployment", "deploy-seccomp-only", "serviceAccountName: web\nsecurityContext: {seccompProfile: {type: RuntimeDefault}}\n"+pauseContainer),
		withAnnotations(apps("Deployment", "deploy-apparmor-annotation", "serviceAccountName: web\n"+pauseContainer),
			`container.apparmor.security.beta.kubernetes.io/app: runtime/default`),
		apps("Deployment", "deploy-apparmor-field", "serviceAccountName: web\n"+pauseContainer+"  securityContext: {appArmorProfile: {type: RuntimeDefault}}\n"),
		apps("Deployment", "deploy-hostnetwork", "hostNetwork: true\n"+pauseContainer+"  ports: [{containerPort: 8080}]\n"),
		// A volume without a source is an emptyDir.
		apps("Deployment", "deploy-volume-no-source", `volumes: [{name: scratch}]
containers:
- name: app
  image: registry.k8s.io/pause:3.10
  volumeMounts: [{name: scratch, mountPath: /scratch}]
`),
		apps("Deployment", "deploy-localhost-seccomp", "serviceAccountName: web\nsecurityContext: {seccompProfile: {type: RuntimeDefault}}\n"+pauseContainer+
			"  securityContext: {seccompProfile: {type: Localhost, localhostProfile: profiles/audit.json}, appArmorProfile: {type: RuntimeDefault}}\n"),
	)
	// DaemonSets: the daemon-set-controller may use b-hostnet (the host
	// network, no host port); offline-system's ServiceAccounts d-hostports.
	ws = append(ws,
		// The first case: hostPort 9100 comes from the apiserver.
		system("DaemonSet", "ds-hostnet-port", "hostNetwork: true\n"+pauseContainer+"  ports: [{containerPort: 9100}]\n"),
		system("DaemonSet", "ds-hostnet-port-outside", "hostNetwork: true\n"+pauseContainer+"  ports: [{containerPort: 10250}]\n"),
		system("DaemonSet", "ds-hostnet-no-ports", "hostNetwork: true\n"+pauseContainer),
		system("DaemonSet", "ds-hostnet-two-ports", "hostNetwork: true\n"+pauseContainer+
			"  ports: [{containerPort: 9200, protocol: UDP}, {containerPort: 9101, hostPort: 9101}]\n"),
		system("DaemonSet", "ds-agent", `serviceAccountName: agent
hostPID: true
volumes:
- name: root
  hostPath: {path: /}
containers:
- name: app
  image: registry.k8s.io/pause:3.10
  securityContext: {privileged: true}
  volumeMounts: [{name: root, mountPath: /host}]
`),
		system("DaemonSet", "ds-privileged", pauseContainer+"  securityContext: {privileged: true}\n"),
		system("DaemonSet", "ds-hostnet-sidecar", "hostNetwork: true\n"+initAndSidecar),
		system("DaemonSet", "ds-ports", pauseContainer+"  ports: [{containerPort: 8080}]\n"),
		system("DaemonSet", "ds-hostnet-no-token", "hostNetwork: true\nautomountServiceAccountToken: false\n"+hostTmp),
	)
	// StatefulSets: the statefulset-controller is granted nothing.
	ws = append(ws,
		apps("StatefulSet", "sts-plain", pauseContainer),
		apps("StatefulSet", "sts-alias", "serviceAccount: builder\n"+hostTmp),
		apps("StatefulSet", "sts-root", pauseContainer+"  securityContext: {runAsUser: 0}\n"),
		// A claim template becomes a persistentVolumeClaim volume, replacing
		// the template's volume of the same name; d-hostports allows no claims.
		withClaims(apps("StatefulSet", "sts-claims", `volumes: [{name: data, emptyDir: {}}]
containers:
- name: app
  image: registry.k8s.io/pause:3.10
  volumeMounts: [{name: data, mountPath: /data}]
`)),
		withClaims(system("StatefulSet", "sts-claims-system", "hostNetwork: true\n"+pauseContainer+"  volumeMounts: [{name: data, mountPath: /data}]\n")),
		// The AppArmor annotation becomes the field in the stored pod.
		withAnnotations(apps("StatefulSet", "sts-web-profiles", "serviceAccountName: web\nsecurityContext: {seccompProfile: {type: RuntimeDefault}}\n"+pauseContainer),
			`container.apparmor.security.beta.kubernetes.io/app: runtime/default`),
	)
	// Jobs and CronJobs: the job-controller may use f-defaults.
	ws = append(ws,
		apps("Job", "job-plain", pauseContainer),
		apps("Job", "job-quiet", "serviceAccountName: quiet\n"+pauseContainer),
		apps("Job", "job-hostpath-read-only", hostLogReadOnly),
		apps("Job", "job-hostpath-writable", strings.Replace(hostLogReadOnly, ", readOnly: true", "", 1)),
		apps("Job", "job-net-admin", pauseContainer+"  securityContext: {capabilities: {add: [NET_ADMIN]}}\n"),
		apps("Job", "job-root-init", "initContainers:\n- name: init\n  image: registry.k8s.io/pause:3.10\n  securityContext: {runAsUser: 0}\n"+pauseContainer),
		apps("Job", "job-sidecar", initAndSidecar),
		apps("Job", "job-no-token", "automountServiceAccountToken: false\n"+hostLogReadOnly),
		apps("CronJob", "cron-plain", pauseContainer),
		apps("CronJob", "cron-hostpath-read-only", hostLogReadOnly),
		apps("CronJob", "cron-alias", "serviceAccount: builder\n"+hostTmp),
		apps("CronJob", "cron-privileged", pauseContainer+"  securityContext: {privileged: true}\n"),
	)
	// ReplicaSets (the replicaset-controller) and ReplicationControllers
	// (the replication-controller may use g-profiles).
	ws = append(ws,
		apps("ReplicaSet", "rs-plain", pauseContainer),
		apps("ReplicaSet", "rs-alias", "serviceAccount: builder\n"+hostTmp),
		apps("ReplicaSet", "rs-host-ipc", "hostIPC: true\n"+pauseContainer),
		apps("ReplicationController", "rc-plain", pauseContainer),
		apps("ReplicationController", "rc-profiles", podProfiles+pauseContainer),
		apps("ReplicationController", "rc-seccomp-only", "securityContext: {seccompProfile: {type: RuntimeDefault}}\n"+pauseContainer),
		apps("ReplicationController", "rc-hostnetwork", "hostNetwork: true\n"+pauseContainer+"  ports: [{containerPort: 8080}]\n"),
	)
	// Bare Pods, created by dev (f-defaults) and by a ServiceAccount.
	ws = append(ws,
		pod(offlineDev, "pod-plain", pauseContainer),
		pod(offlineDev, "pod-alias", "serviceAccount: builder\n"+hostTmp),
		pod(offlineDev, "pod-hostpath-read-only", hostLogReadOnly),
		pod(offlineDev, "pod-privileged", pauseContainer+"  securityContext: {privileged: true}\n"),
		pod(offlineDev, "pod-sidecar", initAndSidecar),
		pod(offlineDev, "pod-no-token", "automountServiceAccountToken: false\n"+pauseContainer),
		pod(offlineDev, "pod-host-port", pauseContainer+"  ports: [{containerPort: 8080, hostPort: 8080}]\n"),
		withAnnotations(pod(offlineDev, "pod-apparmor-annotation", "serviceAccountName: web\n"+pauseContainer),
			`container.apparmor.security.beta.kubernetes.io/app: runtime/default`),
		pod(offlineDev, "pod-run-as-group", pauseContainer+"  securityContext: {runAsGroup: 2500, runAsUser: 1500}\n"),
		pod(offlineDeployer, "pod-deployer-privileged", pauseContainer+"  securityContext: {privileged: true}\n"),
		pod(offlineDeployer, "pod-deployer-plain", pauseContainer),
		pod(offlineDeployer, "pod-deployer-hostnet", "hostNetwork: true\n"+pauseContainer+"  ports: [{containerPort: 9100}]\n"),
	)
	return ws
}

// cronJobRun names the Job the test creates from a CronJob (kubectl create
// job --from=cronjob/NAME), so that its pods need not wait for the schedule.
func cronJobRun(cronJob string) string { return cronJob + "-run" }

// bareDir is the directory of the bare Pods created by user as.
func bareDir(as string) string {
	if as == offlineDev {
		return "pods-dev"
	}
	return "pods-deployer"
}

// manifest is the workload's YAML: the pod spec under the kind's template,
// the pod template labelled with the workload's name.
func (w offlineWorkload) manifest() string {
	meta := func(indent string) string {
		s := indent + "labels: {" + offlineLabel + ": " + w.name + "}\n"
		if w.annotations != "" {
			s += indent + "annotations: {" + w.annotations + "}\n"
		}
		return s
	}
	spec := w.spec
	if (w.kind == "Job" || w.kind == "CronJob") && !strings.Contains(spec, "restartPolicy: Never") {
		spec = "restartPolicy: Never\n" + spec
	}
	head := func(apiVersion string) string {
		return fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata: {name: %s, namespace: %s}\nspec:\n", apiVersion, w.kind, w.name, w.namespace)
	}
	selector := "  selector: {matchLabels: {" + offlineLabel + ": " + w.name + "}}\n"
	template := func(indent string) string {
		return indent + "template:\n" + indent + "  metadata:\n" + meta(indent+"    ") + indent + "  spec:\n" + indentLines(spec, indent+"    ")
	}
	switch w.kind {
	case "Pod":
		return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: %s\n%sspec:\n%s", w.name, w.namespace, meta("  "), indentLines(spec, "  "))
	case "Deployment", "ReplicaSet":
		return head("apps/v1") + "  replicas: 1\n" + selector + template("  ")
	case "DaemonSet":
		return head("apps/v1") + selector + template("  ")
	case "StatefulSet":
		return head("apps/v1") + "  replicas: 1\n  serviceName: " + w.name + "\n" + selector + template("  ") + indentLines(w.workloadSpec, "  ")
	case "ReplicationController":
		return head("v1") + "  replicas: 1\n" + template("  ")
	case "Job":
		return head("batch/v1") + template("  ")
	case "CronJob":
		// A schedule that does not fire during the test: its Job is created by hand.
		return head("batch/v1") + "  schedule: \"0 0 1 1 *\"\n  jobTemplate:\n    spec:\n" + template("      ")
	}
	panic("offlineWorkload: unknown kind " + w.kind)
}

func indentLines(s, indent string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = indent + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// offlineFiles are the manifests psp check reads and the cluster gets.
type offlineFiles struct {
	// setup has the namespaces, ServiceAccounts and the edit grants of the
	// users that create bare Pods; psp check reads it too (it ignores them).
	setup string
	// workloads holds every workload but the bare Pods, in workloadsDir.
	workloads, workloadsDir string
}

func writeOfflineManifests(t *testing.T, dir string) offlineFiles {
	t.Helper()
	f := offlineFiles{workloadsDir: filepath.Join(dir, "workloads")}
	f.setup = filepath.Join(f.workloadsDir, "00-setup.yaml")
	f.workloads = filepath.Join(f.workloadsDir, "workloads.yaml")
	for _, d := range []string{f.workloadsDir, filepath.Join(dir, bareDir(offlineDev)), filepath.Join(dir, bareDir(offlineDeployer))} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	setup := []string{}
	for _, ns := range []string{offlineApps, offlineSystem, offlineOps} {
		setup = append(setup, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}")
	}
	for _, sa := range []struct{ ns, name, more string }{{offlineApps, "web", ""}, {offlineApps, "builder", ""}, {offlineSystem, "agent", ""}, {offlineOps, "deployer", ""},
		{offlineApps, "quiet", "\nautomountServiceAccountToken: false"}} {
		setup = append(setup, fmt.Sprintf("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: %s, namespace: %s}%s", sa.name, sa.ns, sa.more))
	}
	for _, s := range []struct{ name, subject string }{
		{"dev-edit", "{kind: User, apiGroup: rbac.authorization.k8s.io, name: " + offlineDev + "}"},
		{"deployer-edit", "{kind: ServiceAccount, namespace: " + offlineOps + ", name: deployer}"},
	} {
		setup = append(setup, fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: %s, namespace: %s}\n"+
			"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}\nsubjects: [%s]", s.name, offlineApps, s.subject))
	}
	write := func(file string, docs []string) {
		if err := os.WriteFile(file, []byte(strings.Join(docs, "\n---\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(f.setup, setup)
	var workloads []string
	for _, w := range offlineWorkloads() {
		if w.kind == "Pod" {
			write(filepath.Join(dir, bareDir(w.as), w.name+".yaml"), []string{w.manifest()})
			continue
		}
		workloads = append(workloads, w.manifest())
	}
	write(f.workloads, workloads)
	return f
}

// waitForOfflineGrants waits until psp serve has read the test's policies
// and RBAC. Its informers see the objects of each type in the order they
// were created, so it is enough that a server-side dry run is admitted
// through the last policy, ClusterRole, RoleBinding and ClusterRoleBinding
// of the files: g-profiles, through web's RoleBinding (dev's own
// f-defaults would have to change the pod, so it comes second) and
// through the replication-controller's ClusterRoleBinding. The apiserver's
// own RBAC must also let dev and the deployer create pods: the last
// RoleBinding of the setup file is the deployer's.
func waitForOfflineGrants(t *testing.T, c *cluster) {
	t.Helper()
	for _, probe := range []struct{ as, policy, spec string }{
		{offlineDev, "offline-g-profiles", "serviceAccountName: web\n" + podProfiles + pauseContainer},
		{"system:serviceaccount:kube-system:replication-controller", "offline-g-profiles", podProfiles + pauseContainer},
		{offlineDeployer, "offline-e-privileged", pauseContainer},
	} {
		w := offlineWorkload{kind: "Pod", namespace: offlineApps, name: "grants-probe", spec: probe.spec}
		eventually(t, "psp serve to admit a pod with "+probe.policy, 30*time.Second, func() (bool, string) {
			out, err := c.kubectlIn(w.manifest(), "create", "--dry-run=server", "--as", probe.as, "-f", "-",
				"-o", `jsonpath={.metadata.annotations.kubernetes\.io/psp}`)
			return err == nil && out == probe.policy, out
		})
	}
}

// clusterOutcome is what the cluster did with a workload's pod: admitted
// (the stored pod, its kubernetes.io/psp annotation) or denied (where the
// denial was read, the webhook that denied, the message).
type clusterOutcome struct {
	admitted bool
	policy   string
	pod      *corev1.Pod
	where    string
	webhook  string
	message  string
}

// deniedOutcome reads a webhook denial from an error message: kubectl's, or
// a controller's FailedCreate event ("Error creating: admission webhook
// "NAME" denied the request: MESSAGE").
func deniedOutcome(where, text string) clusterOutcome {
	o := clusterOutcome{where: where, message: strings.TrimSpace(text)}
	before, message, ok := strings.Cut(text, " denied the request: ")
	if !ok {
		return o
	}
	if i := strings.LastIndex(before, `admission webhook "`); i >= 0 {
		o.webhook = strings.TrimSuffix(before[i+len(`admission webhook "`):], `"`)
	}
	// The message ends the line; kubectl may print the webhook's warnings before it.
	message, _, _ = strings.Cut(message, "\n")
	o.message = strings.TrimSpace(message)
	return o
}

// waitForOutcomes waits until every workload has a stored pod or a denial
// (the FailedCreate event of the object that creates its pods), and fills
// outcomes with them. Bare Pods denied by kubectl are already there.
func waitForOutcomes(t *testing.T, c *cluster, outcomes map[string]clusterOutcome) {
	t.Helper()
	var missing []string
	eventually(t, "every workload's pod or denial", 90*time.Second, func() (bool, string) {
		var pods corev1.PodList
		var events corev1.EventList
		var owners struct {
			Items []struct {
				Metadata struct {
					Namespace, Name string
					OwnerReferences []struct{ Kind, Name string }
				}
			}
		}
		for _, q := range []struct {
			into any
			args []string
		}{
			{&pods, []string{"get", "pods", "-A", "-l", offlineLabel, "-o", "json"}},
			{&events, []string{"get", "events", "-A", "--field-selector", "reason=FailedCreate", "-o", "json"}},
			{&owners, []string{"get", "replicasets", "-n", offlineApps, "-o", "json"}},
		} {
			out, err := c.kubectl(q.args...)
			if err != nil {
				return false, out
			}
			if err := json.Unmarshal([]byte(out), q.into); err != nil {
				return false, err.Error()
			}
		}
		podsOf := map[string][]corev1.Pod{}
		for _, p := range pods.Items {
			podsOf[p.Labels[offlineLabel]] = append(podsOf[p.Labels[offlineLabel]], p)
		}
		// The object whose controller creates a workload's pods, and so
		// reports its denials: a Deployment's ReplicaSet, a CronJob's Job.
		creator := map[string]string{}
		for _, rs := range owners.Items {
			for _, o := range rs.Metadata.OwnerReferences {
				if o.Kind == "Deployment" {
					creator[o.Name] = "ReplicaSet/" + rs.Metadata.Namespace + "/" + rs.Metadata.Name
				}
			}
		}
		failures := map[string]string{}
		for _, e := range events.Items {
			o := e.InvolvedObject
			failures[o.Kind+"/"+o.Namespace+"/"+o.Name] = e.Message
		}
		missing = missing[:0]
		for _, w := range offlineWorkloads() {
			if _, done := outcomes[w.name]; done {
				continue
			}
			switch ps := podsOf[w.name]; len(ps) {
			case 0:
			case 1:
				outcomes[w.name] = clusterOutcome{admitted: true, policy: ps[0].Annotations["kubernetes.io/psp"], pod: &ps[0]}
				continue
			default:
				t.Fatalf("%s: %d pods, want 1", w, len(ps))
			}
			from := w.kind + "/" + w.namespace + "/" + w.name
			switch w.kind {
			case "Deployment":
				from = creator[w.name]
			case "CronJob":
				from = "Job/" + w.namespace + "/" + cronJobRun(w.name)
			}
			if msg, ok := failures[from]; ok && from != "" {
				outcomes[w.name] = deniedOutcome("FailedCreate event of "+from, msg)
				continue
			}
			missing = append(missing, w.String())
		}
		return len(missing) == 0, "no pod nor denial for " + strings.Join(missing, ", ")
	})
}

// cliResult is one item of psp check -o json (a v1alpha1.CheckReport).
type cliResult struct {
	Kind, Namespace, Name string
	Admitted              bool
	Policy, Message       string
}

// runCheckCLI runs the psp binary: psp check -f DIR --policies --rbac [--as].
func runCheckCLI(t *testing.T, c *cluster, policies, rbac, dir, as string) []cliResult {
	t.Helper()
	args := []string{"check", "-f", dir, "--policies", policies, "--rbac", rbac, "-o", "json"}
	if as != "" {
		args = append(args, "--as", as)
	}
	out, errOut, err := c.pspRun("", args...)
	// Exit status 1: some workload is denied.
	var exit *exec.ExitError
	if err != nil && !(asExit(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("psp %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	var report struct {
		APIVersion, Kind string
		Items            []cliResult
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("psp %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if report.APIVersion != v1alpha1.APIVersion || report.Kind != v1alpha1.KindCheckReport {
		t.Fatalf("psp %s: apiVersion %q, kind %q", strings.Join(args, " "), report.APIVersion, report.Kind)
	}
	return report.Items
}

// runCheckAPI runs what psp check runs, through the Go API, for the pods
// it evaluated.
func runCheckAPI(t *testing.T, policies, rbac, dir, as string) []check.Verdict {
	t.Helper()
	res, err := loader.Load([]string{policies, rbac}, loader.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := source.Build(res, "")
	if err != nil {
		t.Fatal(err)
	}
	workloads, err := manifest.Read([]string{dir}, nil, manifest.Options{DefaultNamespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if as == "" {
		as = "kube-psp:check" // psp check's default --as; no bare Pods here
	}
	user := authorizer.Impersonate(as, nil)
	results, err := check.Run(context.Background(), snap.Policies, snap.Authorizer, workloads, check.Options{User: user})
	if err != nil {
		t.Fatal(err)
	}
	return results
}

// compareDecision compares the cluster's outcome with psp check's (the
// CLI's, and the Go API's, which must say the same): "" when they agree.
func compareDecision(cluster clusterOutcome, cli cliResult, api check.Verdict) string {
	var b strings.Builder
	verdict := func(admitted bool, policy, message string) string {
		if admitted {
			return "admitted by " + policy
		}
		return "denied: " + message
	}
	want := verdict(cluster.admitted, cluster.policy, cluster.message)
	if got := verdict(cli.Admitted, cli.Policy, cli.Message); got != want {
		fmt.Fprintf(&b, "  cluster:    %s", want)
		if !cluster.admitted {
			fmt.Fprintf(&b, " (%s)", cluster.where)
		}
		fmt.Fprintf(&b, "\n  psp check:  %s\n", got)
	}
	if got := verdict(api.Admitted, api.Policy, api.Message); got != verdict(cli.Admitted, cli.Policy, cli.Message) {
		fmt.Fprintf(&b, "  the Go API: %s\n", got)
	}
	if !cluster.admitted && !cli.Admitted {
		// The admit phase is the mutating webhook, the validate phase the validating one.
		webhook := map[engine.Phase]string{engine.PhaseAdmit: "pods.mutate.kube-psp.io", engine.PhaseValidate: "pods.validate.kube-psp.io"}[api.DeniedIn]
		if cluster.webhook != webhook {
			fmt.Fprintf(&b, "  denied by webhook %q in the cluster; psp check denied in phase %q (webhook %q)\n", cluster.webhook, api.DeniedIn, webhook)
		}
	}
	if cluster.admitted && api.Admitted && api.AdmittedPod == nil {
		b.WriteString("  the Go API gives no admitted pod\n")
	}
	return b.String()
}

// comparePods compares the stored pod with the pod psp check admitted
// (check.Verdict.AdmittedPod, which includes what the pod registry does
// between mutating admission and storage) on engineFields: "" when they
// agree, otherwise one line per field.
func comparePods(stored, admitted *corev1.Pod) string {
	if admitted == nil {
		return "  psp check gives no admitted pod\n"
	}
	want, got := engineFields(stored), engineFields(admitted)
	var paths []string
	for p := range want {
		paths = append(paths, p)
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var b strings.Builder
	for _, p := range paths {
		w, inCluster := want[p]
		g, inCheck := got[p]
		if inCluster && inCheck && w == g {
			continue
		}
		if !inCluster {
			w = "<unset>"
		}
		if !inCheck {
			g = "<unset>"
		}
		fmt.Fprintf(&b, "  %s: %s | %s\n", p, w, g)
	}
	return b.String()
}

// engineFields flattens the fields of a pod that the engine reads into
// "path: JSON value". The fields are derived from engine.Inventory: every
// field with a Control, descending into the types it names (PodSpec,
// PodSecurityContext, Container (so init and ephemeral containers),
// SecurityContext, WindowsSecurityContextOptions); today they are
//
//   - spec: hostNetwork, hostPID, hostIPC, hostUsers, serviceAccountName
//     and its alias serviceAccount, runtimeClassName, securityContext (runAsUser, runAsGroup,
//     runAsNonRoot, supplementalGroups, fsGroup, seLinuxOptions, sysctls,
//     seccompProfile, appArmorProfile, windowsOptions.hostProcess);
//   - each container, init container and ephemeral container, by name:
//     ports (containerPort and hostPort: the protocol, which the apiserver
//     defaults, no control reads), volumeMounts (name, mountPath, readOnly: what allowedHostPaths
//     reads) and the whole securityContext (every field has a control,
//     windowsOptions but hostProcess excepted);
//   - each volume, by name: its type, and what the engine reads inside
//     it: hostPath.path, flexVolume.driver, csi.driver, and the sources of
//     a projected volume as far as pkg/engine/volumes.go tells a token
//     volume from others;
//
// plus the annotations the engine reads: kubernetes.io/psp and the seccomp
// and AppArmor ones. The token volume's name, random in the cluster, is
// written kube-api-access-*.
func engineFields(pod *corev1.Pod) map[string]string {
	controlled := map[string]map[string]bool{}
	for _, d := range engine.Inventory() {
		if d.Control == "" {
			continue
		}
		typ, name, _ := strings.Cut(d.Field, ".")
		if controlled[typ] == nil {
			controlled[typ] = map[string]bool{}
		}
		controlled[typ][name] = true
	}
	out := map[string]string{}
	for k, v := range pod.Annotations {
		if k == "kubernetes.io/psp" || strings.HasPrefix(k, "seccomp.security.alpha.kubernetes.io/") ||
			strings.HasPrefix(k, corev1.SeccompContainerAnnotationKeyPrefix) || strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix) {
			out["metadata.annotations["+k+"]"] = v
		}
	}
	spec := jsonObject(pod.Spec)
	// keep flattens the controlled fields of a security context.
	keep := func(path string, v any, typ string) {
		for k, e := range asObject(v) {
			switch {
			case !controlled[typ][k]:
			case k == "windowsOptions":
				for wk, we := range asObject(e) {
					if controlled["WindowsSecurityContextOptions"][wk] {
						flatten(out, path+".windowsOptions."+wk, we)
					}
				}
			default:
				flatten(out, path+"."+k, e)
			}
		}
	}
	for k, v := range spec {
		if !controlled["PodSpec"][k] {
			continue
		}
		path := "spec." + k
		switch k {
		case "securityContext":
			keep(path, v, "PodSecurityContext")
		case "volumes":
			for _, vol := range asArray(v) {
				volumeFields(out, asObject(vol), controlled["VolumeSource"])
			}
		case "containers", "initContainers", "ephemeralContainers":
			for _, cv := range asArray(v) {
				c := asObject(cv)
				cpath := fmt.Sprintf("%s[%v]", path, c["name"])
				for ck, ce := range c {
					switch {
					case !controlled["Container"][ck]:
					case ck == "securityContext":
						keep(cpath+".securityContext", ce, "SecurityContext")
					case ck == "ports":
						// The hostPorts control reads hostPort; containerPort says which port it is.
						for i, port := range asArray(ce) {
							flatten(out, fmt.Sprintf("%s.ports[%d]", cpath, i), pick(asObject(port), "containerPort", "hostPort"))
						}
					case ck == "volumeMounts":
						for i, m := range asArray(ce) {
							mount := asObject(m)
							mount["name"] = tokenVolumeName(mount["name"])
							flatten(out, fmt.Sprintf("%s.volumeMounts[%d]", cpath, i), pick(mount, "name", "mountPath", "readOnly"))
						}
					default:
						flatten(out, cpath+"."+ck, ce)
					}
				}
			}
		default:
			flatten(out, path, v)
		}
	}
	return out
}

// volumeFields adds a volume's type and the parts of it the engine reads.
func volumeFields(out map[string]string, vol map[string]any, types map[string]bool) {
	path := fmt.Sprintf("spec.volumes[%v]", tokenVolumeName(vol["name"]))
	var kinds []string
	for k := range vol {
		if types[k] {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	out[path+".type"] = strings.Join(kinds, ",")
	for _, k := range kinds {
		source := asObject(vol[k])
		switch k {
		case "hostPath":
			flatten(out, path+".hostPath.path", source["path"])
		case "flexVolume", "csi":
			flatten(out, path+"."+k+".driver", source["driver"])
		case "projected":
			for i, s := range asArray(source["sources"]) {
				for kind, body := range asObject(s) {
					b := asObject(body)
					var read any = map[string]any{}
					switch kind {
					case "serviceAccountToken":
						read = pick(b, "path", "audience")
					case "configMap":
						read = pick(b, "name")
					case "downwardAPI":
						var items []any
						for _, it := range asArray(b["items"]) {
							item := asObject(it)
							items = append(items, map[string]any{"path": item["path"], "fieldRef": pick(asObject(item["fieldRef"]), "apiVersion", "fieldPath")})
						}
						read = map[string]any{"items": items}
					}
					flatten(out, fmt.Sprintf("%s.projected.sources[%d].%s", path, i, kind), read)
				}
			}
		}
	}
}

// tokenVolumeName writes the token volume's name, whose suffix is random in
// the cluster, as kube-api-access-*.
func tokenVolumeName(name any) any {
	if s, ok := name.(string); ok && strings.HasPrefix(s, podcreate.TokenVolumePrefix) && len(s) == len(podcreate.TokenVolumeName) {
		return podcreate.TokenVolumePrefix + "*"
	}
	return name
}

// pick keeps the keys of m that are set.
func pick(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// flatten adds "path: JSON" for every leaf of v (an empty object or list is a leaf).
func flatten(out map[string]string, path string, v any) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			out[path] = "{}"
		}
		for k, e := range x {
			flatten(out, path+"."+k, e)
		}
	case []any:
		if len(x) == 0 {
			out[path] = "[]"
		}
		for i, e := range x {
			flatten(out, fmt.Sprintf("%s[%d]", path, i), e)
		}
	case nil:
	default:
		b, _ := json.Marshal(x)
		out[path] = string(b)
	}
}

// jsonObject is v as decoded JSON.
func jsonObject(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	return m
}

func asObject(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asArray(v any) []any {
	a, _ := v.([]any)
	return a
}

// TestOfflineComparison checks, without a cluster, that the comparison of
// TestOfflineCheckMatchesCluster sees what it must: a defaulted hostPort, a
// volume's type, a security context field; and ignores the token volume's
// random name and fields the engine does not read.
func TestOfflineComparison(t *testing.T) {
	stored := &corev1.Pod{Spec: corev1.PodSpec{
		HostNetwork: true,
		Containers: []corev1.Container{{Name: "app", Image: "pause", ImagePullPolicy: corev1.PullIfNotPresent,
			Ports:        []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100, Protocol: corev1.ProtocolTCP}},
			VolumeMounts: []corev1.VolumeMount{{Name: "kube-api-access-x7k2q", MountPath: podcreate.TokenMountPath, ReadOnly: true}}}},
		Volumes: []corev1.Volume{{Name: "kube-api-access-x7k2q", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}}},
	}}
	same := stored.DeepCopy()
	same.Spec.Containers[0].ImagePullPolicy, same.Spec.Containers[0].Ports[0].Protocol = "", ""
	same.Spec.Volumes[0].Name, same.Spec.Containers[0].VolumeMounts[0].Name = podcreate.TokenVolumeName, podcreate.TokenVolumeName
	if diff := comparePods(stored, same); diff != "" {
		t.Errorf("differences the engine does not read were reported:\n%s", diff)
	}
	differs := same.DeepCopy()
	differs.Spec.Containers[0].Ports[0].HostPort = 0
	differs.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
	differs.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsNonRoot: &[]bool{true}[0]}
	want := "  spec.containers[app].ports[0].hostPort: 9100 | <unset>\n" +
		"  spec.containers[app].securityContext.runAsNonRoot: <unset> | true\n" +
		"  spec.volumes[kube-api-access-*].type: projected | emptyDir\n"
	if diff := comparePods(stored, differs); diff != want {
		t.Errorf("comparePods:\n%s\nwant:\n%s", diff, want)
	}

	for text, want := range map[string]clusterOutcome{
		`Error creating: admission webhook "pods.mutate.kube-psp.io" denied the request: PodSecurityPolicy: unable to admit pod: []`: {
			webhook: "pods.mutate.kube-psp.io", message: "PodSecurityPolicy: unable to admit pod: []"},
		"Warning: policy \"a\" refuses the pod\nError from server (Forbidden): error when creating \"p.yaml\": admission webhook \"pods.validate.kube-psp.io\" denied the request: PodSecurityPolicy: unable to validate pod: [x]\n": {
			webhook: "pods.validate.kube-psp.io", message: "PodSecurityPolicy: unable to validate pod: [x]"},
		`Error from server (NotFound): serviceaccounts "x" not found`: {message: `Error from server (NotFound): serviceaccounts "x" not found`},
	} {
		got := deniedOutcome("here", text)
		if got.webhook != want.webhook || got.message != want.message {
			t.Errorf("deniedOutcome(%q) = webhook %q, message %q; want %q, %q", text, got.webhook, got.message, want.webhook, want.message)
		}
	}
}
