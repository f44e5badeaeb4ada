package sar

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// NewClient returns a SubjectAccessReview client of its own, rate limited
// to qps requests a second with bursts of burst (as kube-controller-manager's
// --kube-api-qps and --kube-api-burst), apart from the client the informers
// use. A request waits for its turn until its context ends, rather than
// failing at once when the wait would pass its deadline (client-go's
// default limiter): a question refused early would read as "not allowed"
// and could change a decision, whereas one that waits out the decision's
// budget fails the whole request by the failure policy. Reviews are sent
// as protocol buffers unless cfg names a content type.
func NewClient(cfg *rest.Config, qps float32, burst int) (authorizationclient.SubjectAccessReviewInterface, error) {
	if qps <= 0 || burst <= 0 {
		return nil, fmt.Errorf("SubjectAccessReview client: QPS and burst must be positive (got %v and %d)", qps, burst)
	}
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = qps, burst
	if c.ContentType == "" {
		// Protocol buffers, as kube-controller-manager talks to the
		// apiserver for built-in types: a review is encoded and decoded
		// on both sides, and protobuf costs them less CPU than JSON.
		c.ContentType = runtime.ContentTypeProtobuf
		c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	}
	c.RateLimiter = newWaitingLimiter(qps, burst)
	client, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("SubjectAccessReview client: %w", err)
	}
	return client.AuthorizationV1().SubjectAccessReviews(), nil
}

// waitingLimiter is a token bucket whose Wait waits until the token is due
// or the context ends, whichever comes first.
type waitingLimiter struct {
	limiter *rate.Limiter
	qps     float32
}

var _ flowcontrol.RateLimiter = (*waitingLimiter)(nil)

func newWaitingLimiter(qps float32, burst int) *waitingLimiter {
	return &waitingLimiter{limiter: rate.NewLimiter(rate.Limit(qps), burst), qps: qps}
}

func (l *waitingLimiter) TryAccept() bool { return l.limiter.Allow() }

func (l *waitingLimiter) Accept() {
	time.Sleep(l.limiter.Reserve().Delay())
}

func (l *waitingLimiter) Stop() {}

func (l *waitingLimiter) QPS() float32 { return l.qps }

func (l *waitingLimiter) Wait(ctx context.Context) error {
	r := l.limiter.Reserve()
	delay := r.Delay()
	if delay == 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.Cancel() // give the token back to the questions still waiting
		return context.Cause(ctx)
	}
}
