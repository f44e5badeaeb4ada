package diff

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kube-psp/kube-psp/pkg/apis/report/v1alpha1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/check"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/manifest"
)

func admitted(policy string, changes ...engine.Change) check.Verdict {
	return check.Verdict{Admitted: true, Policy: policy, Changes: changes}
}

func denied(msg string) check.Verdict {
	return check.Verdict{Message: msg, DeniedIn: engine.PhaseAdmit}
}

func TestCompare(t *testing.T) {
	fsGroup1 := engine.Change{Field: "spec.securityContext.fsGroup", Value: int64(1)}
	fsGroup2 := engine.Change{Field: "spec.securityContext.fsGroup", Value: int64(2)}
	nonRoot := engine.Change{Field: "spec.containers[0].securityContext.runAsNonRoot", Value: true}
	nonRootPtr := true
	for _, tc := range []struct {
		name          string
		before, after check.Verdict
		want          Kind // "" for unchanged
		defaults      []FieldChange
	}{
		{name: "same policy, same defaults", before: admitted("a", fsGroup1), after: admitted("a", fsGroup1)},
		{name: "both denied, other messages", before: denied("x"), after: denied("y")},
		{name: "admitted then denied", before: admitted("a"), after: denied("x"), want: NewlyDenied},
		{name: "admitted then invalid", before: admitted("a"), after: check.Verdict{Invalid: true, Policy: "a", Message: "invalid"}, want: NewlyDenied},
		{name: "denied then admitted", before: denied("x"), after: admitted("b"), want: NewlyAdmitted},
		{name: "invalid then admitted", before: check.Verdict{Invalid: true, Policy: "a"}, after: admitted("b"), want: NewlyAdmitted},
		{name: "other policy, same defaults", before: admitted("a", fsGroup1), after: admitted("b", fsGroup1), want: DifferentPolicy},
		{name: "other policy, other defaults", before: admitted("a", fsGroup1), after: admitted("b", fsGroup2), want: DifferentPolicy,
			defaults: []FieldChange{{Field: fsGroup1.Field, Before: int64(1), After: int64(2)}}},
		{name: "same policy, other value", before: admitted("a", fsGroup1), after: admitted("a", fsGroup2), want: DifferentDefaults,
			defaults: []FieldChange{{Field: fsGroup1.Field, Before: int64(1), After: int64(2)}}},
		{name: "same policy, field no longer set", before: admitted("a", fsGroup1, nonRoot), after: admitted("a", fsGroup1), want: DifferentDefaults,
			defaults: []FieldChange{{Field: nonRoot.Field, Before: true}}},
		{name: "same policy, field newly set", before: admitted("a"), after: admitted("a", nonRoot), want: DifferentDefaults,
			defaults: []FieldChange{{Field: nonRoot.Field, After: true}}},
		{name: "a pointer and its value are the same", before: admitted("a", nonRoot), after: admitted("a", engine.Change{Field: nonRoot.Field, Value: &nonRootPtr})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Compare([]check.Verdict{tc.before}, []check.Verdict{tc.after})
			if r.Workloads != 1 {
				t.Errorf("Workloads = %d", r.Workloads)
			}
			if tc.want == "" {
				if len(r.Differences) != 0 {
					t.Errorf("want unchanged, got %+v", r.Differences)
				}
				return
			}
			if len(r.Differences) != 1 || r.Differences[0].Kind != tc.want {
				t.Fatalf("want %s, got %+v", tc.want, r.Differences)
			}
			if got := r.Differences[0].Defaults; !slices.EqualFunc(got, tc.defaults, func(a, b FieldChange) bool {
				return a.Field == b.Field && sameValue(a.Before, b.Before) && sameValue(a.After, b.After)
			}) {
				t.Errorf("defaults = %+v, want %+v", got, tc.defaults)
			}
		})
	}
}

// loadSet loads a set from the repository's examples.
func loadSet(t *testing.T, paths ...string) Set {
	t.Helper()
	if len(paths) == 0 {
		s, err := None()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for i := range paths {
		paths[i] = "../../" + paths[i]
	}
	s, _, err := LoadFiles(paths, loader.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSeedFlow is the seed article's warning: on EKS, deleting
// eks.privileged and its binding leaves only the policies the user wrote,
// and every pod they do not admit can no longer be created.
func TestSeedFlow(t *testing.T) {
	workloads, err := manifest.Read([]string{"../../examples"}, nil, manifest.Options{DefaultNamespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	user := authorizer.Impersonate("kube-psp:diff", nil)
	ctx := context.Background()

	r, err := Run(ctx, loadSet(t, "examples/eks", "examples/seed"), loadSet(t, "examples/seed"), workloads, Options{User: user})
	if err != nil {
		t.Fatal(err)
	}
	if r.Workloads != len(workloads) || len(r.Differences) != len(workloads) {
		t.Fatalf("every example changes: %d workloads, %d differences", r.Workloads, len(r.Differences))
	}
	for _, d := range r.Differences {
		if d.Before.Policy != "eks.privileged" {
			t.Errorf("%s: admitted before by %q, want eks.privileged", d.After.Workload, d.Before.Policy)
		}
		// The article's ServiceAccount app-test/app may use its policy.
		if d.After.Workload.Name == "app" {
			if d.Kind != DifferentPolicy || d.After.Policy != "example" {
				t.Errorf("app: %s by %q, want DifferentPolicy to example", d.Kind, d.After.Policy)
			}
			continue
		}
		if d.Kind != NewlyDenied || !strings.HasPrefix(d.After.Message, "PodSecurityPolicy: unable to admit pod") || len(d.After.Explanation.Policies) == 0 {
			t.Errorf("%s: %s, message %q, want NewlyDenied with the reason of policy example", d.After.Workload, d.Kind, d.After.Message)
		}
	}

	// Deleting every policy: v1.24's "no providers" for every workload.
	r, err = Run(ctx, loadSet(t, "examples/eks"), loadSet(t), workloads, Options{User: user})
	if err != nil {
		t.Fatal(err)
	}
	if n := r.Count(NewlyDenied); n != len(workloads) {
		t.Errorf("%d newly denied, want all %d", n, len(workloads))
	}
	for _, d := range r.Differences {
		if d.After.Message != engine.NoProvidersMessage {
			t.Errorf("%s: %q, want %q", d.After.Workload, d.After.Message, engine.NoProvidersMessage)
		}
	}

	// The other way round, everything is newly admitted.
	r, err = Run(ctx, loadSet(t), loadSet(t, "examples/eks"), workloads, Options{User: user})
	if err != nil {
		t.Fatal(err)
	}
	if n := r.Count(NewlyAdmitted); n != len(workloads) {
		t.Errorf("%d newly admitted, want all %d", n, len(workloads))
	}
}

func TestLoadFilesRefusesNothing(t *testing.T) {
	_, _, err := LoadFiles([]string{"../../examples/apiserver/hostnetwork-ports/daemonset.yaml"}, loader.Options{})
	if err == nil || !strings.Contains(err.Error(), `no PodSecurityPolicy or RBAC found`) || !strings.Contains(err.Error(), `"none"`) {
		t.Errorf("err = %v, want no PodSecurityPolicy or RBAC found, naming none", err)
	}
}

func TestWriteJSON(t *testing.T) {
	r := Compare([]check.Verdict{admitted("a"), denied("x"), admitted("a")}, []check.Verdict{denied("y"), denied("x"), admitted("a")})
	r.Before, r.After = []string{"old/", "more/"}, []string{"new/"}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	decoded, err := v1alpha1.Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got, ok := decoded.(*v1alpha1.DiffReport)
	if !ok || got.Kind != ReportKind || !slices.Equal(got.BeforeSet, []string{"old/", "more/"}) || !slices.Equal(got.AfterSet, []string{"new/"}) {
		t.Fatalf("header: %#v", decoded)
	}
	if s := got.Summary; s.Workloads != 3 || s.Changed != 1 || s.NewlyDenied != 1 || s.Unchanged != 2 {
		t.Errorf("summary: %+v", s)
	}
	if len(got.Items) != 1 || got.Items[0].Change != string(NewlyDenied) || !got.Items[0].Before.Admitted || got.Items[0].After.Admitted {
		t.Errorf("items: %+v", got.Items)
	}
}

func TestSummary(t *testing.T) {
	r := Compare([]check.Verdict{admitted("a"), denied("x"), admitted("a")}, []check.Verdict{denied("y"), admitted("b"), admitted("a")})
	want := "2 workloads of 3 change: 1 newly denied, 1 newly admitted, 0 different policy, 0 different defaults; 1 unchanged"
	if got := Summary(r); got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	r = Compare([]check.Verdict{admitted("a"), denied("x")}, []check.Verdict{denied("y"), denied("x")})
	want = "1 workload of 2 changes: 1 newly denied, 0 newly admitted, 0 different policy, 0 different defaults; 1 unchanged"
	if got := Summary(r); got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

func TestParseSetSource(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   SetSource
		err    string
	}{
		{values: []string{"cluster"}, want: SetSource{Cluster: true}},
		{values: []string{"none"}, want: SetSource{None: true}},
		{values: []string{"a/", "b.yaml"}, want: SetSource{Paths: []string{"a/", "b.yaml"}}},
		{values: []string{"./cluster"}, want: SetSource{Paths: []string{"./cluster"}}},
		{values: []string{"a/", "cluster"}, err: "cluster cannot be combined with paths (a path of that name is written ./cluster)"},
		{values: nil, err: "no set given"},
	} {
		got, err := ParseSetSource(tc.values)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.values, err, tc.err)
			}
			continue
		}
		if err != nil || got.Cluster != tc.want.Cluster || got.None != tc.want.None || !slices.Equal(got.Paths, tc.want.Paths) {
			t.Errorf("%q: %+v, %v; want %+v", tc.values, got, err, tc.want)
		}
	}
}

// TestRunProgress: progress reaches every workload once both sets are done.
func TestRunProgress(t *testing.T) {
	workloads, err := manifest.Read([]string{"../../examples"}, nil, manifest.Options{DefaultNamespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	last, calls := 0, 0
	_, err = Run(context.Background(), loadSet(t, "examples/eks"), loadSet(t), workloads, Options{Progress: func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if total != len(workloads) || done > total {
			t.Errorf("progress %d/%d with %d workloads", done, total, len(workloads))
		}
		last = max(last, done)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2*len(workloads) || last != len(workloads) {
		t.Errorf("%d calls, last %d; want %d calls reaching %d", calls, last, 2*len(workloads), len(workloads))
	}
}
