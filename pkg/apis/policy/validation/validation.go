// Package validation checks a PodSecurityPolicy as the Kubernetes v1.24
// apiserver did before storing it (pkg/apis/policy/validation), with the same
// field paths and messages, so a policy the v1.24 apiserver refused is refused
// here too, with the error a PSP user has already seen.
package validation

import (
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	k8sfield "k8s.io/apimachinery/pkg/util/validation/field"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/field"
)

// ValidatePodSecurityPolicy returns every problem with the policy, in the
// order v1.24 reported them. A policy written as policy/v1beta1 or
// extensions/v1beta1 is validated exactly as v1.24 did, and may not use
// kube-psp's fields for pod fields added since; one written as
// policy.kube-psp.io/v1 (or built in code, without apiVersion) may.
func ValidatePodSecurityPolicy(psp *policyv1.PodSecurityPolicy) field.ErrorList {
	extended := psp.APIVersion == "" || psp.APIVersion == policyv1.APIVersion
	var allErrs field.ErrorList
	metaPath := field.NewPath("metadata")
	for _, e := range apimachineryvalidation.ValidateObjectMeta(&psp.ObjectMeta, false, apimachineryvalidation.NameIsDNSSubdomain, k8sfield.NewPath("metadata")) {
		allErrs = append(allErrs, &field.Error{Type: field.ErrorType(e.Type), Field: e.Field, BadValue: e.BadValue, Detail: e.Detail})
	}
	allErrs = append(allErrs, validateSpecificAnnotations(psp.Annotations, metaPath.Child("annotations"))...)
	allErrs = append(allErrs, validateSpec(&psp.Spec, field.NewPath("spec"), extended)...)
	if !extended && psp.Spec.RequireUserNamespace {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec", "requireUserNamespace"), "requires apiVersion "+policyv1.APIVersion))
	}
	return allErrs
}

// validateSpec validates a policy's spec; extended accepts kube-psp's additions.
func validateSpec(spec *policyv1.PodSecurityPolicySpec, fldPath *field.Path, extended bool) field.ErrorList {
	var allErrs field.ErrorList
	allErrs = append(allErrs, validateRunAsUser(fldPath.Child("runAsUser"), &spec.RunAsUser)...)
	allErrs = append(allErrs, validateRunAsGroup(fldPath.Child("runAsGroup"), spec.RunAsGroup)...)
	allErrs = append(allErrs, validateSELinux(fldPath.Child("seLinux"), &spec.SELinux)...)
	allErrs = append(allErrs, validateGroupRule(fldPath.Child("supplementalGroups"), string(spec.SupplementalGroups.Rule), spec.SupplementalGroups.Ranges,
		[]string{string(policyv1.SupplementalGroupsStrategyMayRunAs), string(policyv1.SupplementalGroupsStrategyMustRunAs), string(policyv1.SupplementalGroupsStrategyRunAsAny)})...)
	allErrs = append(allErrs, validateGroupRule(fldPath.Child("fsGroup"), string(spec.FSGroup.Rule), spec.FSGroup.Ranges,
		[]string{string(policyv1.FSGroupStrategyMayRunAs), string(policyv1.FSGroupStrategyMustRunAs), string(policyv1.FSGroupStrategyRunAsAny)})...)
	allErrs = append(allErrs, validateVolumes(fldPath, spec.Volumes, extended)...)
	// v1.24 reported these three without the "spec." prefix; kept for identical messages.
	if len(spec.RequiredDropCapabilities) > 0 && slices.Contains(spec.AllowedCapabilities, policyv1.AllowAllCapabilities) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("requiredDropCapabilities"), field.InternalStringSlice("core.Capability", spec.RequiredDropCapabilities),
			"must be empty when all capabilities are allowed by a wildcard"))
	}
	allErrs = append(allErrs, validateCapsAgainstDrops(spec.RequiredDropCapabilities, spec.DefaultAddCapabilities, field.NewPath("defaultAddCapabilities"))...)
	allErrs = append(allErrs, validateCapsAgainstDrops(spec.RequiredDropCapabilities, spec.AllowedCapabilities, field.NewPath("allowedCapabilities"))...)
	allErrs = append(allErrs, validateDefaultAllowPrivilegeEscalation(fldPath.Child("defaultAllowPrivilegeEscalation"), spec.DefaultAllowPrivilegeEscalation, spec.AllowPrivilegeEscalation)...)
	allErrs = append(allErrs, validateAllowedProcMountTypes(fldPath.Child("allowedProcMountTypes"), spec.AllowedProcMountTypes)...)
	allErrs = append(allErrs, validateAllowedHostPaths(fldPath.Child("allowedHostPaths"), spec.AllowedHostPaths)...)
	allErrs = append(allErrs, validateAllowedFlexVolumes(fldPath.Child("allowedFlexVolumes"), spec.AllowedFlexVolumes)...)
	allErrs = append(allErrs, validateAllowedCSIDrivers(fldPath.Child("allowedCSIDrivers"), spec.AllowedCSIDrivers)...)
	allErrs = append(allErrs, validateSysctls(fldPath.Child("allowedUnsafeSysctls"), spec.AllowedUnsafeSysctls)...)
	allErrs = append(allErrs, validateSysctls(fldPath.Child("forbiddenSysctls"), spec.ForbiddenSysctls)...)
	allErrs = append(allErrs, validateSysctlListsDoNotOverlap(fldPath.Child("allowedUnsafeSysctls"), fldPath.Child("forbiddenSysctls"), spec.AllowedUnsafeSysctls, spec.ForbiddenSysctls)...)
	allErrs = append(allErrs, validateRuntimeClass(fldPath.Child("runtimeClass"), spec.RuntimeClass)...)
	return allErrs
}

// validateSpecificAnnotations checks the seccomp and AppArmor annotations of a policy.
func validateSpecificAnnotations(annotations map[string]string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if p := annotations[policyv1.AppArmorDefaultProfileAnnotationKey]; p != "" {
		if err := ValidateAppArmorProfileFormat(p); err != nil {
			allErrs = append(allErrs, field.Invalid(fldPath.Key(policyv1.AppArmorDefaultProfileAnnotationKey), p, err.Error()))
		}
	}
	if allowed := annotations[policyv1.AppArmorAllowedProfilesAnnotationKey]; allowed != "" {
		for _, p := range strings.Split(allowed, ",") {
			if err := ValidateAppArmorProfileFormat(p); err != nil {
				allErrs = append(allErrs, field.Invalid(fldPath.Key(policyv1.AppArmorAllowedProfilesAnnotationKey), allowed, err.Error()))
			}
		}
	}
	if p := annotations[policyv1.SeccompDefaultProfileAnnotationKey]; p != "" {
		allErrs = append(allErrs, validateSeccompProfile(p, fldPath.Key(policyv1.SeccompDefaultProfileAnnotationKey))...)
	}
	if allowed := annotations[policyv1.SeccompAllowedProfilesAnnotationKey]; allowed != "" {
		for _, p := range strings.Split(allowed, ",") {
			if p == policyv1.SeccompAllowAny {
				continue
			}
			allErrs = append(allErrs, validateSeccompProfile(p, fldPath.Key(policyv1.SeccompAllowedProfilesAnnotationKey))...)
		}
	}
	return allErrs
}

// ValidateAppArmorProfileFormat accepts "", runtime/default, unconfined and localhost/NAME.
func ValidateAppArmorProfileFormat(profile string) error {
	if profile == "" || profile == corev1.DeprecatedAppArmorBetaProfileRuntimeDefault || profile == corev1.DeprecatedAppArmorBetaProfileNameUnconfined {
		return nil
	}
	if !strings.HasPrefix(profile, corev1.DeprecatedAppArmorBetaProfileNamePrefix) {
		return fmt.Errorf("invalid AppArmor profile name: %q", profile)
	}
	return nil
}

// validateSeccompProfile accepts the annotation forms of a seccomp profile.
func validateSeccompProfile(p string, fldPath *field.Path) field.ErrorList {
	switch {
	case p == corev1.SeccompProfileRuntimeDefault, p == corev1.DeprecatedSeccompProfileDockerDefault, p == corev1.SeccompProfileNameUnconfined:
		return nil
	case strings.HasPrefix(p, corev1.SeccompLocalhostProfileNamePrefix):
		target := strings.TrimPrefix(p, corev1.SeccompLocalhostProfileNamePrefix)
		var allErrs field.ErrorList
		if path.IsAbs(target) {
			allErrs = append(allErrs, field.Invalid(fldPath, target, "must be a relative path"))
		}
		if slices.Contains(strings.Split(filepath.ToSlash(target), "/"), "..") {
			allErrs = append(allErrs, field.Invalid(fldPath, target, "must not contain '..'"))
		}
		return allErrs
	}
	return field.ErrorList{field.Invalid(fldPath, p, "must be a valid seccomp profile")}
}

func validateAllowedHostPaths(fldPath *field.Path, allowedHostPaths []policyv1.AllowedHostPath) field.ErrorList {
	var allErrs field.ErrorList
	for i, target := range allowedHostPaths {
		if target.PathPrefix == "" {
			allErrs = append(allErrs, field.Required(fldPath.Index(i), "is required"))
			break
		}
		if slices.Contains(strings.Split(filepath.ToSlash(target.PathPrefix), "/"), "..") {
			allErrs = append(allErrs, field.Invalid(fldPath.Index(i), target.PathPrefix, "must not contain '..'"))
		}
	}
	return allErrs
}

func validateAllowedFlexVolumes(fldPath *field.Path, flexVolumes []policyv1.AllowedFlexVolume) field.ErrorList {
	var allErrs field.ErrorList
	for idx, fv := range flexVolumes {
		if len(fv.Driver) == 0 {
			// v1.24 repeated the list's name in the path; kept for identical messages.
			allErrs = append(allErrs, field.Required(fldPath.Child("allowedFlexVolumes").Index(idx).Child("driver"), "must specify a driver"))
		}
	}
	return allErrs
}

func validateAllowedCSIDrivers(fldPath *field.Path, csiDrivers []policyv1.AllowedCSIDriver) field.ErrorList {
	var allErrs field.ErrorList
	for idx, csiDriver := range csiDrivers {
		// v1.24 named the list "allowedCSIDriver" in this path; kept for identical messages.
		p := fldPath.Child("allowedCSIDriver").Index(idx).Child("name")
		if len(csiDriver.Name) == 0 {
			allErrs = append(allErrs, field.Required(p, ""))
		}
		if len(csiDriver.Name) > 63 {
			allErrs = append(allErrs, field.TooLong(p, csiDriver.Name, 63))
		}
		for _, msg := range utilvalidation.IsDNS1123Subdomain(strings.ToLower(csiDriver.Name)) {
			allErrs = append(allErrs, field.Invalid(p, csiDriver.Name, msg))
		}
	}
	return allErrs
}

func validateSELinux(fldPath *field.Path, seLinux *policyv1.SELinuxStrategyOptions) field.ErrorList {
	supported := []string{string(policyv1.SELinuxStrategyMustRunAs), string(policyv1.SELinuxStrategyRunAsAny)}
	if !slices.Contains(supported, string(seLinux.Rule)) {
		return field.ErrorList{field.NotSupported(fldPath.Child("rule"), string(seLinux.Rule), supported)}
	}
	return nil
}

func validateRunAsUser(fldPath *field.Path, runAsUser *policyv1.RunAsUserStrategyOptions) field.ErrorList {
	var allErrs field.ErrorList
	supported := []string{string(policyv1.RunAsUserStrategyMustRunAs), string(policyv1.RunAsUserStrategyMustRunAsNonRoot), string(policyv1.RunAsUserStrategyRunAsAny)}
	if !slices.Contains(supported, string(runAsUser.Rule)) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("rule"), string(runAsUser.Rule), supported))
	}
	for idx, rng := range runAsUser.Ranges {
		allErrs = append(allErrs, validateIDRange(fldPath.Child("ranges").Index(idx), rng)...)
	}
	return allErrs
}

func validateRunAsGroup(fldPath *field.Path, runAsGroup *policyv1.RunAsGroupStrategyOptions) field.ErrorList {
	if runAsGroup == nil {
		return nil
	}
	var allErrs field.ErrorList
	switch runAsGroup.Rule {
	case policyv1.RunAsGroupStrategyRunAsAny:
		if len(runAsGroup.Ranges) != 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("ranges"), idRangesLiteral(runAsGroup.Ranges), "Ranges must be empty"))
		}
	case policyv1.RunAsGroupStrategyMustRunAs, policyv1.RunAsGroupStrategyMayRunAs:
		if len(runAsGroup.Ranges) == 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("ranges"), idRangesLiteral(runAsGroup.Ranges), "must provide at least one range"))
		}
		for idx, rng := range runAsGroup.Ranges {
			allErrs = append(allErrs, validateIDRange(fldPath.Child("ranges").Index(idx), rng)...)
		}
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("rule"), string(runAsGroup.Rule), []string{
			string(policyv1.RunAsGroupStrategyMustRunAs), string(policyv1.RunAsGroupStrategyRunAsAny), string(policyv1.RunAsGroupStrategyMayRunAs)}))
	}
	return allErrs
}

// validateGroupRule validates the fsGroup and supplementalGroups strategies,
// which v1.24 checked alike: a supported rule and valid ranges.
func validateGroupRule(fldPath *field.Path, rule string, ranges []policyv1.IDRange, supportedSorted []string) field.ErrorList {
	var allErrs field.ErrorList
	if !slices.Contains(supportedSorted, rule) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("rule"), rule, supportedSorted))
	}
	for idx, rng := range ranges {
		allErrs = append(allErrs, validateIDRange(fldPath.Child("ranges").Index(idx), rng)...)
	}
	return allErrs
}

func validateVolumes(fldPath *field.Path, volumes []policyv1.FSType, extended bool) field.ErrorList {
	allowed := make([]string, 0, len(policyv1.AllFSTypes)+len(policyv1.ExtensionFSTypes)+1)
	for _, t := range policyv1.AllFSTypes {
		allowed = append(allowed, string(t))
	}
	if extended {
		for _, t := range policyv1.ExtensionFSTypes {
			allowed = append(allowed, string(t))
		}
	}
	allowed = append(allowed, string(policyv1.All))
	slices.Sort(allowed)
	var allErrs field.ErrorList
	for _, v := range volumes {
		if _, found := slices.BinarySearch(allowed, string(v)); !found {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("volumes"), string(v), allowed))
		}
	}
	return allErrs
}

func validateDefaultAllowPrivilegeEscalation(fldPath *field.Path, defaultAllow, allow *bool) field.ErrorList {
	// An unset allowPrivilegeEscalation defaults to true, as in v1.24.
	allowed := allow == nil || *allow
	if defaultAllow != nil && *defaultAllow && !allowed {
		return field.ErrorList{field.Invalid(fldPath, defaultAllow, "Cannot set DefaultAllowPrivilegeEscalation to true without also setting AllowPrivilegeEscalation to true")}
	}
	return nil
}

func validateAllowedProcMountTypes(fldPath *field.Path, types []corev1.ProcMountType) field.ErrorList {
	var allErrs field.ErrorList
	for i, t := range types {
		if t != corev1.DefaultProcMount && t != corev1.UnmaskedProcMount {
			allErrs = append(allErrs, field.NotSupported(fldPath.Index(i), string(t), []string{string(corev1.DefaultProcMount), string(corev1.UnmaskedProcMount)}))
		}
	}
	return allErrs
}

const (
	sysctlSegmentFmt        = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
	sysctlPatternSegmentFmt = "([a-z0-9][-_a-z0-9]*)?[a-z0-9*]"
	// SysctlPatternFmt is the pattern a sysctl or sysctl prefix in a policy must match.
	SysctlPatternFmt = "(" + sysctlSegmentFmt + "\\.)*" + sysctlPatternSegmentFmt
	// SysctlMaxLength is the longest sysctl name.
	SysctlMaxLength = 253
)

var sysctlPatternRegexp = regexp.MustCompile("^" + SysctlPatternFmt + "$")

// IsValidSysctlPattern reports whether name is a valid sysctl or sysctl prefix ending in "*".
func IsValidSysctlPattern(name string) bool {
	return len(name) <= SysctlMaxLength && sysctlPatternRegexp.MatchString(name)
}

func validateSysctls(fldPath *field.Path, sysctls []string) field.ErrorList {
	var allErrs field.ErrorList
	coversAll := false
	for i, s := range sysctls {
		switch {
		case len(s) == 0:
			allErrs = append(allErrs, field.Invalid(fldPath.Index(i), s, "empty sysctl not allowed"))
		case !IsValidSysctlPattern(s):
			allErrs = append(allErrs, field.Invalid(fldPath.Index(i), s,
				fmt.Sprintf("must have at most %d characters and match regex %s", SysctlMaxLength, SysctlPatternFmt)))
		case s[0] == '*':
			coversAll = true
		}
	}
	if coversAll && len(sysctls) > 1 {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("items"), "if '*' is present, must not specify other sysctls"))
	}
	return allErrs
}

func validateSysctlListsDoNotOverlap(allowedPath, forbiddenPath *field.Path, allowedUnsafe, forbidden []string) field.ErrorList {
	var allErrs field.ErrorList
	for i, allowedSysctl := range allowedUnsafe {
		allowedPrefix, allowedIsPattern := strings.CutSuffix(allowedSysctl, "*")
		for j, forbiddenSysctl := range forbidden {
			forbiddenPrefix, forbiddenIsPattern := strings.CutSuffix(forbiddenSysctl, "*")
			switch {
			case allowedIsPattern && forbiddenIsPattern:
				if strings.HasPrefix(allowedPrefix, forbiddenPrefix) {
					allErrs = append(allErrs, field.Invalid(allowedPath.Index(i), allowedSysctl, "sysctl overlaps with "+forbiddenSysctl))
				} else if strings.HasPrefix(forbiddenPrefix, allowedPrefix) {
					allErrs = append(allErrs, field.Invalid(forbiddenPath.Index(j), forbiddenSysctl, "sysctl overlaps with "+allowedSysctl))
				}
			case allowedIsPattern:
				if strings.HasPrefix(forbiddenSysctl, allowedPrefix) {
					allErrs = append(allErrs, field.Invalid(forbiddenPath.Index(j), forbiddenSysctl, "sysctl overlaps with "+allowedSysctl))
				}
			case forbiddenIsPattern:
				if strings.HasPrefix(allowedSysctl, forbiddenPrefix) {
					allErrs = append(allErrs, field.Invalid(allowedPath.Index(i), allowedSysctl, "sysctl overlaps with "+forbiddenSysctl))
				}
			default:
				if allowedSysctl == forbiddenSysctl {
					allErrs = append(allErrs, field.Invalid(allowedPath.Index(i), allowedSysctl, "sysctl overlaps with "+forbiddenSysctl))
				}
			}
		}
	}
	return allErrs
}

func validateIDRange(fldPath *field.Path, rng policyv1.IDRange) field.ErrorList {
	var allErrs field.ErrorList
	if rng.Min < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("min"), rng.Min, "min cannot be negative"))
	}
	if rng.Max < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("max"), rng.Max, "max cannot be negative"))
	}
	if rng.Min > rng.Max {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("min"), rng.Min, "min cannot be greater than max"))
	}
	return allErrs
}

func validateCapsAgainstDrops(requiredDrops, capsToCheck []corev1.Capability, fldPath *field.Path) field.ErrorList {
	if requiredDrops == nil {
		return nil
	}
	var allErrs field.ErrorList
	for _, c := range capsToCheck {
		if slices.Contains(requiredDrops, c) {
			allErrs = append(allErrs, field.Invalid(fldPath, string(c),
				fmt.Sprintf("capability is listed in %s and requiredDropCapabilities", fldPath.String())))
		}
	}
	return allErrs
}

func validateRuntimeClass(fldPath *field.Path, rc *policyv1.RuntimeClassStrategyOptions) field.ErrorList {
	if rc == nil {
		return nil
	}
	var allErrs field.ErrorList
	allowed := map[string]bool{}
	for i, name := range rc.AllowedRuntimeClassNames {
		if name != policyv1.AllowAllRuntimeClassNames {
			allErrs = append(allErrs, validateRuntimeClassName(name, fldPath.Child("allowedRuntimeClassNames").Index(i))...)
		}
		if allowed[name] {
			allErrs = append(allErrs, field.Duplicate(fldPath.Child("allowedRuntimeClassNames").Index(i), name))
		}
		allowed[name] = true
	}
	if rc.DefaultRuntimeClassName != nil {
		allErrs = append(allErrs, validateRuntimeClassName(*rc.DefaultRuntimeClassName, fldPath.Child("defaultRuntimeClassName"))...)
		if !allowed[*rc.DefaultRuntimeClassName] && !allowed[policyv1.AllowAllRuntimeClassNames] {
			allErrs = append(allErrs, field.Required(fldPath.Child("allowedRuntimeClassNames"),
				fmt.Sprintf("default %q must be allowed", *rc.DefaultRuntimeClassName)))
		}
	}
	if allowed[policyv1.AllowAllRuntimeClassNames] && len(rc.AllowedRuntimeClassNames) > 1 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("allowedRuntimeClassNames"), rc.AllowedRuntimeClassNames,
			"if '*' is present, must not specify other RuntimeClass names"))
	}
	return allErrs
}

func validateRuntimeClassName(name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(name, false) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	return allErrs
}

// idRangesLiteral renders ID ranges as v1.24 printed its internal
// []policy.IDRange with %#v.
func idRangesLiteral(ranges []policyv1.IDRange) field.Literal {
	if ranges == nil {
		return "[]policy.IDRange(nil)"
	}
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = fmt.Sprintf("policy.IDRange{Min:%d, Max:%d}", r.Min, r.Max)
	}
	return field.Literal("[]policy.IDRange{" + strings.Join(parts, ", ") + "}")
}
