package webhook

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"

	"github.com/kube-psp/kube-psp/pkg/jsonpatch"
)

// patchFor is the JSON Patch from the pod as sent to the admitted pod.
// Defaults only ever write annotations, the pod's security context,
// runtimeClassName and containers' security contexts (the engine's copies
// rely on the same fact), so only those parts are encoded and compared: the
// patch never touches anything else, fields this build does not know
// included, and large pods are not re-encoded whole.
func patchFor(raw []byte, original, admitted *corev1.Pod) ([]byte, error) {
	// A parent the object lacks (or has as null) must be added whole: a
	// patch cannot add below a missing parent.
	// Empty structs: only presence is read, nothing is copied. Keys match
	// case-sensitively, as when the pod itself was decoded.
	var top struct {
		Metadata *struct{} `json:"metadata"`
		Spec     *struct{} `json:"spec"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &top); err != nil {
		return nil, fmt.Errorf("decoding the request's object: %w", err)
	}
	present := map[string]bool{"metadata": top.Metadata != nil, "spec": top.Spec != nil}

	var ops []jsonpatch.Operation
	part := func(path string, from, to any) error {
		a, err := encodePart(from)
		if err != nil {
			return err
		}
		b, err := encodePart(to)
		if err != nil {
			return err
		}
		o, err := jsonpatch.CreateAt(path, a, b)
		ops = append(ops, o...)
		return err
	}
	if present["metadata"] {
		if err := part("/metadata/annotations", original.Annotations, admitted.Annotations); err != nil {
			return nil, err
		}
	} else if len(admitted.Annotations) > 0 {
		ops = append(ops, jsonpatch.Operation{Op: "add", Path: "/metadata", Value: map[string]any{"annotations": admitted.Annotations}})
	}
	if present["spec"] {
		if err := part("/spec/securityContext", original.Spec.SecurityContext, admitted.Spec.SecurityContext); err != nil {
			return nil, err
		}
		if err := part("/spec/runtimeClassName", original.Spec.RuntimeClassName, admitted.Spec.RuntimeClassName); err != nil {
			return nil, err
		}
	} else if spec := (map[string]any{}); true {
		// Without a spec there are no containers: only pod-level defaults.
		if admitted.Spec.SecurityContext != nil {
			spec["securityContext"] = admitted.Spec.SecurityContext
		}
		if admitted.Spec.RuntimeClassName != nil {
			spec["runtimeClassName"] = *admitted.Spec.RuntimeClassName
		}
		if len(spec) > 0 {
			ops = append(ops, jsonpatch.Operation{Op: "add", Path: "/spec", Value: spec})
		}
	}
	containers := func(field string, from, to []corev1.Container) error {
		for i := range min(len(from), len(to)) {
			if err := part(fmt.Sprintf("/spec/%s/%d/securityContext", field, i), from[i].SecurityContext, to[i].SecurityContext); err != nil {
				return err
			}
		}
		return nil
	}
	if err := containers("initContainers", original.Spec.InitContainers, admitted.Spec.InitContainers); err != nil {
		return nil, err
	}
	if err := containers("containers", original.Spec.Containers, admitted.Spec.Containers); err != nil {
		return nil, err
	}
	for i := range min(len(original.Spec.EphemeralContainers), len(admitted.Spec.EphemeralContainers)) {
		if err := part(fmt.Sprintf("/spec/ephemeralContainers/%d/securityContext", i),
			original.Spec.EphemeralContainers[i].SecurityContext, admitted.Spec.EphemeralContainers[i].SecurityContext); err != nil {
			return nil, err
		}
	}
	if len(ops) == 0 {
		return nil, nil
	}
	return json.Marshal(ops)
}

// encodePart encodes one part of a pod, nil when the pod's JSON would omit
// it (a nil pointer, an empty map).
func encodePart(v any) ([]byte, error) {
	switch t := v.(type) {
	case map[string]string:
		if len(t) == 0 {
			return nil, nil
		}
	case *corev1.PodSecurityContext:
		if t == nil {
			return nil, nil
		}
	case *corev1.SecurityContext:
		if t == nil {
			return nil, nil
		}
	case *string:
		if t == nil {
			return nil, nil
		}
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding the pod: %w", err)
	}
	return data, nil
}
