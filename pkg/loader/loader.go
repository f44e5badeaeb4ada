// Package loader reads PodSecurityPolicies and RBAC objects from YAML and
// JSON files: a file or a directory (walked recursively, .yaml, .yml and
// .json files, hidden entries skipped, symlinked files followed so that a
// mounted ConfigMap works), multi-document files, and List kinds. Policies
// may be written as policy/v1beta1, extensions/v1beta1 or
// policy.kube-psp.io/v1; RBAC as rbac.authorization.k8s.io/v1 (or the
// identical v1beta1). Other kinds are skipped with one warning per file.
//
// Every error names the file, the document (and its first line) and the
// field. A field given twice in a policy or RBAC object is an error, strict
// mode or not (yamlfile.DuplicateFields). Loading is all or nothing: on any error no
// objects are returned.
package loader

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/kube-psp/kube-psp/internal/plural"
	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/rbac"
	"github.com/kube-psp/kube-psp/pkg/yamlfile"
)

// PoliciesAndRBAC is what was loaded: policies, defaulted and validated
// (engine.DefaultAndValidatePolicy) and RBAC, with the file position of
// each.
type PoliciesAndRBAC struct {
	Policies []*policyv1.PodSecurityPolicy
	// PolicySources has the source of each policy, by name.
	PolicySources map[string]yamlfile.Position
	RBAC          rbac.Objects
	// RBACSources has the source of each RBAC object, by RBACKey.
	RBACSources map[string]yamlfile.Position
	// Warnings are problems that did not stop the load: skipped kinds,
	// unknown fields (outside strict mode), defaulted namespaces.
	Warnings []string
}

// Add appends what other loaded to r: its policies, RBAC objects and
// warnings after r's, and their positions (other's win for a name both
// have). It is for loads made one path at a time (psp convert, the
// presets), whose duplicate names are not refused as one load refuses them.
func (r *PoliciesAndRBAC) Add(other *PoliciesAndRBAC) {
	r.Policies = append(r.Policies, other.Policies...)
	r.RBAC.Roles = append(r.RBAC.Roles, other.RBAC.Roles...)
	r.RBAC.ClusterRoles = append(r.RBAC.ClusterRoles, other.RBAC.ClusterRoles...)
	r.RBAC.RoleBindings = append(r.RBAC.RoleBindings, other.RBAC.RoleBindings...)
	r.RBAC.ClusterRoleBindings = append(r.RBAC.ClusterRoleBindings, other.RBAC.ClusterRoleBindings...)
	r.Warnings = append(r.Warnings, other.Warnings...)
	if r.PolicySources == nil {
		r.PolicySources = map[string]yamlfile.Position{}
	}
	if r.RBACSources == nil {
		r.RBACSources = map[string]yamlfile.Position{}
	}
	maps.Copy(r.PolicySources, other.PolicySources)
	maps.Copy(r.RBACSources, other.RBACSources)
}

// RBACKey names an RBAC object for PoliciesAndRBAC.RBACSources:
// "Kind/namespace/name" ("Kind/name" for cluster-scoped kinds).
func RBACKey(kind, namespace, name string) string {
	if namespace == "" {
		return kind + "/" + name
	}
	return kind + "/" + namespace + "/" + name
}

// Options tune loading.
type Options struct {
	// Strict makes unknown fields an error instead of a warning. The v1.24
	// apiserver silently dropped them, so a misspelled field weakened a
	// policy without a word; kube-psp at least warns.
	Strict bool
	// Stdin is read for the path "-" (once, however many flags give it);
	// nil refuses "-".
	Stdin io.Reader
}

// Load reads every path (file or directory) and merges what it finds:
// policies and RBAC alike.
func Load(paths []string, opts Options) (*PoliciesAndRBAC, error) {
	in := make([]pathKinds, len(paths))
	for i, p := range paths {
		in[i] = pathKinds{path: p, kinds: anyKinds}
	}
	return loadPaths(in, opts)
}

// LoadPoliciesAndRBAC reads policies from policyPaths and RBAC from
// rbacPaths (the --policies and --rbac flags): a PodSecurityPolicy read
// only through rbacPaths, or an RBAC object read only through policyPaths,
// is an error naming its file, document and line and the flag it belongs
// to. A file reached through both (the same file or directory given to
// both flags, as for a directory holding both) may hold both kinds.
// policyPaths, when given, must hold at least one PodSecurityPolicy and
// rbacPaths at least one RBAC object: otherwise the error says what they
// hold ("no PodSecurityPolicy found in manifests/ (they hold: 40
// Deployments, ...)"), since an empty set would deny every pod.
func LoadPoliciesAndRBAC(policyPaths, rbacPaths []string, opts Options) (*PoliciesAndRBAC, error) {
	var in []pathKinds
	for _, p := range policyPaths {
		in = append(in, pathKinds{path: p, kinds: policyKinds})
	}
	for _, p := range rbacPaths {
		in = append(in, pathKinds{path: p, kinds: rbacKinds})
	}
	return loadPaths(in, opts)
}

// nothingFound is the error for --policies or --rbac paths that hold none
// of their kind: a mistyped path must not read as every pod denied.
// counts are the kinds the paths' files hold.
func nothingFound(what string, paths []string, files int, counts map[string]int) error {
	where := strings.Join(paths, ", ")
	if files == 0 {
		return fmt.Errorf("no %s found in %s: no .yaml, .yml or .json file there", what, where)
	}
	if len(counts) == 0 {
		if files == 1 {
			return fmt.Errorf("no %s found in %s: its file holds no objects", what, where)
		}
		return fmt.Errorf("no %s found in %s: its %d files hold no objects", what, where, files)
	}
	return fmt.Errorf("no %s found in %s (they hold: %s)", what, where, kindCounts(counts))
}

// kindCounts writes counts of kinds, most frequent first: "3 Deployments,
// 1 Service"; past five kinds, the rest are summed.
func kindCounts(counts map[string]int) string {
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if counts[kinds[i]] != counts[kinds[j]] {
			return counts[kinds[i]] > counts[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	var parts []string
	rest := 0
	for i, k := range kinds {
		if i >= 5 {
			rest += counts[k]
			continue
		}
		parts = append(parts, kindCount(counts[k], k))
	}
	if rest > 0 {
		parts = append(parts, plural.Count(rest, "other object"))
	}
	return strings.Join(parts, ", ")
}

// kindCount is n and a kind in the plural the API uses for its resource:
// NetworkPolicy, NetworkPolicies; Ingress, Ingresses; Endpoints, Endpoints.
func kindCount(n int, kind string) string {
	if n == 1 {
		return "1 " + kind
	}
	switch {
	case strings.HasSuffix(kind, "y") && !strings.HasSuffix(kind, "ay") && !strings.HasSuffix(kind, "ey"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(kind, "y"))
	case strings.HasSuffix(kind, "ss"):
		return fmt.Sprintf("%d %ses", n, kind)
	case strings.HasSuffix(kind, "s"):
		return fmt.Sprintf("%d %s", n, kind)
	}
	return fmt.Sprintf("%d %ss", n, kind)
}

// kinds are the kinds a file may hold.
type kinds uint8

const (
	policyKinds kinds = 1 << iota
	rbacKinds
	anyKinds = policyKinds | rbacKinds
)

type pathKinds struct {
	path  string
	kinds kinds
}

// loadPaths reads the files of every path. Paths given for one kind only
// (--policies or --rbac) must hold at least one object of it.
func loadPaths(in []pathKinds, opts Options) (*PoliciesAndRBAC, error) {
	l := &load{opts: opts, res: &PoliciesAndRBAC{PolicySources: map[string]yamlfile.Position{}, RBACSources: map[string]yamlfile.Position{}}, counts: map[string]map[string]int{}}
	// A file reached through several paths (say --policies and --rbac
	// naming the same directory) is read once, with the kinds of each.
	allowed := map[string]kinds{}
	var files []string
	filesOf := map[kinds][]string{}
	var stdin []byte
	for _, p := range in {
		listed := []string{yamlfile.Stdin}
		if p.path == "-" {
			if opts.Stdin == nil {
				return nil, errors.New(`"-" (standard input) cannot be read here`)
			}
			if stdin == nil {
				data, err := io.ReadAll(opts.Stdin)
				if err != nil {
					return nil, fmt.Errorf("reading standard input: %w", err)
				}
				stdin = data
			}
		} else {
			var err error
			if listed, err = yamlfile.ListFiles(p.path, true); err != nil {
				return nil, err
			}
		}
		filesOf[p.kinds] = append(filesOf[p.kinds], listed...)
		for _, f := range listed {
			key := filepath.Clean(f)
			if _, seen := allowed[key]; !seen {
				files = append(files, f)
			}
			allowed[key] |= p.kinds
		}
	}
	for _, f := range files {
		data := stdin
		if f != yamlfile.Stdin {
			var err error
			if data, err = os.ReadFile(f); err != nil {
				return nil, fmt.Errorf("reading %s: %w", f, err)
			}
		}
		l.kinds = allowed[filepath.Clean(f)]
		l.file(f, data)
	}
	// A path that holds nothing of its flag's kinds is the one error worth
	// reporting (a wrong directory), rather than one error per object of
	// the other flag's kinds in it; when it holds some of them, their own
	// errors (a broken policy, say) come first.
	for _, k := range []struct {
		kinds kinds
		what  string
		found int
		names []string
	}{
		{policyKinds, "PodSecurityPolicy", len(l.res.Policies), []string{policyv1.Kind}},
		{rbacKinds, "RBAC (Role, ClusterRole, RoleBinding or ClusterRoleBinding)", len(l.res.RBAC.Roles) + len(l.res.RBAC.ClusterRoles) + len(l.res.RBAC.RoleBindings) + len(l.res.RBAC.ClusterRoleBindings),
			[]string{"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}},
	} {
		var paths []string
		for _, p := range in {
			if p.kinds == k.kinds {
				paths = append(paths, p.path)
			}
		}
		if len(paths) == 0 || k.found > 0 {
			continue
		}
		counts := map[string]int{}
		for _, f := range filesOf[k.kinds] {
			for kind, n := range l.counts[f] {
				counts[kind] += n
			}
		}
		// Documents whose kind could not be read are not counted, and may be
		// what seems to be missing: their errors say more.
		if slices.ContainsFunc(k.names, func(name string) bool { return counts[name] > 0 }) || l.unreadable > 0 {
			continue
		}
		err := nothingFound(k.what, paths, len(filesOf[k.kinds]), counts)
		// Swapped flags: say which flag takes what was found, unless the
		// paths are given to that flag too.
		var elsewhere bool
		for _, p := range in {
			if p.kinds != k.kinds && slices.Contains(paths, p.path) {
				elsewhere = true
			}
		}
		switch {
		case elsewhere:
		case k.kinds == policyKinds && slices.ContainsFunc([]string{"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}, func(n string) bool { return counts[n] > 0 }):
			err = fmt.Errorf("%w; RBAC is given with --rbac", err)
		case k.kinds == rbacKinds && counts[policyv1.Kind] > 0:
			err = fmt.Errorf("%w; PodSecurityPolicies are given with --policies", err)
		}
		return nil, err
	}
	if err := errors.Join(l.errs...); err != nil {
		return nil, err
	}
	return l.res, nil
}

// LoadReader reads one stream (e.g. standard input) named name in messages.
func LoadReader(name string, r io.Reader, opts Options) (*PoliciesAndRBAC, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	l := &load{opts: opts, kinds: anyKinds, res: &PoliciesAndRBAC{PolicySources: map[string]yamlfile.Position{}, RBACSources: map[string]yamlfile.Position{}}}
	l.file(name, data)
	if err := errors.Join(l.errs...); err != nil {
		return nil, err
	}
	return l.res, nil
}

type load struct {
	opts Options
	// kinds are those the file being read may hold.
	kinds kinds
	res   *PoliciesAndRBAC
	errs  []error
	// counts are the kinds of the objects of each file, by file name.
	counts map[string]map[string]int
	// skipped are the kinds of the file being read that are neither
	// policies nor RBAC, for its one warning.
	skipped map[string]int
	// misplacedPolicies and misplacedRBAC count the objects of the file
	// being read that its flag does not take, for its one error.
	misplacedPolicies, misplacedRBAC int
	// unreadable counts documents refused before their kind was counted
	// (not YAML, no kind, duplicate fields): one of them may be the policy
	// or RBAC a path seems to lack.
	unreadable int
}

func (l *load) errorf(src yamlfile.Position, format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("%s: %s", src, fmt.Sprintf(format, args...)))
}

func (l *load) warnf(src yamlfile.Position, format string, args ...any) {
	l.res.Warnings = append(l.res.Warnings, fmt.Sprintf("%s: %s", src, fmt.Sprintf(format, args...)))
}

func (l *load) file(name string, data []byte) {
	l.skipped = map[string]int{}
	l.misplacedPolicies, l.misplacedRBAC = 0, 0
	for i, doc := range yamlfile.SplitDocuments(data) {
		if doc.Data == nil {
			continue
		}
		l.object(yamlfile.Position{File: name, Document: i + 1, Line: doc.Line}, doc.Data)
	}
	if len(l.skipped) > 0 {
		n := 0
		for _, c := range l.skipped {
			n += c
		}
		noun := "objects that are"
		if n == 1 {
			noun = "an object that is"
		}
		l.res.Warnings = append(l.res.Warnings, fmt.Sprintf("%s: skipping %s: %s not PodSecurityPolicy or RBAC", name, kindCounts(l.skipped), noun))
	}
	// One error per file, not one per object: a file `psp generate` wrote
	// holds both kinds, and its fix is one flag.
	if l.misplacedRBAC > 0 {
		l.errs = append(l.errs, fmt.Errorf("%s also holds RBAC (%s), which --policies does not take; add --rbac %s", name, plural.Count(l.misplacedRBAC, "object"), flagValue(name)))
	}
	if l.misplacedPolicies > 0 {
		l.errs = append(l.errs, fmt.Errorf("%s also holds %s, which --rbac does not take; add --policies %s", name, kindCount(l.misplacedPolicies, policyv1.Kind), flagValue(name)))
	}
}

// flagValue is how the file name is given to a flag: "-" for standard
// input.
func flagValue(name string) string {
	if name == yamlfile.Stdin {
		return "-"
	}
	return name
}

// count records an object of kind read from file, for the error that a
// path holds no object of the kind its flag takes.
func (l *load) count(file, kind string) {
	if l.counts == nil {
		return
	}
	if l.counts[file] == nil {
		l.counts[file] = map[string]int{}
	}
	l.counts[file][kind]++
}

// typeMeta is what the loader reads first of every document. List items
// stay raw so each is decoded, and its errors reported, on its own.
type typeMeta struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

func (l *load) object(src yamlfile.Position, data []byte) {
	var tm typeMeta
	if err := yaml.Unmarshal(data, &tm); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			l.errorf(src, "%v", yamlfile.HeaderError(err))
		} else {
			l.errorf(src, "not a valid YAML or JSON object: %v", yamlfile.YAMLError(err, src.Line))
		}
		l.unreadable++
		return
	}
	switch {
	case tm.Kind == "":
		l.errorf(src, "object has no kind")
		l.unreadable++
		return
	case tm.APIVersion == "":
		l.errorf(src, "%s %q has no apiVersion", tm.Kind, tm.Metadata.Name)
		l.unreadable++
		return
	}
	if src.Item == 0 && l.duplicates(src, tm, data) {
		l.unreadable++ // refused unread: it may be the policy a path seems to lack
		return
	}
	if strings.HasSuffix(tm.Kind, "List") && tm.Items != nil {
		for i, item := range tm.Items {
			itemSrc := src
			itemSrc.Item = i + 1
			l.object(itemSrc, item)
		}
		return
	}
	group, _, hasGroup := strings.Cut(tm.APIVersion, "/")
	if !hasGroup {
		group = "" // the core group: "v1"
	}
	l.count(src.File, tm.Kind)
	switch {
	case tm.Kind == policyv1.Kind && l.kinds&policyKinds == 0:
		l.misplacedPolicies++
	case group == rbacv1.GroupName && l.kinds&rbacKinds == 0:
		l.misplacedRBAC++
	case tm.Kind == policyv1.Kind && isPolicyAPIVersion(tm.APIVersion):
		l.policy(src, data)
	case tm.Kind == policyv1.Kind && (group == "policy" || group == "extensions" || group == policyv1.GroupName):
		l.errorf(src, "PodSecurityPolicy %q: apiVersion %s is not supported (use %s, %s or %s)", tm.Metadata.Name,
			tm.APIVersion, policyv1.LegacyPolicyAPIVersion, policyv1.LegacyExtensionsAPIVersion, policyv1.APIVersion)
	case group == rbacv1.GroupName:
		l.rbacObject(src, tm.Kind, tm.APIVersion, tm.Metadata.Name, data)
	default:
		l.skipped[tm.Kind]++
	}
}

// duplicates refuses a policy, RBAC or List document that gives a field
// twice: these are security input, and which value counts must not be a
// guess. Other kinds are skipped anyway. A List item's lines are the
// List's, so the whole document is checked here.
func (l *load) duplicates(src yamlfile.Position, tm typeMeta, data []byte) bool {
	group, _, _ := strings.Cut(tm.APIVersion, "/")
	if tm.Kind != policyv1.Kind && group != rbacv1.GroupName && !strings.HasSuffix(tm.Kind, "List") {
		return false
	}
	dups := yamlfile.DuplicateFields(data, src.Line)
	for _, d := range dups {
		l.errorf(src, "%s %q: %v", tm.Kind, tm.Metadata.Name, d)
	}
	return len(dups) > 0
}

func isPolicyAPIVersion(v string) bool {
	return v == policyv1.APIVersion || v == policyv1.LegacyPolicyAPIVersion || v == policyv1.LegacyExtensionsAPIVersion
}

// DecodePolicy decodes one PodSecurityPolicy document (YAML or JSON, any
// supported apiVersion), and defaults and validates it
// (engine.DefaultAndValidatePolicy) exactly as Load does,
// for callers that have one object and no file: the CRD's validating
// webhook. errs and warnings are Load's messages without the location; the
// policy is usable only when errs is empty.
func DecodePolicy(data []byte, opts Options) (p *policyv1.PodSecurityPolicy, errs, warnings []string) {
	return decodePolicy(data, 0, opts)
}

// decodePolicy is DecodePolicy for a document at file line firstLine (0
// when lines mean nothing: JSON from the webhook, a List item), whose
// messages name the lines of fields.
//
// An unknown field under spec is an error, strict or not: the
// PodSecurityPolicy API is frozen at Kubernetes v1.24, so no spec field
// is newer than kube-psp, and a misspelt restriction
// (allowPrivilegeEscalaton) would be a restriction silently missing.
func decodePolicy(data []byte, firstLine int, opts Options) (p *policyv1.PodSecurityPolicy, errs, warnings []string) {
	p = &policyv1.PodSecurityPolicy{}
	strictErrs, err := yamlfile.DecodeYAML(data, p)
	if err != nil {
		return nil, []string{fmt.Sprintf("PodSecurityPolicy: %v", err)}, nil
	}
	what := fmt.Sprintf("PodSecurityPolicy %q", p.Name)
	for _, f := range unknownFields(data, firstLine, p, strictErrs) {
		switch {
		case strings.HasPrefix(f.path, "spec."):
			errs = append(errs, fmt.Sprintf("%s: %s: refused, as a misspelt field would be a restriction silently missing (no spec field is newer than kube-psp: the API is frozen at Kubernetes v1.24)%s", what, f.message, f.hint))
		case opts.Strict:
			errs = append(errs, fmt.Sprintf("%s: %s%s", what, f.message, f.hint))
		default:
			warnings = append(warnings, fmt.Sprintf("%s: %s: ignored, as the Kubernetes v1.24 apiserver did%s", what, f.message, f.hint))
		}
	}
	if len(errs) > 0 {
		return nil, errs, warnings
	}
	for _, e := range engine.DefaultAndValidatePolicy(p) {
		errs = append(errs, fmt.Sprintf("PodSecurityPolicy %q is invalid: %s", p.Name, e.Error()))
	}
	if len(errs) > 0 {
		return nil, errs, warnings
	}
	return p, nil, warnings
}

// unknownField is an unknown field of a decoded object, for messages.
type unknownField struct {
	// path is the field's path in the object ("" for a problem that is not
	// an unknown field).
	path string
	// message is `unknown field "spec.x" (line 7)`; hint is a did-you-mean
	// suffix or "".
	message, hint string
}

// unknownFields describes the strict errors of decoding data (a document
// at file line firstLine, 0 for no lines) into out: each unknown field's
// path, file line and the known field it is likely a typo of.
func unknownFields(data []byte, firstLine int, out any, strictErrs []error) []unknownField {
	var index *yamlfile.FieldIndex
	fields := make([]unknownField, 0, len(strictErrs))
	for _, se := range strictErrs {
		path, ok := yamlfile.UnknownFieldPath(se)
		if !ok {
			fields = append(fields, unknownField{message: se.Error()})
			continue
		}
		f := unknownField{path: path, message: fmt.Sprintf("unknown field %q", path), hint: yamlfile.DidYouMean(out, path)}
		if firstLine > 0 {
			if index == nil {
				index = yamlfile.NewFieldIndex(data, firstLine)
			}
			if line := index.Line(path); line > 0 {
				f.message += fmt.Sprintf(" (line %d)", line)
			}
		}
		fields = append(fields, f)
	}
	return fields
}

// firstLine is the file line of the document at src for field lines, 0
// for a List item (whose data is the item alone).
func firstLine(src yamlfile.Position) int {
	if src.Item > 0 {
		return 0
	}
	return src.Line
}

// decode unmarshals data, an object of kind what named name, into out.
// Unknown fields are errors in strict mode and warnings otherwise;
// duplicate fields were refused before.
func (l *load) decode(src yamlfile.Position, what, name string, data []byte, out any) bool {
	strictErrs, err := yamlfile.DecodeYAML(data, out)
	if err != nil {
		l.errorf(src, "%s %q: %v", what, name, err)
		return false
	}
	for _, f := range unknownFields(data, firstLine(src), out, strictErrs) {
		if l.opts.Strict {
			l.errorf(src, "%s %q: %s%s", what, name, f.message, f.hint)
		} else {
			l.warnf(src, "%s %q: %s: ignored, as the Kubernetes v1.24 apiserver did%s", what, name, f.message, f.hint)
		}
	}
	return !l.opts.Strict || len(strictErrs) == 0
}

func (l *load) policy(src yamlfile.Position, data []byte) {
	p, errs, warnings := decodePolicy(data, firstLine(src), l.opts)
	for _, w := range warnings {
		l.warnf(src, "%s", w)
	}
	for _, e := range errs {
		l.errorf(src, "%s", e)
	}
	if len(errs) > 0 {
		return
	}
	if prev, dup := l.res.PolicySources[p.Name]; dup {
		l.errorf(src, "PodSecurityPolicy %q is already defined at %s", p.Name, prev)
		return
	}
	p.TypeMeta.APIVersion, p.TypeMeta.Kind = policyv1.APIVersion, policyv1.Kind
	l.res.PolicySources[p.Name] = src
	l.res.Policies = append(l.res.Policies, p)
}

func (l *load) rbacObject(src yamlfile.Position, kind, apiVersion, name string, data []byte) {
	if !slices.Contains([]string{"rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1alpha1"}, apiVersion) {
		l.errorf(src, "%s: apiVersion %s is not supported (use rbac.authorization.k8s.io/v1)", kind, apiVersion)
		return
	}
	defaultNamespace := func(ns *string, name string) {
		if *ns == "" {
			*ns = "default"
			l.warnf(src, "%s %q has no namespace; using \"default\" as kubectl would", kind, name)
		}
	}
	switch kind {
	case "Role":
		var o rbacv1.Role
		if l.decode(src, kind, name, data, &o) {
			defaultNamespace(&o.Namespace, o.Name)
			l.res.RBAC.Roles = append(l.res.RBAC.Roles, o)
			l.res.RBACSources[RBACKey(kind, o.Namespace, o.Name)] = src
		}
	case "ClusterRole":
		var o rbacv1.ClusterRole
		if l.decode(src, kind, name, data, &o) {
			l.res.RBAC.ClusterRoles = append(l.res.RBAC.ClusterRoles, o)
			l.res.RBACSources[RBACKey(kind, "", o.Name)] = src
		}
	case "RoleBinding":
		var o rbacv1.RoleBinding
		if l.decode(src, kind, name, data, &o) {
			defaultNamespace(&o.Namespace, o.Name)
			l.res.RBAC.RoleBindings = append(l.res.RBAC.RoleBindings, o)
			l.res.RBACSources[RBACKey(kind, o.Namespace, o.Name)] = src
		}
	case "ClusterRoleBinding":
		var o rbacv1.ClusterRoleBinding
		if l.decode(src, kind, name, data, &o) {
			l.res.RBAC.ClusterRoleBindings = append(l.res.RBAC.ClusterRoleBindings, o)
			l.res.RBACSources[RBACKey(kind, "", o.Name)] = src
		}
	default:
		l.skipped[kind]++
	}
}
