// Command upstream124 runs Kubernetes v1.24.17's own PodSecurityPolicy
// admission plugin, with its own RBAC authorizer, on cases read as JSON
// lines from standard input, and writes one JSON answer line per case. It is
// the reference the differential tests in test/differential compare
// kube-psp with. It lives in the bench module so that kube-psp never imports
// k8s.io/kubernetes.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"

	"github.com/kube-psp/kube-psp/bench/upstream"
)

// Case is one admission request with the policies and RBAC in force, or,
// when ValidatePolicy is set, one policy to validate as the apiserver would.
type Case struct {
	ValidatePolicy *policyv1beta1.PodSecurityPolicy  `json:"validatePolicy,omitempty"`
	Policies       []policyv1beta1.PodSecurityPolicy `json:"policies"`
	RBAC           upstream.RBAC                     `json:"rbac"`
	Phase          string                            `json:"phase"`
	Operation      string                            `json:"operation"`
	Namespace      string                            `json:"namespace"`
	User           User                              `json:"user"`
	Pod            *corev1.Pod                       `json:"pod"`
	OldPod         *corev1.Pod                       `json:"oldPod,omitempty"`
}

// User is the requesting user.
type User struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups,omitempty"`
}

// Answer is the plugin's decision.
type Answer struct {
	Allowed bool        `json:"allowed"`
	Policy  string      `json:"policy,omitempty"`
	Message string      `json:"message,omitempty"`
	Pod     *corev1.Pod `json:"pod,omitempty"`
	Error   string      `json:"error,omitempty"`
	// Errors are the policy validation errors, for ValidatePolicy cases.
	Errors []string `json:"errors,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		var c Case
		var a Answer
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			a.Error = "decoding case: " + err.Error()
		} else {
			a = run(&c)
		}
		if err := enc.Encode(a); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out.Flush()
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(c *Case) (a Answer) {
	defer func() {
		if r := recover(); r != nil {
			a = Answer{Error: fmt.Sprintf("panic: %v", r)}
		}
	}()
	if c.ValidatePolicy != nil {
		errs, err := upstream.ValidatePolicy(c.ValidatePolicy)
		if err != nil {
			return Answer{Error: err.Error()}
		}
		return Answer{Errors: errs}
	}
	p, err := upstream.New(c.Policies, c.RBAC)
	if err != nil {
		return Answer{Error: err.Error()}
	}
	d, err := p.Decide(context.Background(), upstream.Request{Admit: c.Phase == "admit", Operation: c.Operation, Namespace: c.Namespace,
		User: c.User.Name, Groups: c.User.Groups, Pod: c.Pod, OldPod: c.OldPod})
	if err != nil {
		return Answer{Error: err.Error()}
	}
	return Answer{Allowed: d.Allowed, Policy: d.Policy, Message: d.Message, Pod: d.Pod}
}
