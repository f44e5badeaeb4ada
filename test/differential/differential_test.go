package differential

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	policyv1 "github.com/kube-psp/kube-psp/pkg/apis/policy/v1"
	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/rbac"
)

// upstreamCase and upstreamAnswer are the JSON protocol of bench/cmd/upstream124.
type upstreamCase struct {
	Policies  []json.RawMessage   `json:"policies"`
	RBAC      rbacObjects         `json:"rbac"`
	Phase     string              `json:"phase"`
	Operation string              `json:"operation"`
	Namespace string              `json:"namespace"`
	User      authorizer.UserInfo `json:"user"`
	Pod       *corev1.Pod         `json:"pod"`
	OldPod    *corev1.Pod         `json:"oldPod,omitempty"`
}

type upstreamAnswer struct {
	Allowed bool        `json:"allowed"`
	Policy  string      `json:"policy"`
	Message string      `json:"message"`
	Pod     *corev1.Pod `json:"pod"`
	Error   string      `json:"error"`
}

// upstream is a running bench/cmd/upstream124 process.
type upstream struct {
	in  *json.Encoder
	out *bufio.Scanner
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	if testing.Short() {
		t.Skip("differential tests build Kubernetes v1.24.17's plugin; skipped in -short mode")
	}
	bin := os.Getenv("KUBE_PSP_UPSTREAM124")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "upstream124")
		build := exec.Command("go", "build", "-o", bin, "./cmd/upstream124")
		build.Dir = filepath.Join("..", "..", "bench")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building the v1.24.17 reference (bench/cmd/upstream124): %v\n%s", err, out)
		}
	}
	cmd := exec.Command(bin)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	return &upstream{in: json.NewEncoder(stdin), out: sc}
}

func (u *upstream) decide(t *testing.T, c *upstreamCase) upstreamAnswer {
	t.Helper()
	if err := u.in.Encode(c); err != nil {
		t.Fatalf("sending case: %v", err)
	}
	if !u.out.Scan() {
		t.Fatalf("reference exited: %v", u.out.Err())
	}
	var a upstreamAnswer
	if err := json.Unmarshal(u.out.Bytes(), &a); err != nil {
		t.Fatalf("decoding answer: %v", err)
	}
	if a.Error != "" {
		t.Fatalf("reference failed: %s", a.Error)
	}
	return a
}

func caseCount(t *testing.T) int {
	n := 2000
	if s := os.Getenv("KUBE_PSP_DIFF_CASES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("KUBE_PSP_DIFF_CASES: %v", err)
		}
		n = v
	}
	return n
}

// TestDifferential decides generated requests with kube-psp and with the
// real v1.24.17 plugin and requires the same decision, policy, message and
// admitted pod. Seeds are the case numbers, so a failure names a case that
// KUBE_PSP_DIFF_SEED reproduces alone.
func TestDifferential(t *testing.T) {
	up := startUpstream(t)
	first, n := 0, caseCount(t)
	if s := os.Getenv("KUBE_PSP_DIFF_SEED"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("KUBE_PSP_DIFF_SEED: %v", err)
		}
		first, n = v, 1
	}
	stats := map[string]int{}
	failures := 0
	for seed := first; seed < first+n && failures < 5; seed++ {
		if !runCase(t, up, seed, stats) {
			failures++
		}
	}
	t.Logf("cases by outcome: %v", stats)
	if stats["admit allowed"] == 0 || stats["admit denied"] == 0 || stats["validate allowed"] == 0 || stats["validate denied"] == 0 {
		t.Errorf("the generator no longer covers every outcome: %v", stats)
	}
}

func runCase(t *testing.T, up *upstream, seed int, stats map[string]int) bool {
	t.Helper()
	g := gen{rand.New(rand.NewPCG(uint64(seed), 42))}
	names := slices.Clone(policyNames)
	g.r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	policies := make([]*policyv1.PodSecurityPolicy, 1+g.r.IntN(4))
	for i := range policies {
		policies[i] = g.policy(names[i])
	}
	objs := g.rbac(policies)
	user := pick(g,
		authorizer.UserInfo{Name: "alice", Groups: []string{"system:authenticated"}},
		authorizer.UserInfo{Name: "bob", Groups: []string{"system:authenticated"}},
		authorizer.UserInfo{Name: "system:serviceaccount:kube-system:replicaset-controller", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}},
		authorizer.UserInfo{Name: "root", Groups: []string{"system:masters", "system:authenticated"}},
	)
	namespace := pick(g, "ns", "ns", "other")
	pod := g.pod()
	pod.Namespace = namespace

	set, err := engine.NewPolicySet(policies)
	if err != nil {
		t.Fatalf("seed %d: generated policies are invalid: %v", seed, err)
	}
	authz := rbac.NewIndex(rbac.Objects{Roles: objs.Roles, ClusterRoles: objs.ClusterRoles, RoleBindings: objs.RoleBindings, ClusterRoleBindings: objs.ClusterRoleBindings})

	ok := compare(t, up, seed, set, authz, policies, objs, engine.Request{Phase: engine.PhaseAdmit, Operation: engine.OperationCreate, Namespace: namespace, User: user, Pod: pod}, stats)
	// Validate what the admit phase produced (as the apiserver would), or the pod as sent.
	d, _ := engine.Decide(context.Background(), set, authz, engine.Request{Phase: engine.PhaseAdmit, Operation: engine.OperationCreate, Namespace: namespace, User: user, Pod: pod}, engine.Options{})
	next := pod
	if d.Allowed && g.chance(0.8) {
		next = d.Pod
	}
	req := engine.Request{Phase: engine.PhaseValidate, Operation: engine.OperationCreate, Namespace: namespace, User: user, Pod: next}
	if g.chance(0.2) {
		old := next.DeepCopy()
		next = next.DeepCopy()
		next.Labels = map[string]string{"changed": "true"}
		req.Operation, req.Pod, req.OldPod = engine.OperationUpdate, next, old
	}
	return compare(t, up, seed, set, authz, policies, objs, req, stats) && ok
}

func compare(t *testing.T, up *upstream, seed int, set *engine.PolicySet, authz authorizer.Authorizer, policies []*policyv1.PodSecurityPolicy, objs rbacObjects, req engine.Request, stats map[string]int) bool {
	t.Helper()
	ours, err := engine.Decide(context.Background(), set, authz, req, engine.Options{})
	if err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}
	// SubjectAccessReview mode asks concurrently and skips what cannot win:
	// the same decision.
	asked, err := engine.Decide(context.Background(), set, concurrent{authz}, req, engine.Options{})
	if err != nil || asked.Allowed != ours.Allowed || asked.Policy != ours.Policy || asked.Message != ours.Message || !equality.Semantic.DeepEqual(asked.Pod, ours.Pod) {
		t.Errorf("seed %d (%s): asked concurrently, the decision differs: %+v, %v", seed, req.Phase, asked, err)
		return false
	}
	c := &upstreamCase{RBAC: objs, Phase: string(req.Phase), Operation: string(req.Operation), Namespace: req.Namespace, User: req.User, Pod: req.Pod, OldPod: req.OldPod}
	if req.Phase == engine.PhaseValidate {
		// The pod as v1.24's apiserver handed it to validating admission.
		c.Pod, c.OldPod = v124SeccompSkew(req.Pod), v124SeccompSkew(req.OldPod)
	}
	for _, p := range policies {
		legacy := p.DeepCopy()
		legacy.APIVersion, legacy.Kind = policyv1.LegacyPolicyAPIVersion, policyv1.Kind
		raw, err := json.Marshal(legacy)
		if err != nil {
			t.Fatal(err)
		}
		c.Policies = append(c.Policies, raw)
	}
	theirs := up.decide(t, c)
	outcome := string(req.Phase) + " " + map[bool]string{true: "allowed", false: "denied"}[theirs.Allowed]
	stats[outcome]++

	problems := differences(ours, theirs, req)
	if len(problems) > 0 && req.Phase == engine.PhaseValidate && seccompUnsetDifference(ours) {
		// Documented: kube-psp refused a container that runs without a
		// seccomp profile field. Given the pod as v1.24's apiserver handed it
		// over (annotations copied to fields), kube-psp must decide exactly
		// as the reference.
		skewed := req
		skewed.Pod, skewed.OldPod = c.Pod, c.OldPod
		again, err := engine.Decide(context.Background(), set, authz, skewed, engine.Options{})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if problems = differences(again, theirs, skewed); len(problems) == 0 {
			stats[string(req.Phase)+": documented difference, container without a seccomp profile field"]++
			return true
		}
		problems = append([]string{"with the annotations copied to fields:"}, problems...)
	}
	if len(problems) > 0 {
		in, _ := json.Marshal(c)
		t.Errorf("seed %d (%s): %s\ncase: %s", seed, req.Phase, strings.Join(problems, "\n "), in)
		return false
	}
	return true
}

// differences lists how kube-psp's decision differs from the reference's,
// beyond the documented differences expectedAdmittedPod models.
func differences(ours engine.Decision, theirs upstreamAnswer, req engine.Request) []string {
	var problems []string
	if ours.Allowed != theirs.Allowed {
		problems = append(problems, fmt.Sprintf("allowed: kube-psp %v, v1.24 %v", ours.Allowed, theirs.Allowed))
	}
	if theirs.Allowed && !ours.Skipped && ours.Policy != theirs.Policy {
		problems = append(problems, fmt.Sprintf("policy: kube-psp %q, v1.24 %q", ours.Policy, theirs.Policy))
	}
	if !theirs.Allowed && !sameDenial(ours, theirs.Message) {
		problems = append(problems, fmt.Sprintf("message:\n   kube-psp %s\n   v1.24    %s", ours.Message, theirs.Message))
	}
	if theirs.Allowed && ours.Allowed && req.Phase == engine.PhaseAdmit {
		if a, b := normalize(ours.Pod), normalize(expectedAdmittedPod(theirs.Pod, req.Pod)); !equality.Semantic.DeepEqual(a, b) {
			oj, _ := json.Marshal(a)
			tj, _ := json.Marshal(b)
			problems = append(problems, fmt.Sprintf("admitted pod:\n   kube-psp %s\n   v1.24    %s", oj, tj))
		}
	}
	return problems
}

// concurrent makes the engine ask its questions as it asks
// SubjectAccessReviews: concurrently, with nothing cached.
type concurrent struct{ authorizer.Authorizer }

func (concurrent) Concurrency() int { return 4 }

func (concurrent) Cached(authorizer.Attributes) (bool, string, bool) { return false, "", false }

// sameDenial accepts v1.24's message when it is kube-psp's with the
// policies' error groups in another order: v1.24 collected them from a map,
// in random order; kube-psp uses policy order.
func sameDenial(ours engine.Decision, theirs string) bool {
	if ours.Message == theirs {
		return true
	}
	var groups []string
	for _, a := range ours.Attempts {
		if a.Outcome == engine.OutcomeInvalid && a.Authorization != nil && a.Authorization.Allowed {
			groups = append(groups, strings.TrimSuffix(strings.TrimPrefix(a.Errors.String(), "["), "]"))
		}
	}
	prefix, _, _ := strings.Cut(ours.Message, "[")
	var try func(rest []string, acc []string) bool
	try = func(rest []string, acc []string) bool {
		if len(rest) == 0 {
			return prefix+"["+strings.Join(acc, " ")+"]" == theirs
		}
		for i := range rest {
			next := append(slices.Clone(rest[:i]), rest[i+1:]...)
			if try(next, append(acc, rest[i])) {
				return true
			}
		}
		return false
	}
	return len(groups) <= 6 && try(groups, nil)
}

// normalize removes differences that are not decisions: an empty security
// context equals none, and the internal-to-v1 conversion fills the
// deprecated serviceAccount field.
func normalize(in *corev1.Pod) *corev1.Pod {
	p := in.DeepCopy()
	p.Spec.DeprecatedServiceAccount = ""
	if p.Spec.SecurityContext != nil && equality.Semantic.DeepEqual(*p.Spec.SecurityContext, corev1.PodSecurityContext{}) {
		p.Spec.SecurityContext = nil
	}
	clean := func(c *corev1.SecurityContext) *corev1.SecurityContext {
		if c != nil && equality.Semantic.DeepEqual(*c, corev1.SecurityContext{}) {
			return nil
		}
		return c
	}
	for i := range p.Spec.InitContainers {
		p.Spec.InitContainers[i].SecurityContext = clean(p.Spec.InitContainers[i].SecurityContext)
	}
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].SecurityContext = clean(p.Spec.Containers[i].SecurityContext)
	}
	for i := range p.Spec.EphemeralContainers {
		p.Spec.EphemeralContainers[i].SecurityContext = clean(p.Spec.EphemeralContainers[i].SecurityContext)
	}
	for i := range p.Spec.Volumes {
		if pr := p.Spec.Volumes[i].Projected; pr != nil {
			for j := range pr.Sources {
				// The internal type has no pointer: nil comes back as 0.
				if t := pr.Sources[j].ServiceAccountToken; t != nil && t.ExpirationSeconds != nil && *t.ExpirationSeconds == 0 {
					t.ExpirationSeconds = nil
				}
			}
		}
	}
	if len(p.Annotations) == 0 {
		p.Annotations = nil
	}
	return p
}
