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
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kube-psp/kube-psp/internal/parallel"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
)

// Workload is one pod a manifest would create.
type Workload struct {
	Source loader.Source
	// Kind, Namespace and Name name the object in the manifest.
	Kind      string
	Namespace string
	Name      string
	// Pod is the pod as its creator sends it to the apiserver: a bare Pod as
	// written, a workload's as podcreate.FromWorkload makes it.
	Pod *corev1.Pod
	// Creator is the identity that creates the pod; nil for a bare Pod,
	// which the requesting user creates.
	Creator *authorizer.UserInfo
}

// String names the workload: "Deployment team/web".
func (w Workload) String() string { return fmt.Sprintf("%s %s/%s", w.Kind, w.Namespace, w.Name) }

// Options tune reading.
type Options struct {
	// Recursive walks directories below the given ones.
	Recursive bool
	// DefaultNamespace is used for objects without one.
	DefaultNamespace string
}

// Read returns the workloads of every path: files, directories (.yaml,
// .yml, .json files; recursively with Options.Recursive) or "-" for stdin.
// Files are parsed in parallel; workloads come back in path and file order.
func Read(paths []string, stdin io.Reader, opts Options) ([]Workload, error) {
	if opts.DefaultNamespace == "" {
		opts.DefaultNamespace = "default"
	}
	type input struct {
		name string
		data []byte // nil: read the file
	}
	var inputs []input
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading standard input: %w", err)
			}
			inputs = append(inputs, input{name: "<stdin>", data: data})
			continue
		}
		files, err := loader.ListFiles(p, opts.Recursive)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			inputs = append(inputs, input{name: f})
		}
	}
	type output struct {
		workloads []Workload
		err       error
	}
	outputs := make([]output, len(inputs))
	parallel.Each(len(inputs), func(i int) {
		in := inputs[i]
		data := in.data
		if data == nil {
			var err error
			if data, err = os.ReadFile(in.name); err != nil {
				outputs[i].err = fmt.Errorf("reading %s: %w", in.name, err)
				return
			}
		}
		outputs[i].workloads, outputs[i].err = parse(in.name, data, opts)
	})
	var out []Workload
	var errs []error
	for _, o := range outputs {
		out = append(out, o.workloads...)
		errs = append(errs, o.err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
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
}

func parse(file string, data []byte, opts Options) ([]Workload, error) {
	var out []Workload
	var errs []error
	for i, doc := range loader.SplitDocuments(data) {
		if doc.Data == nil {
			continue
		}
		src := loader.Source{File: file, Document: i + 1, Line: doc.Line}
		ws, err := object(src, doc.Data, opts)
		out = append(out, ws...)
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

func object(src loader.Source, data []byte, opts Options) ([]Workload, error) {
	// Convert once: YAML parsing is most of the cost of a check.
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid YAML or JSON object: %v", src, err)
	}
	return objectJSON(src, js, opts)
}

func objectJSON(src loader.Source, js []byte, opts Options) ([]Workload, error) {
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, fmt.Errorf("%s: not a valid YAML or JSON object: %v", src, err)
	}
	if strings.HasSuffix(h.Kind, "List") && h.Items != nil {
		var out []Workload
		var errs []error
		for i, item := range h.Items {
			itemSrc := src
			itemSrc.Item = i + 1
			ws, err := objectJSON(itemSrc, item, opts)
			out = append(out, ws...)
			errs = append(errs, err)
		}
		return out, errors.Join(errs...)
	}
	// Unknown fields are not an error here: manifests may use fields newer
	// than this build knows.
	decode := func(into any) error {
		if _, err := loader.DecodeJSON(js, into); err != nil {
			return fmt.Errorf("%s: %s: %v", src, h.Kind, err)
		}
		return nil
	}
	if h.Kind == "Pod" {
		var o corev1.Pod
		if err := decode(&o); err != nil {
			return nil, err
		}
		o.Namespace = namespace(o.Namespace, opts)
		return []Workload{{Source: src, Kind: h.Kind, Namespace: o.Namespace, Name: o.Name, Pod: &o}}, nil
	}
	decodeKind, ok := workloadKinds[h.Kind]
	if !ok {
		return nil, nil // not a workload: policies, RBAC, Services, ...
	}
	obj, err := decodeKind(decode)
	if err != nil {
		return nil, err
	}
	obj.SetNamespace(namespace(obj.GetNamespace(), opts))
	pod, err := podcreate.FromWorkload(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	w := Workload{Source: src, Kind: h.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), Pod: pod}
	if u, ok := podcreate.ControllerUser(h.Kind); ok {
		w.Creator = &u
	}
	return []Workload{w}, nil
}

func namespace(ns string, opts Options) string {
	if ns != "" {
		return ns
	}
	return opts.DefaultNamespace
}
