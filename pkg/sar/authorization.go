package sar

import (
	"fmt"

	"k8s.io/client-go/rest"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
)

// Modes of authorizing `use` in a cluster (--authorization).
const (
	// ModeRBAC evaluates the cluster's RBAC locally: exact for RBAC, no
	// apiserver call per pod.
	ModeRBAC = "rbac"
	// ModeSubjectAccessReview asks the apiserver, for clusters with webhook
	// or other authorizers.
	ModeSubjectAccessReview = "subjectaccessreview"
)

// The SubjectAccessReview client's default rate (docs/performance.md,
// "Choosing --sar-qps"): a cold decision at 100 policies asks about 600
// questions (3 API groups, the ServiceAccount and the user, each policy
// until one may be used); at 1,000 a second that is 0.6 s, within the 1 s
// target, where 500 a second took 1.2 s. The burst lets three such
// decisions start at once. The apiserver's API Priority and Fairness
// bounds kube-psp's share whatever the rate: its ServiceAccount's requests
// fall in priority level workload-low (about 245 of the default 600
// concurrent requests), and kube-psp has at most Options.Concurrency (16)
// reviews in flight per pod.
const (
	DefaultQPS   = 1000
	DefaultBurst = 2000
)

// Authorization is how a command that reads a cluster authorizes `use`:
// the mode and, in ModeSubjectAccessReview, the cache, the bounds and the
// rate (requests a second, and at once above it) of the client of its own.
type Authorization struct {
	Mode string
	Options
	QPS   float32
	Burst int
}

// DefaultAuthorization is ModeRBAC with DefaultOptions, DefaultQPS and DefaultBurst.
func DefaultAuthorization() Authorization {
	return Authorization{Mode: ModeRBAC, Options: DefaultOptions(), QPS: DefaultQPS, Burst: DefaultBurst}
}

// SubjectAccessReview reports whether c asks the apiserver.
func (c Authorization) SubjectAccessReview() bool { return c.Mode == ModeSubjectAccessReview }

// Validate checks the mode and the bounds, naming the flags of psp serve
// and psp audit that set them.
func (c Authorization) Validate() error {
	switch c.Mode {
	case ModeRBAC, ModeSubjectAccessReview:
	default:
		return fmt.Errorf("--authorization must be %s or %s, not %q", ModeRBAC, ModeSubjectAccessReview, c.Mode)
	}
	if c.TTL < 0 || c.MaxEntries < 0 || c.Timeout <= 0 {
		return fmt.Errorf("--sar-cache-ttl and --sar-cache-size must not be negative, and --sar-timeout must be positive")
	}
	if c.Concurrency <= 0 || c.QPS <= 0 || c.Burst <= 0 {
		return fmt.Errorf("--sar-concurrency, --sar-qps and --sar-burst must be positive")
	}
	return nil
}

// Authorizer validates c and returns the SubjectAccessReview authorizer,
// with a client of its own made from cfg (NewClient); nil, without error,
// in ModeRBAC, where the caller evaluates RBAC locally.
func (c Authorization) Authorizer(cfg *rest.Config) (authorizer.Authorizer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if !c.SubjectAccessReview() {
		return nil, nil
	}
	client, err := NewClient(cfg, c.QPS, c.Burst)
	if err != nil {
		return nil, err
	}
	return New(client, c.Options), nil
}
