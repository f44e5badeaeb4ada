package engine

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// seccomp is the seccomp control, configured by the policy annotations
// seccomp.security.alpha.kubernetes.io/allowedProfileNames and
// /defaultProfileName. Profiles are compared in their annotation form
// ("runtime/default", "localhost/NAME", ...); a seccompProfile field is
// translated to that form. Without an allowed list, any profile set is
// refused ("seccomp may not be set"); docker/default and runtime/default
// allow each other.
//
// Two deliberate differences from v1.24 (k8s.io/kubernetes v1.24
// pkg/security/podsecuritypolicy/seccomp/strategy.go), because since v1.27
// the kubelet reads only the seccompProfile fields and no apiserver copies
// annotations into them any more:
//
//   - The default is written as the pod annotation (v1.24) and as the pod's
//     seccompProfile field, which every container without its own field
//     inherits; see also seccompVersionSkew.
//   - Each container is also judged by the profile the v1.37 kubelet runs it
//     with (its field, else the pod's field; annotations ignored;
//     pkg/kubelet/kuberuntime/helpers.go getSeccompProfile): a container
//     with no field at either level runs Unconfined (the kubelet's default
//     unless its seccompDefault setting is on), which a policy that allows
//     neither an unset profile nor unconfined refuses, even when an
//     annotation names an allowed profile.
type seccomp struct {
	defaultProfile string
	// allowed is nil when the policy has no allowedProfileNames annotation.
	allowed  map[string]bool
	allowAny bool
	// allowedText is the annotation as written, for messages.
	allowedText string
}

func newSeccomp(annotations map[string]string) seccomp {
	s := seccomp{defaultProfile: annotations[policyv1.SeccompDefaultProfileAnnotationKey]}
	if allowedText, ok := annotations[policyv1.SeccompAllowedProfilesAnnotationKey]; ok {
		s.allowedText = allowedText
		profiles := strings.Split(allowedText, ",")
		s.allowed = make(map[string]bool, len(profiles))
		for _, p := range profiles {
			if p == policyv1.SeccompAllowAny {
				s.allowAny = true
				continue
			}
			// Kubernetes converts docker/default to runtime/default, so each allows the other.
			if p == corev1.DeprecatedSeccompProfileDockerDefault || p == corev1.SeccompProfileRuntimeDefault {
				s.allowed[corev1.SeccompProfileRuntimeDefault] = true
				s.allowed[corev1.DeprecatedSeccompProfileDockerDefault] = true
			}
			s.allowed[p] = true
		}
	}
	return s
}

// v1.24 reported seccomp errors under "pod.metadata.annotations"; kept.
var seccompErrorAnnotationsPath = field.NewPath("pod", "metadata", "annotations")

// SeccompUnsetMessage starts the error of a container that has no seccomp
// profile field at any level under a policy that requires a profile.
const SeccompUnsetMessage = "no seccomp profile is set in this field or in spec.securityContext.seccompProfile, so the container runs Unconfined (seccomp annotations have no effect since Kubernetes v1.27)"

func (s seccomp) defaultPod(m *mutation) {
	// The default applies only when the pod has neither a profile annotation
	// nor a profile field (even one without an annotation form); a pod field
	// alone is copied to the annotation, as v1.24 did.
	if m.pod.Annotations[corev1.SeccompPodAnnotationKey] != "" || podSC(m.pod).SeccompProfile != nil {
		if profile := podSeccompProfile(m.pod); profile != "" {
			m.setAnnotation(corev1.SeccompPodAnnotationKey, profile)
		}
		return
	}
	if s.defaultProfile == "" {
		return
	}
	m.setAnnotation(corev1.SeccompPodAnnotationKey, s.defaultProfile)
	// The kubelet runs the field; the annotation alone has no effect since
	// v1.27. A Windows pod may not have the field (v1.37 validateWindows).
	if sp := seccompFieldForAnnotation(s.defaultProfile); sp != nil && !windowsPod(m.pod) {
		m.ensurePodSC().SeccompProfile = sp
		m.record(podSCPath.Child("seccompProfile"), *sp)
	}
}

func (s seccomp) checkPod(pod *corev1.Pod, errs field.ErrorList) field.ErrorList {
	errs = s.validate(seccompErrorAnnotationsPath.Key(corev1.SeccompPodAnnotationKey), podSeccompProfile(pod), errs)
	// v1.24 read the pod annotation before the field. The kubelet runs the
	// field, so a field that differs from the annotation is checked too:
	// an allowed annotation must not mask a forbidden field.
	if sp := podSC(pod).SeccompProfile; sp != nil {
		if fieldProfile := seccompAnnotationForField(sp); !sameSeccompProfile(fieldProfile, podSeccompProfile(pod)) {
			errs = s.validate(podSCPath.Child("seccompProfile"), fieldProfile, errs)
		}
	}
	return errs
}

func (s seccomp) checkContainer(pod *corev1.Pod, ref containerRef, errs field.ErrorList) field.ErrorList {
	profile := containerSeccompProfile(pod, ref.c)
	errs = s.validate(seccompErrorAnnotationsPath.Key(corev1.SeccompContainerAnnotationKeyPrefix+ref.c.Name), profile, errs)
	// An annotation naming an allowed profile must not mask that the
	// container runs Unconfined. A profile v1.24 already found unset has
	// its error above.
	if profile != "" && EffectiveSeccompProfile(pod, ref.c) == nil && !s.unconfinedAllowed() && !windowsPod(pod) {
		errs = append(errs, field.Forbidden(ref.sc.Child("seccompProfile"), SeccompUnsetMessage+". Valid values are "+s.allowedText))
	}
	return errs
}

// unconfinedAllowed reports whether a container without a profile, which
// the kubelet runs Unconfined, is acceptable: v1.24 allowed an unset
// profile only without an allowed list or with "*".
func (s seccomp) unconfinedAllowed() bool {
	return s.profileAllowed("") || s.profileAllowed(corev1.SeccompProfileNameUnconfined)
}

func (s seccomp) validate(fldPath *field.Path, profile string, errs field.ErrorList) field.ErrorList {
	if !s.allowAny && len(s.allowed) == 0 && profile != "" {
		return append(errs, field.Forbidden(fldPath, "seccomp may not be set"))
	}
	if !s.profileAllowed(profile) {
		errs = append(errs, field.Forbidden(fldPath, profile+" is not an allowed seccomp profile. Valid values are "+s.allowedText))
	}
	return errs
}

func (s seccomp) profileAllowed(profile string) bool {
	// A policy without allowed profiles allows the runtime's default (no profile).
	if len(s.allowed) == 0 && profile == "" {
		return true
	}
	return s.allowAny || s.allowed[profile]
}

// seccompVersionSkew gives every seccomp annotation without its field the
// equivalent field, as the apiservers of v1.19 to v1.26 did for every pod
// they created (k8s.io/kubernetes v1.24 pkg/registry/core/pod/strategy.go
// applySeccompVersionSkew; the field-to-annotation direction is left to
// the policy's default, as the v1.24 plugin copied the pod field). Since
// v1.27 the apiserver does not, and the kubelet ignores the annotations.
// It returns pod itself when there is nothing to copy, else a copy that
// shares what the copy does not change, and the changes made.
func seccompVersionSkew(pod *corev1.Pod) (*corev1.Pod, []Change) {
	if !needsSeccompVersionSkew(pod) {
		return pod, nil
	}
	m := &mutation{pod: copyForDefaults(pod, nil)}
	if p, ok := m.pod.Annotations[corev1.SeccompPodAnnotationKey]; ok && podSC(m.pod).SeccompProfile == nil {
		if sp := seccompFieldForAnnotation(p); sp != nil {
			m.ensurePodSC().SeccompProfile = sp
			m.record(podSCPath.Child("seccompProfile"), *sp)
		}
	}
	visitContainers(&m.pod.Spec, func(ref containerRef) {
		p, ok := m.pod.Annotations[corev1.SeccompContainerAnnotationKeyPrefix+ref.c.Name]
		if !ok || containerSC(ref.c).SeccompProfile != nil {
			return
		}
		if sp := seccompFieldForAnnotation(p); sp != nil {
			ensureContainerSC(ref.c).SeccompProfile = sp
			m.record(ref.sc.Child("seccompProfile"), *sp)
		}
	})
	return m.pod, m.changes
}

// seccompAnnotationView is pod as the validate phase judges it.
//
// A pod seccompProfile field without the pod annotation is read as if the
// annotation said the same. The v1.19-v1.26 apiservers copied the field into
// the annotation before validation (applySeccompVersionSkew), so v1.24's
// plugin never saw one without the other; a v1.37 apiserver does not copy,
// and without this view every policy would "change" such a pod by writing
// the annotation, which the validate phase does not allow. The annotation
// has no effect, so reading it this way changes no outcome that matters.
//
// On UPDATE (old not nil), a container that old has too and that runs
// without a profile field is read as running the profile its annotations
// name, as v1.24 judged it: a running container's profile cannot change
// (the fields are immutable), so refusing the update would protect nothing
// and would only block metadata changes of pods admitted before kube-psp
// wrote fields. New (ephemeral) containers are judged by their fields.
//
// It returns pod itself when nothing is to be read differently, else a copy.
func seccompAnnotationView(pod, old *corev1.Pod) *corev1.Pod {
	var podProfile string
	if sp := podSC(pod).SeccompProfile; sp != nil && pod.Annotations[corev1.SeccompPodAnnotationKey] == "" {
		podProfile = seccompAnnotationForField(sp)
	}
	var running map[string]*corev1.SeccompProfile // allocated on UPDATE only
	if old != nil {
		running = map[string]*corev1.SeccompProfile{}
		inOld := map[string]bool{}
		visitContainers(&old.Spec, func(ref containerRef) { inOld[ref.c.Name] = true })
		visitContainers(&pod.Spec, func(ref containerRef) {
			if inOld[ref.c.Name] && EffectiveSeccompProfile(pod, ref.c) == nil {
				if sp := seccompFieldForAnnotation(containerSeccompProfile(pod, ref.c)); sp != nil {
					running[ref.c.Name] = sp
				}
			}
		})
	}
	if podProfile == "" && len(running) == 0 {
		return pod
	}
	view := copyForDefaults(pod, nil)
	if podProfile != "" {
		if view.Annotations == nil {
			view.Annotations = map[string]string{}
		}
		view.Annotations[corev1.SeccompPodAnnotationKey] = podProfile
	}
	visitContainers(&view.Spec, func(ref containerRef) {
		if sp := running[ref.c.Name]; sp != nil {
			ensureContainerSC(ref.c).SeccompProfile = sp
		}
	})
	return view
}

// needsSeccompVersionSkew reports whether seccompVersionSkew changes pod,
// without copying it. It runs on every admission, so it loops without a
// closure, which would allocate.
func needsSeccompVersionSkew(pod *corev1.Pod) bool {
	// Windows pods run no seccomp, and the apiserver refuses the field on
	// them (v1.37 pkg/apis/core/validation validateWindows).
	if len(pod.Annotations) == 0 || windowsPod(pod) {
		return false
	}
	if p, ok := pod.Annotations[corev1.SeccompPodAnnotationKey]; ok && podSC(pod).SeccompProfile == nil && seccompFieldForAnnotation(p) != nil {
		return true
	}
	// Building each container's key allocates: look only when some key may match.
	containerKeys := false
	for k := range pod.Annotations {
		if strings.HasPrefix(k, corev1.SeccompContainerAnnotationKeyPrefix) {
			containerKeys = true
			break
		}
	}
	if !containerKeys {
		return false
	}
	needs := func(c *corev1.Container) bool {
		p, ok := pod.Annotations[corev1.SeccompContainerAnnotationKeyPrefix+c.Name]
		return ok && containerSC(c).SeccompProfile == nil && seccompFieldForAnnotation(p) != nil
	}
	for i := range pod.Spec.InitContainers {
		if needs(&pod.Spec.InitContainers[i]) {
			return true
		}
	}
	for i := range pod.Spec.Containers {
		if needs(&pod.Spec.Containers[i]) {
			return true
		}
	}
	for i := range pod.Spec.EphemeralContainers {
		if needs((*corev1.Container)(&pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)) {
			return true
		}
	}
	return false
}

// EffectiveSeccompProfile is the profile the v1.37 kubelet runs container c
// of pod with: the container's seccompProfile field, else the pod's, else
// nil (Unconfined, unless the kubelet's seccompDefault is on). Annotations
// are ignored (k8s.io/kubernetes v1.37 pkg/kubelet/kuberuntime/helpers.go
// getSeccompProfile).
func EffectiveSeccompProfile(pod *corev1.Pod, c *corev1.Container) *corev1.SeccompProfile {
	if sp := containerSC(c).SeccompProfile; sp != nil {
		return sp
	}
	return podSC(pod).SeccompProfile
}

// podSeccompProfile is the pod's profile: the pod annotation, else the pod
// field in annotation form.
func podSeccompProfile(pod *corev1.Pod) string {
	if p := pod.Annotations[corev1.SeccompPodAnnotationKey]; p != "" {
		return p
	}
	if sp := podSC(pod).SeccompProfile; sp != nil {
		return seccompAnnotationForField(sp)
	}
	return ""
}

// containerSeccompProfile is the profile v1.24 checked for a container: its
// field, else its annotation, else the pod field, else the pod annotation.
func containerSeccompProfile(pod *corev1.Pod, c *corev1.Container) string {
	if sp := containerSC(c).SeccompProfile; sp != nil {
		return seccompAnnotationForField(sp)
	}
	if p, ok := pod.Annotations[corev1.SeccompContainerAnnotationKeyPrefix+c.Name]; ok {
		return p
	}
	if sp := podSC(pod).SeccompProfile; sp != nil {
		return seccompAnnotationForField(sp)
	}
	return pod.Annotations[corev1.SeccompPodAnnotationKey]
}

// windowsPod reports whether pod declares spec.os.name windows: the v1.37
// apiserver refuses the seccompProfile and appArmorProfile fields on such a
// pod ("cannot be set for a windows pod", pkg/apis/core/validation
// validateWindows), and its kubelet runs neither, so kube-psp neither writes
// those fields to it nor judges the profiles its containers run with.
func windowsPod(pod *corev1.Pod) bool {
	return pod.Spec.OS != nil && pod.Spec.OS.Name == corev1.Windows
}

// seccompAnnotationForField is the annotation form of a seccompProfile field;
// "" for Localhost without a profile name or an unknown type.
func seccompAnnotationForField(sp *corev1.SeccompProfile) string {
	switch sp.Type {
	case corev1.SeccompProfileTypeUnconfined:
		return corev1.SeccompProfileNameUnconfined
	case corev1.SeccompProfileTypeRuntimeDefault:
		return corev1.SeccompProfileRuntimeDefault
	case corev1.SeccompProfileTypeLocalhost:
		if sp.LocalhostProfile != nil {
			return corev1.SeccompLocalhostProfileNamePrefix + *sp.LocalhostProfile
		}
	}
	return ""
}

// seccompFieldForAnnotation is the seccompProfile field for an annotation
// value, nil for a value without one (k8s.io/kubernetes v1.24
// pkg/api/pod/util.go SeccompFieldForAnnotation): unconfined, runtime/default
// and docker/default, localhost/NAME with a name.
func seccompFieldForAnnotation(profile string) *corev1.SeccompProfile {
	switch {
	case profile == corev1.SeccompProfileNameUnconfined:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
	case profile == corev1.SeccompProfileRuntimeDefault || profile == corev1.DeprecatedSeccompProfileDockerDefault:
		return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	case strings.HasPrefix(profile, corev1.SeccompLocalhostProfileNamePrefix):
		if name := strings.TrimPrefix(profile, corev1.SeccompLocalhostProfileNamePrefix); name != "" {
			return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: &name}
		}
	}
	return nil
}

// sameSeccompProfile compares profiles in annotation form; docker/default is
// the old name of runtime/default.
func sameSeccompProfile(a, b string) bool {
	norm := func(p string) string {
		if p == corev1.DeprecatedSeccompProfileDockerDefault {
			return corev1.SeccompProfileRuntimeDefault
		}
		return p
	}
	return norm(a) == norm(b)
}

// seccompPodNote is AnnotationFieldNote for the pod annotation.
func seccompPodNote(pod *corev1.Pod) string {
	if pod.Annotations[corev1.SeccompPodAnnotationKey] != "" {
		return ""
	}
	if podSC(pod).SeccompProfile != nil {
		return "the pod has no annotation " + corev1.SeccompPodAnnotationKey + ": the profile is its " + podSCPath.Child("seccompProfile").String()
	}
	return "the pod sets no seccomp profile: set " + podSCPath.Child("seccompProfile").String()
}

// seccompContainerNote is AnnotationFieldNote for a container's annotation:
// the source v1.24 read after it (containerSeccompProfile).
func seccompContainerNote(pod *corev1.Pod, ref containerRef) string {
	key := corev1.SeccompContainerAnnotationKeyPrefix + ref.c.Name
	if _, ok := pod.Annotations[key]; ok {
		return ""
	}
	field := ref.sc.Child("seccompProfile").String()
	switch {
	case containerSC(ref.c).SeccompProfile != nil:
		return "the pod has no annotation " + key + ": the profile is its " + field
	case podSC(pod).SeccompProfile != nil:
		return "the pod has no annotation " + key + ": the profile is its " + podSCPath.Child("seccompProfile").String()
	case pod.Annotations[corev1.SeccompPodAnnotationKey] != "":
		return "the pod has no annotation " + key + ": the profile is its annotation " + corev1.SeccompPodAnnotationKey + ", which has no effect since Kubernetes v1.27: set " + podSCPath.Child("seccompProfile").String()
	}
	return "the pod sets no seccomp profile for container " + ref.c.Name + ": set " + podSCPath.Child("seccompProfile").String() + " or " + field
}

// RunningSeccompErrors judges the profile each container of a stored pod
// runs with (EffectiveSeccompProfile: fields only) against the seccomp
// settings of the named policy, the one that admitted the pod: a container
// without a profile needs a policy that allows an unset profile or
// unconfined, a container with one a policy that allows it. Errors are at
// the container's seccompProfile field. found is false when the set has no
// usable policy of that name.
func (s *PolicySet) RunningSeccompErrors(policy string, pod *corev1.Pod) (errs field.ErrorList, found bool) {
	i, ok := s.index[policy]
	if !ok {
		return nil, false
	}
	if windowsPod(pod) {
		return nil, true
	}
	var ctl seccomp
	for _, c := range s.providers[i].podCheckers {
		if sc, ok := c.(seccomp); ok {
			ctl = sc
		}
	}
	visitContainers(&pod.Spec, func(ref containerRef) {
		fldPath := ref.sc.Child("seccompProfile")
		sp := EffectiveSeccompProfile(pod, ref.c)
		if sp == nil {
			if !ctl.unconfinedAllowed() {
				errs = append(errs, field.Forbidden(fldPath, SeccompUnsetMessage+". Valid values are "+ctl.allowedText))
			}
			return
		}
		if containerSC(ref.c).SeccompProfile == nil {
			fldPath = podSCPath.Child("seccompProfile")
		}
		// Containers that inherit the pod's field share one error.
		if e := ctl.validate(fldPath, seccompAnnotationForField(sp), nil); len(e) > 0 && !slices.ContainsFunc(errs, func(x *field.Error) bool { return x.Error() == e[0].Error() }) {
			errs = append(errs, e...)
		}
	})
	return errs, true
}

// SeccompSettingsWithoutEffect lists the seccomp settings of a policy (its
// annotations) that had no effect on a Kubernetes v1.27+ cluster under
// v1.24's behaviour, which wrote and checked only annotations the kubelet
// no longer reads: a default profile written only as the annotation left
// pods without a seccompProfile field Unconfined, and an allow-list that
// requires a profile admitted pods naming an allowed one in an annotation
// alone, which also ran Unconfined. kube-psp writes and checks the fields,
// so the list tells operators who ran such a policy elsewhere that their
// pods may have run Unconfined. Nil when there is nothing to say.
func SeccompSettingsWithoutEffect(annotations map[string]string) []string {
	s := newSeccomp(annotations)
	var out []string
	if sp := seccompFieldForAnnotation(s.defaultProfile); sp != nil && sp.Type != corev1.SeccompProfileTypeUnconfined {
		out = append(out, "the default profile "+s.defaultProfile+" was written only as the pod annotation, so pods without a seccompProfile field ran Unconfined")
	}
	if len(s.allowed) > 0 && !s.unconfinedAllowed() {
		out = append(out, "the allowed profiles "+s.allowedText+" were checked on annotations, so a pod naming one in an annotation alone was admitted and ran Unconfined")
	}
	return out
}
