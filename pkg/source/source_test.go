package source

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
)

const policy = `apiVersion: policy/v1beta1
kind: PodSecurityPolicy
metadata: {name: %s}
spec: {runAsUser: {rule: RunAsAny}, seLinux: {rule: RunAsAny}, supplementalGroups: {rule: RunAsAny}, fsGroup: {rule: RunAsAny}}
`

func TestFilesReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	write := func(content string) {
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var loads, failures int
	f := NewFiles([]string{dir}, nil, loader.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)), func(s *Snapshot, err error) {
		if err != nil {
			failures++
		} else {
			loads++
		}
	})
	if f.Current() != nil {
		t.Fatal("a snapshot before loading")
	}
	write(fmt.Sprintf(policy, "a"))
	if err := f.Load(); err != nil {
		t.Fatal(err)
	}
	first := f.Current()
	if first.Policies.Len() != 1 || first.Version == "" {
		t.Fatalf("snapshot %+v", first)
	}
	f.ReloadIfChanged()
	if f.Current() != first || loads != 1 {
		t.Error("an unchanged tree must not reload")
	}
	write(fmt.Sprintf(policy, "a") + "---\n" + fmt.Sprintf(policy, "b"))
	f.ReloadIfChanged()
	if f.Current().Policies.Len() != 2 || loads != 2 {
		t.Errorf("change not loaded: %d policies, %d loads", f.Current().Policies.Len(), loads)
	}
	good := f.Current()
	write("apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: bad}\nspec: {}\n")
	f.ReloadIfChanged()
	f.ReloadIfChanged()
	if f.Current() != good || failures != 1 {
		t.Errorf("a broken file must keep the last good snapshot and be reported once: failures=%d", failures)
	}
	// A reload that finds no policy at all (a ConfigMap emptied by mistake)
	// is a failure too, not an empty set that denies every pod.
	write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
	f.ReloadIfChanged()
	if f.Current() != good || failures != 2 {
		t.Errorf("a reload without policies must keep the last good snapshot and be reported: failures=%d", failures)
	}
}

// TestFilesKinds: serve's --policies take policies and --rbac RBAC, as in
// check; the same directory given to both may hold both.
func TestFilesKinds(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(fmt.Sprintf(policy, "a")), 0o644); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := NewFiles(nil, []string{dir}, loader.Options{}, log, nil).Load(); err == nil {
		t.Error("a policy given as RBAC was loaded")
	}
	if err := NewFiles([]string{dir}, []string{dir}, loader.Options{}, log, nil).Load(); err == nil || !strings.Contains(err.Error(), "no RBAC") {
		t.Errorf("a directory given to --rbac without RBAC: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := NewFiles([]string{dir}, []string{dir}, loader.Options{}, log, nil)
	if err := f.Load(); err != nil || f.Current().Policies.Len() != 1 {
		t.Errorf("one directory for both: %v", err)
	}
}

// TestPoliciesValidatedOncePerLoad pins that a policy read from files is
// defaulted and validated once per load, by the loader, where the error
// can name its file and line: Build compiles what the loader accepted
// without validating it again. A policy broken after loading shows it:
// Build takes it, where a second validation (engine.NewPolicySet's) refuses it.
func TestPoliciesValidatedOncePerLoad(t *testing.T) {
	if _, err := loader.LoadReader("p.yaml", strings.NewReader(strings.Replace(fmt.Sprintf(policy, "a"), "runAsUser: {rule: RunAsAny}", "runAsUser: {rule: Sometimes}", 1)), loader.Options{}); err == nil ||
		!strings.Contains(err.Error(), `p.yaml: document 1 (line 1): PodSecurityPolicy "a" is invalid: spec.runAsUser.rule: Unsupported value: "Sometimes"`) {
		t.Fatalf("the loader validates: got %v", err)
	}
	res, err := loader.LoadReader("p.yaml", strings.NewReader(fmt.Sprintf(policy, "a")+"---\n"+fmt.Sprintf(policy, "b")), loader.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Policies[0].Spec.AllowPrivilegeEscalation == nil {
		t.Fatal("the loader did not default the policy")
	}
	res.Policies[0].Spec.RunAsUser.Rule = "Sometimes"
	if _, err := engine.NewPolicySet(res.Policies); err == nil {
		t.Fatal("engine.NewPolicySet accepted an invalid policy")
	}
	snap, err := Build(res, "")
	if err != nil {
		t.Fatalf("Build validated the loaded policies again: %v", err)
	}
	if got := len(snap.Policies.Policies()); got != 2 {
		t.Errorf("got %d policies, want 2", got)
	}
}

// TestOffline: without paths the preset is read; policies without RBAC
// warn that nobody may use them; an unknown preset is an error.
func TestOffline(t *testing.T) {
	_, snap, warnings, err := Offline{Preset: "baseline"}.Load()
	if err != nil || snap.Policies.Len() != 3 || len(warnings) != 0 {
		t.Fatalf("preset: %v policies, warnings %q, %v", snap, warnings, err)
	}
	if _, _, _, err := (Offline{Preset: "nope"}).Load(); err == nil || !strings.Contains(err.Error(), `unknown preset "nope"`) {
		t.Errorf("unknown preset: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(fmt.Sprintf(policy, "a")), 0o644); err != nil {
		t.Fatal(err)
	}
	res, snap, warnings, err := Offline{PolicyPaths: []string{dir}, Preset: "baseline"}.Load()
	if err != nil || len(res.Policies) != 1 || snap.Policies.Len() != 1 {
		t.Fatalf("files: %v, %v", res, err)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "no --rbac given: nobody may use any policy") {
		t.Errorf("warnings %q", warnings)
	}
}

// BenchmarkCompileLoaded compiles 300 loaded policies as Build does (once
// validated, by the loader) and as before (validated again by
// engine.NewPolicySet), side by side.
func BenchmarkCompileLoaded(b *testing.B) {
	var doc strings.Builder
	for i := range 300 {
		fmt.Fprintf(&doc, "---\n"+policy, fmt.Sprintf("p%03d", i))
	}
	res, err := loader.LoadReader("p.yaml", strings.NewReader(doc.String()), loader.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("FromValid", func(b *testing.B) {
		for b.Loop() {
			if _, err := engine.NewPolicySetFromValid(res.Policies); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ValidatedAgain", func(b *testing.B) {
		for b.Loop() {
			if _, err := engine.NewPolicySet(res.Policies); err != nil {
				b.Fatal(err)
			}
		}
	})
}
