// Package generate writes least-privilege PodSecurityPolicies and their
// grants from what workloads use: for each identity that PodSecurityPolicy
// authorizes (a pod's ServiceAccount, or all of a namespace's or one
// workload's), the tightest policy that admits its pods unchanged, a
// ClusterRole granting `use` of it and RoleBindings to the ServiceAccounts;
// and it proves the result by deciding every workload again with the real
// engine (Prove).
//
// What each control reads from a pod comes from engine.Usage, and the
// questions of `use` (its API groups) from the engine too: this package
// decides no PodSecurityPolicy question itself. Workloads come in as
// package manifest reads them (or ReadCluster reads them from a
// cluster) and are made the pod a v1.37 apiserver hands to admission by
// podcreate.Create, as `psp check` does.
package generate

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
)

// GroupBy is the identity one policy is made for.
type GroupBy string

// The groupings.
const (
	// GroupByServiceAccount: one policy per ServiceAccount (namespace and
	// name), the identity PodSecurityPolicy authorizes for a controller's pods.
	GroupByServiceAccount GroupBy = "serviceaccount"
	// GroupByNamespace: one policy per namespace, granted to each
	// ServiceAccount of it that the workloads use.
	GroupByNamespace GroupBy = "namespace"
	// GroupByWorkload: one policy per workload. Workloads that share a
	// ServiceAccount may then use each other's policies: Prove names the
	// ones that end up admitted by another.
	GroupByWorkload GroupBy = "workload"
)

// GroupBys returns the groupings, the default first.
func GroupBys() []GroupBy {
	return []GroupBy{GroupByServiceAccount, GroupByNamespace, GroupByWorkload}
}

// GeneratedForAnnotation is the annotation of a generated policy that lists
// the workloads it was made for, one per line ("Deployment team/web"). Prove
// reads it to know which policy should admit a workload.
const GeneratedForAnnotation = "policy.kube-psp.io/generated-for"

// DefaultNamePrefix starts the name of every generated policy.
const DefaultNamePrefix = "generated."

// Options tune Generate.
type Options struct {
	GroupBy GroupBy
	// NamePrefix starts every policy's name (DefaultNamePrefix if empty).
	NamePrefix string
	// APIVersion is the version the policies are written in:
	// policy.kube-psp.io/v1 (default) or policy/v1beta1, which cannot
	// express the controls added after v1.24.
	APIVersion string
}

// Result is what Generate made.
type Result struct {
	// Policies are in name order.
	Policies []Policy
	// Workloads are the input workloads, in input order.
	Workloads []manifest.Workload
	// PolicyOf is, for each workload, the name of the policy made for it.
	PolicyOf []string
}

// Policy is one generated policy with its grants.
type Policy struct {
	Policy *policyv1.PodSecurityPolicy
	// ClusterRole grants `use` of the policy; RoleBindings grant the
	// ClusterRole to the ServiceAccounts of the workloads, one per namespace.
	ClusterRole  *rbacv1.ClusterRole
	RoleBindings []*rbacv1.RoleBinding
	// Identities name what the policy was made for ("ServiceAccount
	// team/web", "Namespace team", "Deployment team/web"); several when
	// identical policies were merged.
	Identities []string
	// Workloads are the workloads it was made for, in input order.
	Workloads []manifest.Workload
	// Notes say where the policy allows more than the workloads use, and why
	// no policy can allow less.
	Notes []string
	// Warnings say where the grant is wider than it looks: the policy
	// allows more than the restricted preset and is bound to a namespace's
	// default ServiceAccount, or it was widened by merging workloads with
	// different needs, which then get more than they use.
	Warnings []string
}

// Generate makes the tightest policy for each identity of the workloads,
// merges identical ones and makes their grants. Errors: an unknown grouping
// or API version, a name prefix that makes invalid names, or workloads that
// a policy of the API version cannot admit unchanged (image volumes in
// policy/v1beta1).
func Generate(workloads []manifest.Workload, opts Options) (*Result, error) {
	if opts.GroupBy == "" {
		opts.GroupBy = GroupByServiceAccount
	}
	if !slices.Contains(GroupBys(), opts.GroupBy) {
		return nil, fmt.Errorf("unknown grouping %q (want one of %s)", opts.GroupBy, joinGroupBys())
	}
	if opts.NamePrefix == "" {
		opts.NamePrefix = DefaultNamePrefix
	}
	if opts.APIVersion == "" {
		opts.APIVersion = policyv1.APIVersion
	}
	if opts.APIVersion != policyv1.APIVersion && opts.APIVersion != policyv1.LegacyPolicyAPIVersion {
		return nil, fmt.Errorf("unknown API version %q (want %s or %s)", opts.APIVersion, policyv1.APIVersion, policyv1.LegacyPolicyAPIVersion)
	}
	if len(workloads) == 0 {
		return nil, fmt.Errorf("no workloads to generate policies for")
	}
	if err := validNamePrefix(opts.NamePrefix); err != nil {
		return nil, err
	}
	if err := InvalidAsWritten(workloads); err != nil {
		return nil, err
	}

	type group struct {
		key       string
		label     string
		usages    []engine.PodUsage
		pods      []*corev1.Pod
		workloads []int
		accounts  map[string][]string // namespace -> ServiceAccounts
	}
	groups := map[string]*group{}
	var keys []string
	for i, w := range workloads {
		pod := podcreate.Create(w.Pod, w.ServiceAccount)
		sa := engine.PodServiceAccount(pod)
		key := identity(opts.GroupBy, w, sa)
		g, ok := groups[key]
		if !ok {
			g = &group{key: key, label: identityLabel(opts.GroupBy, w, sa), accounts: map[string][]string{}}
			groups[key] = g
			keys = append(keys, key)
		}
		g.usages = append(g.usages, engine.Usage(pod))
		g.pods = append(g.pods, pod)
		g.workloads = append(g.workloads, i)
		if !slices.Contains(g.accounts[w.Namespace], sa) {
			g.accounts[w.Namespace] = append(g.accounts[w.Namespace], sa)
		}
	}
	slices.Sort(keys)

	// Identical policies (same spec and annotations) are merged.
	type merged struct {
		spec       tightest
		identities []string
		labels     []string
		workloads  []int
		pods       map[int]*corev1.Pod
		accounts   map[string][]string
		warnings   []string
	}
	var all []*merged
	byContent := map[string]*merged{}
	var errs []string
	for _, key := range keys {
		g := groups[key]
		t := tightestFor(g.usages, opts.APIVersion)
		if t.err != "" {
			for _, i := range g.workloads {
				errs = append(errs, fmt.Sprintf("%s: %s: %s", workloads[i].Source, workloads[i], t.err))
			}
			continue
		}
		content := t.fingerprint()
		m, ok := byContent[content]
		if !ok {
			m = &merged{spec: t, accounts: map[string][]string{}, pods: map[int]*corev1.Pod{}}
			byContent[content] = m
			all = append(all, m)
		}
		m.identities = append(m.identities, key)
		m.labels = append(m.labels, g.label)
		m.workloads = append(m.workloads, g.workloads...)
		for j, i := range g.workloads {
			m.pods[i] = g.pods[j]
		}
		if wider := widened(g.usages, g.workloads, workloads, opts.APIVersion, content); wider != "" {
			m.warnings = append(m.warnings, fmt.Sprintf("%s merges workloads with different needs into one policy: %s (give each workload its own ServiceAccount)", g.label, wider))
		}
		for ns, sas := range g.accounts {
			for _, sa := range sas {
				if !slices.Contains(m.accounts[ns], sa) {
					m.accounts[ns] = append(m.accounts[ns], sa)
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "\n"))
	}

	restricted, err := restrictedPolicies()
	if err != nil {
		return nil, err
	}
	res := &Result{Workloads: workloads, PolicyOf: make([]string, len(workloads))}
	names := map[string]bool{}
	for _, m := range all {
		name := policyName(opts.NamePrefix, m.identities[0])
		if len(m.identities) > 1 {
			sum := sha256.Sum256([]byte(m.spec.fingerprint()))
			name = opts.NamePrefix + "shared-" + hex.EncodeToString(sum[:])[:10]
		}
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return nil, fmt.Errorf("policy name %q made for %s is not a valid object name: %s", name, strings.Join(m.labels, ", "), strings.Join(errs, "; "))
		}
		if names[name] {
			return nil, fmt.Errorf("two policies would be named %q", name)
		}
		names[name] = true
		slices.Sort(m.workloads)
		p := Policy{Identities: m.labels, Notes: m.spec.notes, Warnings: m.warnings}
		if w, err := defaultAccountWarning(restricted, name, m.accounts, m.workloads, m.pods, workloads); err != nil {
			return nil, err
		} else if w != "" {
			p.Warnings = append(p.Warnings, w)
		}
		for _, i := range m.workloads {
			p.Workloads = append(p.Workloads, workloads[i])
			res.PolicyOf[i] = name
		}
		p.Policy = &policyv1.PodSecurityPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: opts.APIVersion, Kind: policyv1.Kind},
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: m.spec.annotations},
			Spec:       m.spec.spec,
		}
		if p.Policy.Annotations == nil {
			p.Policy.Annotations = map[string]string{}
		}
		p.Policy.Annotations[GeneratedForAnnotation] = workloadList(p.Workloads)
		// The engine's defaults and v1.24's validation, as every policy
		// read gets them; a generated policy that fails is a bug here.
		if errs := engine.DefaultAndValidatePolicy(p.Policy); len(errs) > 0 {
			return nil, fmt.Errorf("generated policy %q is invalid: %s", name, errs.String())
		}
		p.ClusterRole, p.RoleBindings = grants(name, m.accounts)
		res.Policies = append(res.Policies, p)
	}
	slices.SortFunc(res.Policies, func(a, b Policy) int { return cmp.Compare(a.Policy.Name, b.Policy.Name) })
	return res, nil
}

func joinGroupBys() string {
	groupBys := GroupBys()
	s := make([]string, len(groupBys))
	for i, g := range groupBys {
		s[i] = string(g)
	}
	return strings.Join(s, ", ")
}

// identity is the key of the group a workload belongs to; it is also the
// policy name after the prefix, so it uses the dots and lowercase letters
// of object names only: "NAMESPACE.SERVICEACCOUNT", "NAMESPACE",
// "NAMESPACE.KIND.NAME".
func identity(by GroupBy, w manifest.Workload, sa string) string {
	switch by {
	case GroupByNamespace:
		return w.Namespace
	case GroupByWorkload:
		name := w.Name
		if name == "" {
			// A nameless pod (generateName only) is named by its stem.
			name = strings.TrimRight(w.GenerateName, "-.")
		}
		if name == "" {
			name = "unnamed"
		}
		return w.Namespace + "." + strings.ToLower(w.Kind) + "." + name
	}
	return w.Namespace + "." + sa
}

// identityLabel names an identity for people: "ServiceAccount team/web",
// "Namespace team", "Deployment team/web".
func identityLabel(by GroupBy, w manifest.Workload, sa string) string {
	switch by {
	case GroupByNamespace:
		return "Namespace " + w.Namespace
	case GroupByWorkload:
		return WorkloadName(w)
	}
	return "ServiceAccount " + w.Namespace + "/" + sa
}

// WorkloadName is how a workload is named in GeneratedForAnnotation and in
// Prove's findings: "Deployment team/web".
func WorkloadName(w manifest.Workload) string { return w.String() }

func workloadList(ws []manifest.Workload) string {
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = WorkloadName(w)
	}
	return strings.Join(names, "\n")
}

// grants are the ClusterRole granting `use` of the policy, in the API
// groups both kube-psp and kubectl honour (engine.UseRule), and one
// RoleBinding per namespace to the ServiceAccounts there.
func grants(policy string, accounts map[string][]string) (*rbacv1.ClusterRole, []*rbacv1.RoleBinding) {
	roleName := "psp:" + policy
	role := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: roleName},
		Rules:      []rbacv1.PolicyRule{engine.UseRule(policy)},
	}
	namespaces := make([]string, 0, len(accounts))
	for ns := range accounts {
		namespaces = append(namespaces, ns)
	}
	slices.Sort(namespaces)
	var bindings []*rbacv1.RoleBinding
	for _, ns := range namespaces {
		sas := slices.Clone(accounts[ns])
		slices.Sort(sas)
		b := &rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "RoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: roleName, Namespace: ns},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName},
		}
		for _, sa := range sas {
			b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns})
		}
		bindings = append(bindings, b)
	}
	return role, bindings
}

// fingerprint identifies a policy's content, for merging identical ones.
func (t tightest) fingerprint() string {
	data, _ := json.Marshal(struct {
		Spec        policyv1.PodSecurityPolicySpec
		Annotations map[string]string
	}{t.spec, t.annotations}) // plain data: cannot fail
	return string(data)
}
