package migrate

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kube-psp/kube-psp/pkg/kubeclient"
)

// Applied is what Apply did to one namespace.
type Applied struct {
	Namespace string  `json:"namespace"`
	Labels    []Label `json:"labels"`
	// DryRunWarnings are the warnings of the server's dry run: PodSecurity
	// lists there the running pods the new enforce level would refuse.
	DryRunWarnings []string `json:"dryRunWarnings,omitempty"`
	// Applied is set when the labels were written, or were already set
	// (Unchanged).
	Applied   bool `json:"applied"`
	Unchanged bool `json:"unchanged,omitempty"`
	// Skipped says why they were not.
	Skipped string `json:"skipped,omitempty"`
}

// Apply sets each namespace's changed labels (Namespace.Changes) as kubectl label --overwrite does (a
// merge patch of metadata.labels), after a server-side dry run of the same
// patch, as kubectl label --dry-run=server: kube-apiserver's PodSecurity
// plugin evaluates the namespace's running pods against a new enforce
// level and warns about those it would refuse. A namespace whose dry run
// warns so (or that PodSecurity could check only in part) keeps its labels.
// cfg's timeout bounds each request. The error is the first failed
// request; the namespaces before it are in the result.
func Apply(ctx context.Context, cfg *rest.Config, plan *Plan) ([]Applied, error) {
	warnings := &warningRecorder{}
	c := rest.CopyConfig(cfg)
	c.WarningHandlerWithContext = warnings
	c.WarningHandler = nil
	client, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, err
	}
	var out []Applied
	for _, n := range plan.Namespaces {
		a := Applied{Namespace: n.Name, Labels: n.Changes(plan.Version)}
		if len(a.Labels) == 0 {
			a.Applied, a.Unchanged = true, true
			out = append(out, a)
			continue
		}
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labelMap(a.Labels)}})
		if err != nil {
			return out, err
		}
		warnings.take()
		if _, err := client.CoreV1().Namespaces().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			return out, kubeclient.Describe(err, "patch", corev1.Resource("namespaces"), "")
		}
		a.DryRunWarnings = warnings.take()
		if rejects(a.DryRunWarnings) {
			a.Skipped = "the server's dry run says the enforce level would refuse running pods"
			out = append(out, a)
			continue
		}
		if _, err := client.CoreV1().Namespaces().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return out, kubeclient.Describe(err, "patch", corev1.Resource("namespaces"), "")
		}
		a.Applied = true
		out = append(out, a)
	}
	return out, nil
}

// rejects tells whether PodSecurity's warnings on a namespace update say
// that running pods violate the new enforce level, or that it checked only
// some of them (admission/admission.go EvaluatePodsInNamespace).
func rejects(warnings []string) bool {
	for _, w := range warnings {
		if strings.Contains(w, "violate the new PodSecurity enforce level") || strings.Contains(w, "new PodSecurity enforce level only checked against") {
			return true
		}
	}
	return false
}

// warningRecorder keeps the warnings of the responses since the last take.
type warningRecorder struct {
	mu       sync.Mutex
	warnings []string
}

func (r *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, code int, _ string, message string) {
	if code != 299 || message == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warnings = append(r.warnings, message)
}

func (r *warningRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.warnings
	r.warnings = nil
	return w
}
