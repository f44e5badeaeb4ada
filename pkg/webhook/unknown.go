package webhook

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
)

// UnknownFieldPolicy says what a pod field unknown to this build does. Such
// a field comes from an apiserver newer than the k8s.io/api kube-psp was
// built with; kube-psp cannot check what it does not know.
type UnknownFieldPolicy string

// The unknown-field policies.
const (
	// UnknownFieldsWarn admits (if the policies do) and names the fields in
	// a warning, a log line and a metric.
	UnknownFieldsWarn UnknownFieldPolicy = "warn"
	// UnknownFieldsDeny denies the pod, naming the fields.
	UnknownFieldsDeny UnknownFieldPolicy = "deny"
)

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]*)"`)

// decodePodStrict decodes a pod and returns the paths of the fields the
// compiled k8s.io/api does not know (e.g. "spec.containers[0].newField").
func decodePodStrict(raw []byte, what string) (*corev1.Pod, []string, error) {
	if len(raw) == 0 {
		return nil, nil, fmt.Errorf("request has no %s", what)
	}
	pod := &corev1.Pod{}
	strictErrs, err := kjson.UnmarshalStrict(raw, pod)
	if err != nil {
		return nil, nil, fmt.Errorf("decoding the request's %s as a Pod: %w", what, err)
	}
	var unknown []string
	for _, e := range strictErrs {
		if m := unknownFieldRE.FindStringSubmatch(e.Error()); m != nil {
			unknown = append(unknown, m[1])
		}
	}
	return pod, unknown, nil
}

// apiVersion is the k8s.io/api release this binary was built with.
var apiVersion = sync.OnceValue(func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/api" {
				return dep.Version
			}
		}
	}
	return "unknown"
})

func unknownFieldsMessage(fields []string) string {
	return fmt.Sprintf("pod field(s) %s are unknown to kube-psp (built with k8s.io/api %s) and cannot be checked; upgrade kube-psp",
		strings.Join(fields, ", "), apiVersion())
}

// metricFieldName drops list indexes so a metric label names a field, not an element.
func metricFieldName(path string) string {
	return indexRE.ReplaceAllString(path, "[]")
}

var indexRE = regexp.MustCompile(`\[\d+\]`)
