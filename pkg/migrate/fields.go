package migrate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kube-psp/kube-psp/pkg/engine"
)

// withChanges returns a copy of pod with each change's value written at
// its field, as a manifest author would write it: the engine's changes
// name v1 pod fields ("spec.containers[0].securityContext.runAsNonRoot",
// "metadata.annotations[key]") and hold JSON-encodable values.
func withChanges(pod *corev1.Pod, changes []engine.Change) (*corev1.Pod, error) {
	w, err := newPodWriter(pod)
	if err != nil {
		return nil, err
	}
	return w.with(changes)
}

// podWriter writes changes into copies of one pod, converted to an
// unstructured object once (the conversion is most of withChanges' cost).
type podWriter struct {
	obj map[string]any
}

func newPodWriter(pod *corev1.Pod) (*podWriter, error) {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pod)
	if err != nil {
		return nil, err
	}
	return &podWriter{obj: obj}, nil
}

// with is withChanges of the writer's pod.
func (w *podWriter) with(changes []engine.Change) (*corev1.Pod, error) {
	obj := runtime.DeepCopyJSON(w.obj)
	for _, c := range changes {
		if err := SetField(obj, c.Field, c.Value); err != nil {
			return nil, err
		}
	}
	out := &corev1.Pod{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj, out); err != nil {
		return nil, err
	}
	return out, nil
}

// SetField writes value (anything encoding/json encodes) at path in obj, an
// object as JSON decodes it (a manifest), creating the objects on the way:
// what a report's field or manifestField says to write. path is a
// field.Path string, "spec.template.spec.containers[0].securityContext.runAsNonRoot"
// or "metadata.annotations[some.key/name]". Errors: a malformed path, a
// list index past the end, a step through something not an object.
func SetField(obj map[string]any, path string, value any) error {
	v, err := toUnstructured(value)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	steps, err := parsePath(path)
	if err != nil {
		return err
	}
	if err := set(obj, steps, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// toUnstructured is v as JSON decodes it (maps, slices, float64 or int64, ...).
func toUnstructured(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return numbers(out), nil
}

// numbers turns json.Number into int64 (or float64), as the unstructured converter expects.
func numbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = numbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = numbers(e)
		}
	}
	return v
}

// step is one step of a field path: a field name, a list index or a map key.
type step struct {
	name  string
	index int // for a list index; -1 otherwise
	key   string
	isKey bool
}

// parsePath splits a field.Path string: "a.b[0].c[some.key/x]".
func parsePath(path string) ([]step, error) {
	var steps []step
	for i := 0; i < len(path); {
		switch path[i] {
		case '.':
			i++
		case '[':
			end := strings.IndexByte(path[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("field path %q: unclosed [", path)
			}
			inner := path[i+1 : i+end]
			if n, err := strconv.Atoi(inner); err == nil {
				steps = append(steps, step{index: n})
			} else {
				steps = append(steps, step{index: -1, key: inner, isKey: true})
			}
			i += end + 1
		default:
			end := strings.IndexAny(path[i:], ".[")
			if end < 0 {
				end = len(path) - i
			}
			steps = append(steps, step{name: path[i : i+end], index: -1})
			i += end
		}
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("empty field path")
	}
	return steps, nil
}

// set writes value at steps under obj, creating the maps on the way.
func set(obj map[string]any, steps []step, value any) error {
	var cur any = obj
	for i, s := range steps {
		last := i == len(steps)-1
		switch {
		case s.name != "" || s.isKey:
			m, ok := cur.(map[string]any)
			if !ok {
				return fmt.Errorf("not an object at step %d", i)
			}
			k := s.name
			if s.isKey {
				k = s.key
			}
			if last {
				m[k] = value
				return nil
			}
			next, ok := m[k]
			if !ok || next == nil {
				if steps[i+1].index >= 0 {
					return fmt.Errorf("no list %q", k)
				}
				next = map[string]any{}
				m[k] = next
			}
			cur = next
		default:
			l, ok := cur.([]any)
			if !ok || s.index >= len(l) {
				return fmt.Errorf("no item %d", s.index)
			}
			if last {
				l[s.index] = value
				return nil
			}
			cur = l[s.index]
		}
	}
	return nil
}

// manifestField is where a pod field is written in a workload's manifest:
// a Deployment's "spec.template.spec.containers[0]...", a CronJob's
// "spec.jobTemplate.spec.template.spec...", a bare Pod's as it is.
func manifestField(kind, podField string) string {
	var prefix string
	switch kind {
	case "Pod":
		return podField
	case "CronJob":
		prefix = "spec.jobTemplate.spec.template."
	case "PodTemplate":
		prefix = "template."
	default: // Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job
		prefix = "spec.template."
	}
	return prefix + podField
}
