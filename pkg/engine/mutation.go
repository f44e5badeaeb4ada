package engine

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// mutation applies one policy's defaults to one copy of a pod and records
// every field it changes. The record replaces v1.24's whole-pod semantic
// comparison: every default goes through these helpers, and each records a
// change only when the value really differs, so "mutated" is exactly
// len(changes) > 0 (a property the tests check against a deep comparison).
type mutation struct {
	pod     *corev1.Pod
	changes []Change
}

var (
	podSCPath       = specPath.Child("securityContext")
	annotationsPath = field.NewPath("metadata", "annotations")
)

func (m *mutation) record(path *field.Path, value any) {
	m.changes = append(m.changes, Change{Field: path.String(), Value: value})
}

// ensurePodSC returns the pod's security context, creating it if needed.
// Callers only call it when they set a value.
func (m *mutation) ensurePodSC() *corev1.PodSecurityContext {
	if m.pod.Spec.SecurityContext == nil {
		m.pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	return m.pod.Spec.SecurityContext
}

// ensureContainerSC returns the container's security context, creating it if needed.
func ensureContainerSC(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

// setAnnotation sets a pod annotation, recording a change if the value differs.
func (m *mutation) setAnnotation(key, value string) {
	if old, ok := m.pod.Annotations[key]; ok && old == value {
		return
	}
	if m.pod.Annotations == nil {
		m.pod.Annotations = map[string]string{}
	}
	m.pod.Annotations[key] = value
	m.record(annotationsPath.Key(key), value)
}

// setContainerInt64 sets a container security context field that is nil.
func (m *mutation) setContainerInt64(ref containerRef, name string, set func(*corev1.SecurityContext) **int64, value *int64) {
	if value == nil {
		return
	}
	v := *value
	*set(ensureContainerSC(ref.c)) = &v
	m.record(ref.sc.Child(name), v)
}

// setContainerBool sets a container security context field that is nil.
func (m *mutation) setContainerBool(ref containerRef, name string, set func(*corev1.SecurityContext) **bool, value bool) {
	*set(ensureContainerSC(ref.c)) = &value
	m.record(ref.sc.Child(name), value)
}

// copyForDefaults returns a copy of pod that the defaults may change without
// touching pod: the fields defaults write (annotations, the pod's and the
// containers' security contexts, runtimeClassName) are copied deeply, the
// rest is shared. Deep-copying whole pods for every policy tried was most
// of the cost of a decision. Callers that hand the copy out must DeepCopy it.
//
// When reuse is not nil it is a copy an earlier policy made and nobody
// holds any more: its memory (the pod, the container lists, the annotation
// map) is written over instead of allocated again.
func copyForDefaults(pod, reuse *corev1.Pod) *corev1.Pod {
	c := reuse
	if c == nil {
		c = &corev1.Pod{}
	}
	annotations, initContainers, containers := c.Annotations, c.Spec.InitContainers, c.Spec.Containers
	*c = *pod
	c.Annotations = nil
	if pod.Annotations != nil {
		if annotations == nil {
			annotations = make(map[string]string, len(pod.Annotations)+2)
		} else {
			clear(annotations)
		}
		for k, v := range pod.Annotations {
			annotations[k] = v
		}
		c.Annotations = annotations
	}
	c.Spec.SecurityContext = pod.Spec.SecurityContext.DeepCopy()
	c.Spec.InitContainers = copyContainers(pod.Spec.InitContainers, initContainers)
	c.Spec.Containers = copyContainers(pod.Spec.Containers, containers)
	if pod.Spec.EphemeralContainers != nil {
		c.Spec.EphemeralContainers = make([]corev1.EphemeralContainer, len(pod.Spec.EphemeralContainers))
		for i := range pod.Spec.EphemeralContainers {
			c.Spec.EphemeralContainers[i] = pod.Spec.EphemeralContainers[i]
			c.Spec.EphemeralContainers[i].SecurityContext = pod.Spec.EphemeralContainers[i].SecurityContext.DeepCopy()
		}
	}
	return c
}

func copyContainers(in, reuse []corev1.Container) []corev1.Container {
	if in == nil {
		return nil
	}
	out := reuse[:0]
	if cap(out) < len(in) {
		out = make([]corev1.Container, len(in))
	}
	out = out[:len(in)]
	for i := range in {
		out[i] = in[i]
		out[i].SecurityContext = in[i].SecurityContext.DeepCopy()
	}
	return out
}
