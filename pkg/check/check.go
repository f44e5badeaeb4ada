// Package check runs manifests' pods through the engine as a cluster would
// admit them: what a v1.37 apiserver does before PodSecurityPolicy sees a
// pod (podcreate.Create: defaults, the serviceAccount alias, the
// ServiceAccount admission plugin), then the admit phase, then what the pod
// registry does before validating admission (podcreate.PrepareForCreate)
// and its validation of the fields the pod's OS rules out
// (podcreate.ValidateOS), then the validate phase on the admitted pod.
package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/kube-psp/kube-psp/internal/parallel"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/explain"
	"github.com/kube-psp/kube-psp/pkg/kubelet"
	"github.com/kube-psp/kube-psp/pkg/manifest"
	"github.com/kube-psp/kube-psp/pkg/podcreate"
)

// Verdict is what the cluster would do with one workload's pod: admit it
// (with which policy and changes), deny it (in which phase, why), or admit
// it and then refuse it in validation.
type Verdict struct {
	Workload manifest.Workload
	// Requester is the identity that creates the pod.
	Requester authorizer.UserInfo
	Admitted  bool
	// Policy is the admitting policy.
	Policy string
	// Changes are the fields the admitting policy defaults, without the
	// kubernetes.io/psp annotation.
	Changes []engine.Change
	// Message is the denial, exactly as the apiserver would return it.
	Message string
	// DeniedIn is the phase that denied.
	DeniedIn engine.Phase
	// Invalid is set when the admit phase admitted the pod (Policy) but the
	// apiserver's validation refuses the admitted pod (podcreate.ValidateOS:
	// a policy set Linux-only fields on a Windows pod): the pod is never
	// created. Message is then the apiserver's error.
	Invalid bool
	// Pod is the pod the admit phase received: the workload's pod after
	// podcreate.Create, as a v1.37 apiserver hands it to mutating admission.
	Pod *corev1.Pod
	// AdmittedPod is the pod the cluster stores: Pod after the admitting
	// policy's defaults, with the kubernetes.io/psp annotation, and after
	// podcreate.PrepareForCreate (what the validate phase received). Nil
	// when denied in either phase.
	AdmittedPod *corev1.Pod
	// Explanation explains the admit phase: every policy, the winner, and
	// for a denial the smallest grant or pod change that would admit it.
	Explanation explain.Explanation
	// Kubelet is, after VerifyImages, the kubelet's verdict on each
	// container of AdmittedPod with an effective runAsNonRoot.
	Kubelet []kubelet.Container
	// Running is set by `psp audit` only: how the pod, as it runs now,
	// breaks the policy that admitted it, e.g. `policy "restricted":
	// spec.containers[0].securityContext.seccompProfile: Forbidden: ...`.
	Running []string
}

// Options tune a check.
type Options struct {
	// User creates bare Pods and PodTemplates.
	User authorizer.UserInfo
	// Progress, when set, is called after each workload with the count
	// done and the total, 0 when not known (Stream).
	Progress func(done, total int)
	// ExplainAll evaluates every policy for every workload; otherwise only
	// denials are (the report of an admitted pod needs only the winner).
	ExplainAll bool
}

// Run checks every workload, in parallel on all cores; results come back in
// the workloads' order. Progress, if set, is called with the total known.
func Run(ctx context.Context, set *engine.PolicySet, authz authorizer.Authorizer, workloads []manifest.Workload, opts Options) ([]Verdict, error) {
	results := make([]Verdict, 0, len(workloads))
	progress := opts.Progress
	opts.Progress = nil
	err := Stream(ctx, set, authz, parallel.Items(workloads), opts, func(v Verdict) error {
		results = append(results, v)
		if progress != nil {
			progress(len(results), len(workloads))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// Stream checks each workload next yields, in parallel on all cores, and
// calls emit with each verdict in the workloads' order as soon as it and
// every earlier one are decided: a few workloads per core are held at
// once, however long the input. next and emit are each called from one
// goroutine; Progress, if set, after each emit with a total of 0 (not
// known). The first error of next, of a decision (naming the workload) or
// of emit stops the check and is returned.
func Stream(ctx context.Context, set *engine.PolicySet, authz authorizer.Authorizer, next func() (manifest.Workload, bool, error), opts Options, emit func(Verdict) error) error {
	type decided struct {
		v   Verdict
		err error
	}
	done := 0
	return parallel.Ordered(16*runtime.GOMAXPROCS(0), next, func(w manifest.Workload) decided {
		v, err := one(ctx, set, authz, w, opts)
		if err != nil {
			err = fmt.Errorf("%s: %s: %w", w.Source, w, err)
		}
		return decided{v, err}
	}, func(d decided) error {
		if d.err != nil {
			return d.err
		}
		if err := emit(d.v); err != nil {
			return err
		}
		if done++; opts.Progress != nil {
			opts.Progress(done, 0)
		}
		return nil
	})
}

// Files checks the workloads of manifest files as manifest.Each reads
// them, as Stream does: each verdict is emitted while later files are
// still to be read. warn receives the documents' warnings as they are
// read. The Input says what was read (no Workloads); err is a path that
// cannot be read, a decision's error or emit's.
func Files(ctx context.Context, set *engine.PolicySet, authz authorizer.Authorizer, paths []string, stdin io.Reader, read manifest.Options, opts Options, warn func(string), emit func(Verdict) error) (*manifest.Input, error) {
	var in *manifest.Input
	var readErr error
	stopped := errors.New("check stopped")
	workloads := func(yield func(manifest.Workload) bool) {
		in, readErr = manifest.Each(paths, stdin, read, warn, func(w manifest.Workload) error {
			if !yield(w) {
				return stopped
			}
			return nil
		})
	}
	pull, stop := iter.Pull(workloads)
	defer stop()
	err := Stream(ctx, set, authz, func() (manifest.Workload, bool, error) {
		w, ok := pull()
		return w, ok, nil
	}, opts, emit)
	stop() // the reading ends: in and readErr are set
	if err != nil {
		return in, err
	}
	if readErr != nil {
		return nil, readErr
	}
	return in, nil
}

func one(ctx context.Context, set *engine.PolicySet, authz authorizer.Authorizer, w manifest.Workload, opts Options) (Verdict, error) {
	r := Verdict{Workload: w, Requester: opts.User}
	if w.Creator != nil {
		r.Requester = *w.Creator
	}
	r.Pod = podcreate.Create(w.Pod, w.ServiceAccount)
	req := engine.Request{Phase: engine.PhaseAdmit, Operation: engine.OperationCreate, Namespace: w.Namespace, User: r.Requester, Pod: r.Pod}
	admit, err := engine.Decide(ctx, set, authz, req, engine.Options{ExplainAll: opts.ExplainAll})
	if err != nil {
		return r, err
	}
	c := explain.Case{Policies: set, Authorizer: authz, Request: req, Origin: func(path string) (string, string) {
		return podcreate.Origin(w.Pod, r.Pod, w.ServiceAccount, path)
	}}
	decidedWith := engine.Options{ExplainAll: opts.ExplainAll}
	if !admit.Allowed {
		r.Message, r.DeniedIn = admit.Message, engine.PhaseAdmit
		r.Explanation, err = explain.Explain(ctx, c, admit, explain.Options{DecidedWith: decidedWith})
		return r, err
	}
	// admit.Pod is the engine's own copy.
	podcreate.PrepareForCreate(admit.Pod)
	if errs := podcreate.ValidateOS(admit.Pod); len(errs) > 0 {
		// The advice names the policies that would admit the pod without
		// setting the fields: every policy is explained.
		r.Invalid, r.Policy, r.Message = true, admit.Policy, podcreate.InvalidMessage(admit.Pod, errs)
		r.Explanation, err = explain.Explain(ctx, c, admit, explain.Options{DecidedWith: decidedWith, EveryPolicy: true})
		return r, err
	}
	// An admitted pod's report needs only the winner, which admit has.
	if r.Explanation, err = explain.Explain(ctx, c, admit, explain.Options{DecidedWith: decidedWith}); err != nil {
		return r, err
	}
	req.Phase, req.Pod = engine.PhaseValidate, admit.Pod
	validate, err := engine.Decide(ctx, set, authz, req, engine.Options{})
	if err != nil {
		return r, err
	}
	if !validate.Allowed {
		r.Message, r.DeniedIn = validate.Message, engine.PhaseValidate
		return r, nil
	}
	r.Admitted, r.Policy, r.AdmittedPod = true, admit.Policy, admit.Pod
	r.Changes = slices.DeleteFunc(slices.Clone(admit.Changes), func(c engine.Change) bool {
		return c.Field == "metadata.annotations[kubernetes.io/psp]"
	})
	return r, nil
}
