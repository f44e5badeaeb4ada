package migrate

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// Levels are the Pod Security Standards levels, most restrictive first.
var levels = [...]api.Level{api.LevelRestricted, api.LevelBaseline, api.LevelPrivileged}

// LatestKnownMinor is the newest Kubernetes minor version whose Pod
// Security Standards this build's k8s.io/pod-security-admission (v0.37.x,
// as kube-apiserver v1.37 vendors it) defines. A later v1.N names checks
// this library cannot know: PodSecurity evaluates it as latest, so a label
// with it would promise what no one has checked.
const LatestKnownMinor = 37

// Standards evaluates pods against the Pod Security Standards at one
// version, with k8s.io/pod-security-admission's evaluator and default
// checks: what kube-apiserver's PodSecurity admission plugin runs.
type Standards struct {
	evaluator policy.Evaluator
	version   api.Version
	// versionText is the version as a namespace label writes it: "latest" or "v1.N".
	versionText string
}

// NewStandards returns the standards at version, "latest" or "v1.N" up to
// v1.LatestKnownMinor (api.ParseVersion, as the
// pod-security.kubernetes.io/enforce-version label and PodSecurity's
// admission configuration take it); an error names what is accepted.
func NewStandards(version string) (*Standards, error) {
	v, err := api.ParseVersion(version)
	if err != nil {
		return nil, fmt.Errorf("Pod Security Standards version %q: %w", version, err)
	}
	if !v.Latest() && (v.Major() != 1 || v.Minor() > LatestKnownMinor) {
		return nil, fmt.Errorf(`Pod Security Standards version %q: newer than v1.%d, the latest this build knows; must be "latest" or v1.0 to v1.%d`, version, LatestKnownMinor, LatestKnownMinor)
	}
	e, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return nil, fmt.Errorf("building the Pod Security Standards evaluator: %w", err)
	}
	return &Standards{evaluator: e, version: v, versionText: v.String()}, nil
}

// Version is the version evaluated, as the *-version labels write it.
func (s *Standards) Version() string { return s.versionText }

// Violation is one check of a level that a pod fails, in the words of
// PodSecurity's denial: "allowPrivilegeEscalation != false" with the detail
// `container "app" must set securityContext.allowPrivilegeEscalation=false`.
type Violation struct {
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// String is the violation as PodSecurity's denial lists it: "reason (detail)".
func (v Violation) String() string {
	if v.Detail == "" {
		return v.Reason
	}
	return v.Reason + " (" + v.Detail + ")"
}

// Violations returns the checks of level that pod fails, in the
// evaluator's order; none at privileged.
func (s *Standards) Violations(level api.Level, pod *corev1.Pod) []Violation {
	var out []Violation
	for _, r := range s.evaluator.EvaluatePod(api.LevelVersion{Level: level, Version: s.version}, &pod.ObjectMeta, &pod.Spec) {
		if r.Allowed {
			continue
		}
		reason := r.ForbiddenReason
		if reason == "" {
			reason = policy.UnknownForbiddenReason
		}
		out = append(out, Violation{Reason: reason, Detail: r.ForbiddenDetail})
	}
	return out
}

// Level returns the most restrictive level that admits pod, and the
// checks it fails at the next stricter level (none when restricted admits it).
func (s *Standards) Level(pod *corev1.Pod) (api.Level, []Violation) {
	var stricter []Violation
	for _, l := range levels {
		v := s.Violations(l, pod)
		if len(v) == 0 {
			return l, stricter
		}
		stricter = v
	}
	return api.LevelPrivileged, stricter // not reached: privileged has no checks
}

// Denial is PodSecurity's message refusing a pod at level:
// `violates PodSecurity "restricted:latest": reason (detail), ...`.
func (s *Standards) Denial(level api.Level, violations []Violation) string {
	parts := make([]string, len(violations))
	for i, v := range violations {
		parts[i] = v.String()
	}
	return fmt.Sprintf("violates PodSecurity %q: %s", api.LevelVersion{Level: level, Version: s.version}.String(), strings.Join(parts, ", "))
}

// stricter returns the level one step more restrictive than l, or "" for restricted.
func stricter(l api.Level) api.Level {
	switch l {
	case api.LevelPrivileged:
		return api.LevelBaseline
	case api.LevelBaseline:
		return api.LevelRestricted
	}
	return ""
}
