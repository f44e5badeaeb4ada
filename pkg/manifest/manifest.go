// Package manifest finds the pods that Kubernetes manifests would create:
// bare Pods and the pod templates of Deployments, StatefulSets, DaemonSets,
// ReplicaSets, ReplicationControllers, Jobs, CronJobs and PodTemplates, each
// with the identity that creates its pods in a cluster.
package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kube-psp/kube-psp/internal/plural"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
	"github.com/kube-psp/kube-psp/pkg/yamlfile"
)

// Location is where a workload was read: a document of a file, or an
// object of a live cluster (psp audit's running pods), which is no file.
type Location struct {
	// Position is the file's document; zero for a live object.
	yamlfile.Position
	// Object names a live object as kubectl does, "pod/NAMESPACE/NAME";
	// "" for a workload read from a file.
	Object string
}

// LiveObject is the Location of a cluster's object: resource ("pod"),
// namespace and name.
func LiveObject(resource, namespace, name string) Location {
	return Location{Object: resource + "/" + namespace + "/" + name}
}

// String is the object's name, else the file's position:
// "FILE: document N (line L)".
func (l Location) String() string {
	if l.Object != "" {
		return l.Object
	}
	return l.Position.String()
}

// Workload is one pod a manifest would create.
type Workload struct {
	Source Location
	// Kind, Namespace and Name name the object in the manifest.
	Kind      string
	Namespace string
	Name      string
	// GenerateName is metadata.generateName, for an object without a name.
	GenerateName string
	// Pod is the pod as its creator sends it to the apiserver: a bare Pod as
	// written, a workload's as podcreate.FromWorkload makes it.
	Pod *corev1.Pod
	// Creator is the identity that creates the pod; nil for a bare Pod,
	// which the requesting user creates.
	Creator *authorizer.UserInfo
	// ServiceAccount is the pod's ServiceAccount (podcreate.ServiceAccountName
	// in the workload's namespace) when the input has it, else nil: its
	// automountServiceAccountToken decides whether the ServiceAccount
	// admission plugin adds the token volume (podcreate.AdmitServiceAccount).
	ServiceAccount *corev1.ServiceAccount
}

// String names the workload: "Deployment team/web"; without a name,
// "Pod team/web-*" (its generateName, as the webhook's log writes it) or
// "Pod team/(no name)".
func (w Workload) String() string {
	name := w.Name
	switch {
	case name == "" && w.GenerateName != "":
		name = w.GenerateName + "*"
	case name == "":
		name = "(no name)"
	}
	return fmt.Sprintf("%s %s/%s", w.Kind, w.Namespace, name)
}

// Options tune reading.
type Options struct {
	// Recursive walks directories below the given ones.
	Recursive bool
	// DefaultNamespace is used for objects without one.
	DefaultNamespace string
	// Strict makes unknown and duplicate fields of the objects read (Pods
	// and workloads) an error of their document instead of a warning.
	Strict bool
	// PolicyPaths are the files and directories the command reads policies
	// and RBAC from (--policies, --rbac): a file under them is not warned
	// about for the PodSecurityPolicies and RBAC it holds, which are read
	// there.
	PolicyPaths []string
}

// Input is what ReadAll found in its paths.
type Input struct {
	Workloads []Workload
	// Errors are the documents that could not be read (malformed YAML, a
	// wrong type, with Options.Strict an unknown or duplicate field), in
	// input order, each naming its file, document and file line. The
	// other documents' workloads are in Workloads.
	Errors []error
	// Warnings are unknown and duplicate fields of the documents read,
	// naming file, document, line and field path.
	Warnings []string
	// Files are the files read, in order; "<stdin>" for standard input.
	Files []string
	// Unread are the directories given whose subdirectories were not read
	// (Options.Recursive unset).
	Unread []string
	// Others are the kinds read that are neither Pods nor workloads, in
	// the order first met.
	Others []string
	// ServiceAccounts are the ServiceAccount objects read, keyed
	// "NAMESPACE/NAME"; of two with the same key, the later in input order.
	ServiceAccounts map[string]*corev1.ServiceAccount
	// Namespaces are the Namespace objects read (for their Pod Security
	// Admission labels), keyed by name; of two with the same name, the
	// later in input order.
	Namespaces map[string]*corev1.Namespace
}

// Kinds names the kinds whose pods are checked, for messages.
const Kinds = "Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs, CronJobs and PodTemplates"

// NothingRead describes an input without workloads or bad documents, for
// the error that refuses it: "examples/eks/eks-privileged.yaml holds only
// PodSecurityPolicy, ClusterRole", "dir/ holds no .yaml, .yml or .json
// file". paths are those given to ReadAll.
func (in *Input) NothingRead(paths []string) string {
	if len(in.Files) == 0 {
		return fmt.Sprintf("%s holds no .yaml, .yml or .json file", strings.Join(paths, ", "))
	}
	files := in.Files
	more := ""
	if len(files) > 3 {
		files, more = files[:3], fmt.Sprintf(" and %d more files", len(files)-3)
	}
	holds := "no object"
	if len(in.Others) > 0 {
		holds = "only " + strings.Join(in.Others, ", ")
	}
	verb := "hold"
	if len(in.Files) == 1 {
		verb = "holds"
	}
	return fmt.Sprintf("%s%s %s %s", strings.Join(files, ", "), more, verb, holds)
}

// Read returns the workloads of every path, or an error joining every bad
// document's; ReadAll keeps the good ones and the warnings.
func Read(paths []string, stdin io.Reader, opts Options) ([]Workload, error) {
	in, err := ReadAll(paths, stdin, opts)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(in.Errors...); err != nil {
		return nil, err
	}
	return in.Workloads, nil
}

// ReadAll reads every path: files, directories (.yaml, .yml, .json files;
// recursively with Options.Recursive) or "-" for stdin. Files are parsed in
// parallel; workloads, errors and warnings come back in path and file
// order. A bad document does not stop the others (Input.Errors); err is a
// path that cannot be read.
func ReadAll(paths []string, stdin io.Reader, opts Options) (*Input, error) {
	var workloads []Workload
	res, err := Each(paths, stdin, opts, nil, func(w Workload) error {
		workloads = append(workloads, w)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Workloads = workloads
	return res, nil
}

// workloadKinds decode each workload kind whose controller creates pods.
var workloadKinds = map[string]func(decode func(any) error) (metav1.Object, error){
	"Deployment":            decodeAs[appsv1.Deployment],
	"StatefulSet":           decodeAs[appsv1.StatefulSet],
	"DaemonSet":             decodeAs[appsv1.DaemonSet],
	"ReplicaSet":            decodeAs[appsv1.ReplicaSet],
	"ReplicationController": decodeAs[corev1.ReplicationController],
	"Job":                   decodeAs[batchv1.Job],
	"CronJob":               decodeAs[batchv1.CronJob],
	"PodTemplate":           decodeAs[corev1.PodTemplate],
}

// decodeAs decodes an object of type T.
func decodeAs[T any, PT interface {
	*T
	metav1.Object
}](decode func(any) error) (metav1.Object, error) {
	o := PT(new(T))
	if err := decode(o); err != nil {
		return nil, err
	}
	return o, nil
}

type header struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Items      []json.RawMessage `json:"items"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// parsed is what one file holds.
type parsed struct {
	// policies and rbac count the PodSecurityPolicies and RBAC objects
	// read, which are not checked, for the file's one warning.
	policies, rbac  int
	workloads       []Workload
	errs            []error
	warnings        []string
	others          []string
	serviceAccounts []*corev1.ServiceAccount
	namespaces      []*corev1.Namespace
}

func parse(file string, data []byte, opts Options) parsed {
	var p parsed
	for i, doc := range yamlfile.SplitDocuments(data) {
		if doc.Data == nil {
			continue
		}
		d := &document{src: yamlfile.Position{File: file, Document: i + 1, Line: doc.Line}, yaml: doc.Data, opts: opts, out: &p}
		d.read()
	}
	// RBAC alone is no hint: nearly every chart ships Roles and bindings for
	// its own API access, which have nothing to do with policies. A file
	// that ships a policy likely ships the RBAC that grants it.
	if p.policies > 0 && !underAny(file, opts.PolicyPaths) {
		p.warnings = append(p.warnings, policyHint(file, p.policies, p.rbac))
	}
	return p
}

// policyHint tells that a file (a Helm chart's rendered output, say) holds
// policies, and perhaps the RBAC granting them, that -f does not read:
// without them the check may deny what the chart would have allowed.
func policyHint(file string, policies, rbac int) string {
	var held, flags []string
	arg := file
	if file == yamlfile.Stdin {
		arg = "-"
	}
	if policies > 0 {
		noun := "PodSecurityPolicies"
		if policies == 1 {
			noun = "PodSecurityPolicy"
		}
		held = append(held, fmt.Sprintf("%d %s", policies, noun))
		flags = append(flags, "--policies "+arg)
	}
	if rbac > 0 {
		held = append(held, plural.Count(rbac, "RBAC object"))
		flags = append(flags, "--rbac "+arg)
	}
	return fmt.Sprintf("%s holds %s, which -f does not read; to use them, pass the file with %s", file, strings.Join(held, " and "), strings.Join(flags, " and "))
}

// underAny reports whether file is one of paths or in a directory of them.
func underAny(file string, paths []string) bool {
	file = filepath.Clean(file)
	for _, p := range paths {
		p = filepath.Clean(p)
		if file == p || strings.HasPrefix(file, p+string(filepath.Separator)) || p == "." {
			return true
		}
	}
	return false
}

// document reads one YAML document into its file's parsed.
type document struct {
	src  yamlfile.Position
	yaml []byte
	opts Options
	out  *parsed
	// fields locates fields for messages, built on first use.
	fields *yamlfile.FieldIndex
	// duplicates are the document's repeated keys.
	duplicates []yamlfile.DuplicateField
}

func (d *document) read() {
	// Convert once: YAML parsing is most of the cost of a check. The
	// strict conversion refuses repeated keys; only then is the document
	// converted and parsed again, to keep the last value as kubectl does
	// and to name the repeats.
	js, err := yaml.YAMLToJSONStrict(d.yaml)
	if err != nil {
		var err2 error
		if js, err2 = yaml.YAMLToJSON(d.yaml); err2 != nil {
			d.out.errs = append(d.out.errs, fmt.Errorf("%s: not a valid YAML or JSON object: %w", d.src, yamlfile.YAMLError(err2, d.src.Line)))
			return
		}
		d.duplicates = d.index().Duplicates()
	}
	d.object(d.src, "", js)
}

func (d *document) index() *yamlfile.FieldIndex {
	if d.fields == nil {
		d.fields = yamlfile.NewFieldIndex(d.yaml, d.src.Line)
	}
	return d.fields
}

// fieldLine is a message about a field and the field's file line.
type fieldLine struct {
	path string
	line int
}

// fieldProblems describes the unknown fields DecodeJSON found and the
// repeated keys of the object at prefix ("" or "items[2]."), with their
// paths in the object and file lines, in line order (DecodeJSON's is
// that of the keys sorted).
func (d *document) fieldProblems(prefix string, into any, strictErrs []error) []string {
	var found []fieldLine // path is the message here
	for _, e := range strictErrs {
		field, ok := yamlfile.UnknownFieldPath(e)
		if !ok {
			// A repeated key of a JSON document, which YAMLToJSON has
			// already dropped: not expected, but not to be lost.
			found = append(found, fieldLine{path: e.Error()})
			continue
		}
		f := fieldLine{path: fmt.Sprintf("unknown field %q", field), line: d.index().Line(prefix + field)}
		if f.line > 0 {
			f.path += fmt.Sprintf(" (line %d)", f.line)
		}
		if !d.opts.Strict {
			f.path += ": not checked (a typo, or a field newer than kube-psp knows)"
		}
		f.path += yamlfile.DidYouMean(into, field)
		found = append(found, f)
	}
	for _, f := range d.duplicates {
		if path, ok := strings.CutPrefix(f.Path, prefix); ok {
			msg := fmt.Sprintf("duplicate field %q (line %d)", path, f.Line)
			if !d.opts.Strict {
				msg += ": the last value is checked"
			}
			found = append(found, fieldLine{path: msg, line: f.Line})
		}
	}
	slices.SortStableFunc(found, func(a, b fieldLine) int { return a.line - b.line })
	out := make([]string, len(found))
	for i, f := range found {
		out[i] = f.path
	}
	return out
}

// unknownKind warns about (or, with Options.Strict, refuses) an object
// that is skipped but may be a workload: one without kind, which the
// apiserver refuses ("Object 'Kind' is missing"), or one whose kind is a
// workload kind misspelled: in other letter case, which kinds never match
// (they are case-sensitive, as in k8s.io/apimachinery's scheme), or at most
// two letters off (Deploymnet, CronJobs).
func (d *document) unknownKind(src yamlfile.Position, h header) {
	object := "object"
	if h.Metadata.Name != "" {
		object = fmt.Sprintf("object %q", h.Metadata.Name)
	}
	var msg string
	switch {
	case h.Kind == "":
		msg = fmt.Sprintf("%s: %s has no kind: not checked", src, object)
	default:
		for _, k := range append(slices.Sorted(maps.Keys(workloadKinds)), "Pod", "List") {
			if strings.EqualFold(k, h.Kind) || (len(k) > 4 && yamlfile.EditDistance(strings.ToLower(k), strings.ToLower(h.Kind)) <= 2) {
				msg = fmt.Sprintf("%s: kind %s is not a kind Kubernetes knows; did you mean %s? (%s not checked)", src, h.Kind, k, object)
				break
			}
		}
	}
	switch {
	case msg == "":
	case d.opts.Strict:
		d.out.errs = append(d.out.errs, errors.New(msg))
	default:
		d.out.warnings = append(d.out.warnings, msg)
	}
}

// object reads an object of the document: the document itself, or the
// item of a List at path prefix ("items[2].").
func (d *document) object(src yamlfile.Position, prefix string, js []byte) {
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		d.out.errs = append(d.out.errs, fmt.Errorf("%s: %w", src, yamlfile.HeaderError(err)))
		return
	}
	if strings.HasSuffix(h.Kind, "List") && h.Items != nil {
		for i, item := range h.Items {
			itemSrc := src
			itemSrc.Item = i + 1
			d.object(itemSrc, fmt.Sprintf("%sitems[%d].", prefix, i), item)
		}
		return
	}
	if h.Kind == "ServiceAccount" && h.APIVersion == "v1" {
		d.serviceAccount(src, h.Metadata.Name, js)
	}
	if h.Kind == "Namespace" && h.APIVersion == "v1" {
		d.namespaceObject(src, h.Metadata.Name, js)
	}
	decodeKind, ok := workloadKinds[h.Kind]
	if h.Kind == "Pod" {
		decodeKind, ok = decodeAs[corev1.Pod], true
	}
	if !ok {
		group, _, _ := strings.Cut(h.APIVersion, "/")
		switch {
		case h.Kind == "PodSecurityPolicy" && (group == "policy" || group == "extensions" || group == "policy.kube-psp.io"):
			d.out.policies++
		case group == "rbac.authorization.k8s.io" && slices.Contains([]string{"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}, h.Kind):
			d.out.rbac++
		}
		d.unknownKind(src, h)
		// Not a workload: policies, RBAC, Services, ...
		if h.Kind != "" && !slices.Contains(d.out.others, h.Kind) {
			d.out.others = append(d.out.others, h.Kind)
		}
		return
	}
	what := fmt.Sprintf("%s %q", h.Kind, h.Metadata.Name)
	// The webhook's rule (pkg/webhook decodePodStrict): unknown fields are
	// decoded by sigs.k8s.io/json's strict mode, named by path, and warned
	// about, or refused (Options.Strict).
	var problems []string
	decode := func(into any) error {
		strictErrs, err := yamlfile.DecodeJSON(js, into)
		if err != nil {
			return fmt.Errorf("%s: %s: %v", src, what, err)
		}
		problems = d.fieldProblems(prefix, into, strictErrs)
		return nil
	}
	obj, err := decodeKind(decode)
	if err != nil {
		d.out.errs = append(d.out.errs, err)
		return
	}
	for _, p := range problems {
		msg := fmt.Sprintf("%s: %s: %s", src, what, p)
		if d.opts.Strict {
			d.out.errs = append(d.out.errs, errors.New(msg))
		} else {
			d.out.warnings = append(d.out.warnings, msg)
		}
	}
	if d.opts.Strict && len(problems) > 0 {
		return
	}
	obj.SetNamespace(namespace(obj.GetNamespace(), d.opts))
	w := Workload{Source: Location{Position: src}, Kind: h.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), GenerateName: obj.GetGenerateName()}
	if pod, isPod := obj.(*corev1.Pod); isPod {
		w.Pod = pod
	} else {
		if w.Pod, err = podcreate.FromWorkload(obj); err != nil {
			d.out.errs = append(d.out.errs, fmt.Errorf("%s: %w", src, err))
			return
		}
		if u, ok := podcreate.ControllerUser(h.Kind); ok {
			w.Creator = &u
		}
	}
	d.out.workloads = append(d.out.workloads, w)
}

// serviceAccount keeps a ServiceAccount object for the pods that name it.
// It is not checked, so only a value of the wrong type is an error (the
// apiserver would refuse it too); unknown fields are not reported.
func (d *document) serviceAccount(src yamlfile.Position, name string, js []byte) {
	var sa corev1.ServiceAccount
	if _, err := yamlfile.DecodeJSON(js, &sa); err != nil {
		d.out.errs = append(d.out.errs, fmt.Errorf("%s: ServiceAccount %q: %v", src, name, err))
		return
	}
	sa.Namespace = namespace(sa.Namespace, d.opts)
	d.out.serviceAccounts = append(d.out.serviceAccounts, &sa)
}

// namespaceObject keeps a Namespace object for its labels, read as
// serviceAccount reads a ServiceAccount.
func (d *document) namespaceObject(src yamlfile.Position, name string, js []byte) {
	var ns corev1.Namespace
	if _, err := yamlfile.DecodeJSON(js, &ns); err != nil {
		d.out.errs = append(d.out.errs, fmt.Errorf("%s: Namespace %q: %v", src, name, err))
		return
	}
	d.out.namespaces = append(d.out.namespaces, &ns)
}

func namespace(ns string, opts Options) string {
	if ns != "" {
		return ns
	}
	return opts.DefaultNamespace
}
