package engine

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/pkg/field"
)

// FieldOrigin says how the apiserver set the value at path of a pod that
// its author did not write, e.g. for "spec.containers[0].ports[0].hostPort"
// how is "the apiserver sets hostPort to containerPort 9100 because
// hostNetwork is true (v1 defaults)" and avoid is a change of the pod that
// goes without it, or "". how is "" when the author wrote the value.
// Offline, package podcreate knows it (podcreate.Origin).
type FieldOrigin func(path string) (how, avoid string)

// SetFieldNote explains an error of a control at a value of pod that its
// author did not write but the apiserver set before admission: origin's
// account of it, then what would go without it: the pod change, or what
// the policy would have to allow. v1.24's message names the field as the
// plugin saw it; the note says where its value came from. Two errors are
// explained:
//
//   - the hostPorts error "spec.containers[0].hostPort" (v1.24 names no port
//     index: the ports whose hostPort is the error's value are looked up);
//   - the volumes error "spec.volumes[2]".
//
// It is "" for any other error, and when origin says the author wrote the
// value.
func SetFieldNote(pod *corev1.Pod, err *field.Error, origin FieldOrigin) string {
	if origin == nil || err.Type != field.ErrorTypeInvalid {
		return ""
	}
	for _, path := range errorPodFields(pod, err) {
		how, avoid := origin(path.field)
		if how == "" {
			continue
		}
		fixes := []string{path.allow}
		if avoid != "" {
			fixes = []string{avoid, "or " + path.allow}
		}
		return how + "; " + strings.Join(fixes, ", ")
	}
	return ""
}

// podField is a field of a pod that an error reports, and what a policy
// must allow to admit its value.
type podField struct {
	field, allow string
}

// errorPodFields are the fields of pod whose values err reports, for the
// errors SetFieldNote explains.
func errorPodFields(pod *corev1.Pod, err *field.Error) []podField {
	if container, ok := strings.CutSuffix(err.Field, ".hostPort"); ok {
		port, isPort := err.BadValue.(int32)
		if !isPort {
			return nil
		}
		var out []podField
		visitContainers(&pod.Spec, func(ref containerRef) {
			if ref.path.String() != container {
				return
			}
			for j, p := range ref.c.Ports {
				if p.HostPort == port {
					out = append(out, podField{ref.path.Child("ports").Index(j).Child("hostPort").String(),
						fmt.Sprintf("let the policy's hostPorts allow %d", port)})
				}
			}
		})
		return out
	}
	for i := range pod.Spec.Volumes {
		if err.Field != volumesPath.Index(i).String() {
			continue
		}
		fsType := volumeFSType(&pod.Spec.Volumes[i])
		allow := fmt.Sprintf("let the policy's volumes allow %s", fsType)
		if v := &pod.Spec.Volumes[i]; v.Projected != nil && isOnlyServiceAccountTokenSources(v.Projected) {
			// v1.24 admits a token volume as a secret too.
			allow += " or secret"
		}
		return []podField{{err.Field, allow}}
	}
	return nil
}
