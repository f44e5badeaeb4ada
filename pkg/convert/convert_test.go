package convert

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/presets"
)

func TestRoundTrip(t *testing.T) {
	res, err := presets.Load("baseline")
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range APIVersions {
		out, err := Policies(res.Policies, version)
		if err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		if strings.Contains(string(out), "creationTimestamp") || !strings.Contains(string(out), "apiVersion: "+version) {
			t.Errorf("%s: %s", version, out)
		}
		back, err := loader.LoadReader("converted", strings.NewReader(string(out)), loader.Options{Strict: true})
		if err != nil {
			t.Fatalf("%s: reading back: %v", version, err)
		}
		if len(back.Policies) != len(res.Policies) {
			t.Fatalf("%s: %d policies back", version, len(back.Policies))
		}
		for i := range back.Policies {
			if !equality.Semantic.DeepEqual(back.Policies[i].Spec, res.Policies[i].Spec) || back.Policies[i].Name != res.Policies[i].Name {
				t.Errorf("%s: policy %q changed in the round trip", version, res.Policies[i].Name)
			}
		}
	}
}

func TestLegacyCannotExpressAdditions(t *testing.T) {
	p := &policyv1.PodSecurityPolicy{}
	p.Name = "userns"
	p.Spec.RequireUserNamespace = true
	p.Spec.Volumes = []policyv1.FSType{"image"}
	p.Spec.RunAsUser.Rule, p.Spec.SELinux.Rule = "RunAsAny", "RunAsAny"
	p.Spec.FSGroup.Rule, p.Spec.SupplementalGroups.Rule = "RunAsAny", "RunAsAny"
	if _, err := Policies([]*policyv1.PodSecurityPolicy{p}, policyv1.APIVersion); err != nil {
		t.Fatal(err)
	}
	_, err := Policies([]*policyv1.PodSecurityPolicy{p}, policyv1.LegacyPolicyAPIVersion)
	if err == nil || !strings.Contains(err.Error(), "spec.requireUserNamespace: Forbidden: requires apiVersion policy.kube-psp.io/v1") ||
		!strings.Contains(err.Error(), `spec.volumes: Unsupported value: "image"`) {
		t.Errorf("got %v", err)
	}
	if _, err := Policies(nil, "policy/v1"); err == nil {
		t.Error("unknown version accepted")
	}
}

// TestServerSetMetadataDropped: `kubectl get psp -o yaml | psp convert -f -
// | kubectl apply -f -` must not carry what the apiserver set on the old
// objects, which a new object may not have (a uid, a resourceVersion) or
// which would be stale (managedFields, the last-applied annotation).
func TestServerSetMetadataDropped(t *testing.T) {
	res, err := loader.Load([]string{"../../cmd/psp/testdata/kubectl-get-psp.yaml"}, loader.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range APIVersions {
		out, err := Policies(res.Policies, version)
		if err != nil {
			t.Fatal(err)
		}
		for _, field := range []string{"uid:", "resourceVersion:", "creationTimestamp:", "generation:", "managedFields:", "selfLink:", "last-applied-configuration"} {
			if strings.Contains(string(out), field) {
				t.Errorf("%s: %s is written:\n%s", version, field, out)
			}
		}
		for _, kept := range []string{"name: restricted", "team: platform", "seccomp.security.alpha.kubernetes.io/allowedProfileNames: runtime/default"} {
			if !strings.Contains(string(out), kept) {
				t.Errorf("%s: %s is lost:\n%s", version, kept, out)
			}
		}
	}
}

// TestRead: each path is loaded on its own and merged in order, standard
// input as "-", so a policy may come twice; an error names the path.
func TestRead(t *testing.T) {
	stdin := "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: eks.privileged}\nspec: {runAsUser: {rule: RunAsAny}, seLinux: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}\n"
	res, err := Read([]string{"../../examples/eks", "-"}, strings.NewReader(stdin), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range res.Policies {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "eks.privileged,eks.privileged" || len(res.RBAC.ClusterRoles) == 0 {
		t.Errorf("policies %v, %d ClusterRoles", names, len(res.RBAC.ClusterRoles))
	}
	if src := res.PolicySources["eks.privileged"]; src.File != "<stdin>" || src.Line != 1 {
		t.Errorf("the later source wins: %v", src)
	}
	if _, err := Read([]string{"../../examples/eks", "nope.yaml"}, nil, loader.Options{}); err == nil || !strings.Contains(err.Error(), "reading nope.yaml") {
		t.Errorf("missing path: %v", err)
	}
}

// TestWriteAndPreset: convert's output is the policies, then with
// crdGrants the changed grants; init's starts with a comment naming the
// preset and ends with its RBAC; an unknown preset is an error.
func TestWriteAndPreset(t *testing.T) {
	res, err := Read([]string{"../../examples/eks"}, nil, loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Write(res, policyv1.APIVersion, false)
	if err != nil {
		t.Fatal(err)
	}
	withGrants, err := Write(res, policyv1.APIVersion, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(withGrants), string(plain)) || !strings.Contains(string(withGrants[len(plain):]), "kind: ClusterRole\n") ||
		!strings.Contains(string(withGrants[len(plain):]), "- "+policyv1.GroupName) {
		t.Errorf("with grants:\n%s", withGrants)
	}
	out, err := Preset("baseline", policyv1.LegacyPolicyAPIVersion)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), `# kube-psp preset "baseline": `) || !strings.Contains(string(out), "apiVersion: policy/v1beta1\n") || !strings.Contains(string(out), "name: psp:baseline:authenticated") {
		t.Errorf("preset:\n%s", out)
	}
	if _, err := Preset("nope", policyv1.APIVersion); err == nil || !strings.Contains(err.Error(), `unknown preset "nope"`) {
		t.Errorf("unknown preset: %v", err)
	}
}
