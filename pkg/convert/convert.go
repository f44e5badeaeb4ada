// Package convert writes policies and RBAC as YAML: policies in kube-psp's
// own policy.kube-psp.io/v1 (the CRD) or back in the legacy policy/v1beta1,
// so that old PSP YAML can be applied as the CRD and the CRD read by old
// tools.
package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/presets"
	"github.com/kube-psp/kube-psp/pkg/rbac"
	"github.com/kube-psp/kube-psp/pkg/yamlfile"
)

// APIVersions are the versions policies can be written in.
var APIVersions = []string{policyv1.APIVersion, policyv1.LegacyPolicyAPIVersion, policyv1.LegacyExtensionsAPIVersion}

// Policies writes the policies as YAML documents in apiVersion, with
// metadata trimmed to what a new object may carry (trimMeta). A policy
// using kube-psp's additions (which v1beta1 cannot express) is refused for
// the legacy versions, naming the field.
func Policies(policies []*policyv1.PodSecurityPolicy, apiVersion string) ([]byte, error) {
	known := false
	for _, v := range APIVersions {
		known = known || v == apiVersion
	}
	if !known {
		return nil, fmt.Errorf("cannot write policies as %q (want one of %s)", apiVersion, strings.Join(APIVersions, ", "))
	}
	var out []byte
	var errs []error
	for _, in := range policies {
		p := in.DeepCopy()
		p.APIVersion, p.Kind = apiVersion, policyv1.Kind
		p.ObjectMeta = trimMeta(p.ObjectMeta)
		if fieldErrs := engine.DefaultAndValidatePolicy(p); len(fieldErrs) > 0 {
			for _, e := range fieldErrs {
				errs = append(errs, fmt.Errorf("PodSecurityPolicy %q cannot be written as %s: %s", p.Name, apiVersion, e.Error()))
			}
			continue
		}
		doc, err := document(p)
		if err != nil {
			return nil, err
		}
		out = append(out, doc...)
	}
	return out, errors.Join(errs...)
}

// RBAC writes RBAC objects as rbac.authorization.k8s.io/v1 YAML documents.
// RBAC needs no conversion: `use` in the policy and extensions groups keeps
// working with kube-psp.
func RBAC(objs rbac.Objects) ([]byte, error) {
	var out []byte
	add := func(kind string, obj any) error {
		data, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return err
		}
		m["apiVersion"], m["kind"] = rbacv1.SchemeGroupVersion.String(), kind
		doc, err := document(m)
		out = append(out, doc...)
		return err
	}
	for i := range objs.ClusterRoles {
		if err := add("ClusterRole", &objs.ClusterRoles[i]); err != nil {
			return nil, err
		}
	}
	for i := range objs.ClusterRoleBindings {
		if err := add("ClusterRoleBinding", &objs.ClusterRoleBindings[i]); err != nil {
			return nil, err
		}
	}
	for i := range objs.Roles {
		if err := add("Role", &objs.Roles[i]); err != nil {
			return nil, err
		}
	}
	for i := range objs.RoleBindings {
		if err := add("RoleBinding", &objs.RoleBindings[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// trimMeta keeps what identifies an object and what its author wrote: name,
// namespace, labels and annotations. What the apiserver set (uid,
// resourceVersion, generation, creationTimestamp, managedFields, selfLink,
// owner references and finalizers of the old cluster) and kubectl apply's
// last-applied annotation are dropped, as `kubectl get --export` did until
// kubectl v1.18 removed it: `kubectl get -o yaml | psp convert -f - |
// kubectl apply -f -` creates new objects, which may not carry a uid or a
// resourceVersion, and stale managed fields or last-applied state would
// mislead later applies.
func trimMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	out := metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels}
	for k, v := range m.Annotations {
		if k == corev1.LastAppliedConfigAnnotation {
			continue
		}
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[k] = v
	}
	return out
}

// document is one "---" YAML document, without the empty creationTimestamp
// and status that Go's API types always write.
func document(obj any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if meta, ok := m["metadata"].(map[string]any); ok && meta["creationTimestamp"] == nil {
		delete(meta, "creationTimestamp")
	}
	delete(m, "status")
	out, err := yaml.Marshal(m)
	if err != nil {
		return nil, err
	}
	return append([]byte("---\n"), out...), nil
}

// Read loads what psp convert converts: the policies and RBAC of each path
// (a file, a directory walked recursively, or "-" for standard input),
// each path loaded on its own and the results merged in order
// (loader.PoliciesAndRBAC.Add), so that paths may repeat a policy. An error
// names the path, file, document and line.
func Read(paths []string, stdin io.Reader, opts loader.Options) (*loader.PoliciesAndRBAC, error) {
	merged := &loader.PoliciesAndRBAC{}
	for _, p := range paths {
		var res *loader.PoliciesAndRBAC
		var err error
		if p == "-" {
			res, err = loader.LoadReader(yamlfile.Stdin, stdin, opts)
		} else {
			res, err = loader.Load([]string{p}, opts)
		}
		if err != nil {
			return nil, err
		}
		merged.Add(res)
	}
	return merged, nil
}

// Write writes what Read loaded, for psp convert: its policies in
// apiVersion (Policies) and, with crdGrants, its Roles and ClusterRoles that
// grant use in a legacy group only, with the CRD's group added
// (CRDGroupGrants, RBAC).
func Write(res *loader.PoliciesAndRBAC, apiVersion string, crdGrants bool) ([]byte, error) {
	out, err := Policies(res.Policies, apiVersion)
	if err != nil || !crdGrants {
		return out, err
	}
	grants, err := RBAC(CRDGroupGrants(res.RBAC))
	return append(out, grants...), err
}

// Preset writes psp init's output: a comment naming the preset, the
// built-in policies in apiVersion, and the RBAC that grants the preset's
// policy to system:authenticated (presets.Load).
func Preset(preset, apiVersion string) ([]byte, error) {
	res, err := presets.Load(preset)
	if err != nil {
		return nil, err
	}
	policies, err := Policies(res.Policies, apiVersion)
	if err != nil {
		return nil, err
	}
	rbacYAML, err := RBAC(res.RBAC)
	if err != nil {
		return nil, err
	}
	out := fmt.Appendf(nil, "# kube-psp preset %q: policies, then the RBAC that grants %q's policy to system:authenticated.\n", preset, preset)
	return append(append(out, policies...), rbacYAML...), nil
}
