package migrate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"

	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
)

// Plan is the migration of every namespace the input has pods in, at one
// Pod Security Standards version.
type Plan struct {
	// Version is the Pod Security Standards version, as the *-version labels write it.
	Version string
	// Namespaces are sorted by name.
	Namespaces []Namespace
}

// Namespace is one namespace's migration.
type Namespace struct {
	Name string
	// Enforce is the most restrictive level that admits every pod of the
	// namespace: a pod PodSecurityPolicy admits as it admits it (after the
	// policy's defaults), a pod it denies today as written (see Pod.Level).
	Enforce api.Level
	// Warn is the level one stricter than Enforce, proposed for the warn and
	// audit modes so that the pods keeping the namespace below it are
	// reported; empty when Enforce is restricted.
	Warn api.Level
	// Pods are the namespace's pods, in input order.
	Pods []Pod
	// Current are the namespace's pod-security.kubernetes.io/ labels
	// today (from a Namespace object of the input, or the live namespace;
	// Plan.SetCurrent), empty when it has none; nil when unknown.
	Current map[string]string
}

// SetCurrent records the labels each namespace has today, by namespace
// name; a namespace of the plan absent from labels keeps Current nil
// (unknown). Only the pod-security.kubernetes.io/ labels are kept.
func (p *Plan) SetCurrent(labels map[string]map[string]string) {
	for i := range p.Namespaces {
		n := &p.Namespaces[i]
		all, ok := labels[n.Name]
		if !ok {
			continue
		}
		n.Current = map[string]string{}
		for k, v := range all {
			if strings.HasPrefix(k, labelPrefix) {
				n.Current[k] = v
			}
		}
	}
}

// Changes are the labels of Labels that Current does not already have,
// in Labels' order: what to set. All of Labels when Current is unknown.
func (n *Namespace) Changes(version string) []Label {
	var out []Label
	for _, l := range n.Labels(version) {
		if v, ok := n.Current[l.Key]; !ok || v != l.Value {
			out = append(out, l)
		}
	}
	return out
}

// Tightens returns the enforce level the namespace has today when Enforce
// is stricter than it, "" otherwise (no label, an unknown value, or not
// stricter): applying the plan then refuses pods the namespace admits now.
func (n *Namespace) Tightens() api.Level {
	current, err := api.ParseLevel(n.Current[api.EnforceLevelLabel])
	if err != nil || api.CompareLevels(n.Enforce, current) <= 0 {
		return ""
	}
	return current
}

// Pod is one workload's pod, judged by PodSecurityPolicy and by the Pod
// Security Standards.
type Pod struct {
	// Result is PodSecurityPolicy's verdict (pkg/check): the pod before
	// (Result.Pod) and after (Result.AdmittedPod) the policy's defaults.
	Result check.Verdict
	// Level is the most restrictive level that admits Result.AdmittedPod,
	// or, when PodSecurityPolicy denies the pod today, Result.Pod as
	// written (after podcreate.PrepareForCreate, with no policy's
	// defaults): the pod PodSecurity would see once PodSecurityPolicy is
	// gone. Such a pod still counts, so that a namespace is never proposed
	// a level stricter than its workloads need merely because
	// PodSecurityPolicy refuses them today.
	Level api.Level
	// Stricter are the checks the judged pod fails at the level one
	// stricter than Level: what keeps it from that level.
	Stricter []Violation
	// Dependence is set when the pod passes the namespace's Enforce level
	// only with the fields its policy defaulted.
	Dependence *Dependence
}

// AsRunning tells whether the pod was judged as it runs on a cluster (a
// bare pod, or one whose controller is gone; ReadCluster): it already
// carries what its policy set, so whether it depends on that is unknown.
func (p *Pod) AsRunning() bool {
	return p.Result.Workload.Source.Object != "" && p.Result.Workload.Kind == "Pod"
}

// Dependence is how a pod depends on its policy's defaults to pass a level.
type Dependence struct {
	// Violations are the checks the pod fails without the defaults.
	Violations []Violation
	// Denial is PodSecurity's message refusing the pod without them.
	Denial string
	// Fields are the fewest of the policy's defaults (engine changes, in
	// the engine's order) that make the pod pass, each named as the pod's
	// field; ManifestField names it in the workload's manifest.
	Fields []engine.Change
}

// ManifestField is where field, a pod field, is written in the manifest of
// the workload the result is for (a Deployment's spec.template.spec...).
func (p *Pod) ManifestField(field string) string {
	return manifestField(p.Result.Workload.Kind, field)
}

// Build plans the migration of the namespaces of results, which pkg/check
// decided (check.Run). Errors are internal: a policy default that cannot be
// written back into a pod.
func Build(results []check.Verdict, std *Standards) (*Plan, error) {
	byName := map[string]*Namespace{}
	var names []string
	for _, r := range results {
		ns := r.Workload.Namespace
		n, ok := byName[ns]
		if !ok {
			n = &Namespace{Name: ns, Enforce: api.LevelRestricted}
			byName[ns] = n
			names = append(names, ns)
		}
		p := Pod{Result: r}
		judged := r.AdmittedPod
		if !r.Admitted || judged == nil {
			judged = r.Pod.DeepCopy()
			podcreate.PrepareForCreate(judged)
		}
		p.Level, p.Stricter = std.Level(judged)
		if api.CompareLevels(p.Level, n.Enforce) < 0 {
			n.Enforce = p.Level
		}
		n.Pods = append(n.Pods, p)
	}
	slices.Sort(names)
	plan := &Plan{Version: std.Version()}
	// Workloads of one template shape (a chart's, a team's) share their
	// pod spec and policy defaults: their dependence is computed once.
	memo := map[string]dependenceResult{}
	for _, name := range names {
		n := byName[name]
		n.Warn = stricter(n.Enforce)
		for i := range n.Pods {
			d, err := memoDependence(memo, std, n.Enforce, n.Pods[i].Result)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", n.Pods[i].Result.Workload.Source, n.Pods[i].Result.Workload, err)
			}
			n.Pods[i].Dependence = d
		}
		plan.Namespaces = append(plan.Namespaces, *n)
	}
	return plan, nil
}

type dependenceResult struct {
	d   *Dependence
	err error
}

// memoDependence is dependence, once per level, pod metadata and spec (what
// PodSecurity reads) and changes: a Dependence is shared, not to be changed.
func memoDependence(memo map[string]dependenceResult, std *Standards, level api.Level, r check.Verdict) (*Dependence, error) {
	if !r.Admitted || level == api.LevelPrivileged || len(r.Changes) == 0 {
		return nil, nil
	}
	key, err := json.Marshal(struct {
		Level       api.Level
		Labels      map[string]string
		Annotations map[string]string
		Spec        *corev1.PodSpec
		Changes     []engine.Change
	}{level, r.Pod.Labels, r.Pod.Annotations, &r.Pod.Spec, r.Changes})
	if err != nil {
		return dependence(std, level, r)
	}
	if m, ok := memo[string(key)]; ok {
		return m.d, m.err
	}
	d, err := dependence(std, level, r)
	memo[string(key)] = dependenceResult{d, err}
	return d, err
}

// dependence returns how r's pod depends on its policy's defaults to pass
// level, nil when it passes without them (or PodSecurityPolicy denies it).
// PodSecurity judges the pod the apiserver stores, so the pod without the
// defaults is Result.Pod after podcreate.PrepareForCreate, as AdmittedPod is.
func dependence(std *Standards, level api.Level, r check.Verdict) (*Dependence, error) {
	if !r.Admitted || level == api.LevelPrivileged || len(r.Changes) == 0 {
		return nil, nil
	}
	var w *podWriter
	passes := func(changes []engine.Change) ([]Violation, error) {
		pod, err := w.with(changes)
		if err != nil {
			return nil, err
		}
		podcreate.PrepareForCreate(pod)
		return std.Violations(level, pod), nil
	}
	// Without any default: the pod itself, no conversion needed.
	bare := r.Pod.DeepCopy()
	podcreate.PrepareForCreate(bare)
	violations := std.Violations(level, bare)
	if len(violations) == 0 {
		return nil, nil
	}
	w, err := newPodWriter(r.Pod)
	if err != nil {
		return nil, err
	}
	// Drop each default the level does not need, in the engine's order:
	// what is left is a smallest set in the sense that none of it can go.
	needed := slices.Clone(r.Changes)
	if v, err := passes(needed); err != nil {
		return nil, err
	} else if len(v) > 0 {
		return nil, fmt.Errorf("the pod with every default of policy %q still fails %s: %v", r.Policy, level, v)
	}
	for i := 0; i < len(needed); {
		without := slices.Delete(slices.Clone(needed), i, i+1)
		v, err := passes(without)
		if err != nil {
			return nil, err
		}
		if len(v) == 0 {
			needed = without
			continue
		}
		i++
	}
	return &Dependence{Violations: violations, Denial: std.Denial(level, violations), Fields: needed}, nil
}

// Denied returns the workloads PodSecurityPolicy denies today, in every
// namespace: the plan judged them as written, which no policy confirms.
func (p *Plan) Denied() int {
	n := 0
	for _, ns := range p.Namespaces {
		n += ns.Count().Denied
	}
	return n
}

// labelPrefix begins the Pod Security Admission labels.
const labelPrefix = "pod-security.kubernetes.io/"

// Label is one namespace label to set.
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Labels are the pod-security.kubernetes.io labels to set on n: enforce at
// Enforce, and audit and warn at Warn when there is a stricter level, each
// with its version.
func (n *Namespace) Labels(version string) []Label {
	out := []Label{{api.EnforceLevelLabel, string(n.Enforce)}, {api.EnforceVersionLabel, version}}
	if n.Warn != "" {
		out = append(out, Label{api.AuditLevelLabel, string(n.Warn)}, Label{api.AuditVersionLabel, version},
			Label{api.WarnLevelLabel, string(n.Warn)}, Label{api.WarnVersionLabel, version})
	}
	return out
}

// Count tallies the pods of a namespace by what the report says of them.
type Count struct {
	Workloads int `json:"workloads"`
	// Denied are the workloads PodSecurityPolicy denies today, judged as
	// written; PrivilegedOnly counts those too.
	Denied            int `json:"deniedByPodSecurityPolicy"`
	MutationDependent int `json:"mutationDependent"`
	PrivilegedOnly    int `json:"privilegedOnly"`
}

// Count tallies n's pods.
func (n *Namespace) Count() Count {
	c := Count{Workloads: len(n.Pods)}
	for _, p := range n.Pods {
		if !p.Result.Admitted {
			c.Denied++
		}
		if p.Level == api.LevelPrivileged {
			c.PrivilegedOnly++
		}
		if p.Dependence != nil {
			c.MutationDependent++
		}
	}
	return c
}
