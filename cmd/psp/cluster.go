package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/kubeclient"
	"github.com/kube-psp/kube-psp/pkg/sar"
)

// connectionOptions are the flags that reach a cluster, as kubectl's.
type connectionOptions struct {
	kubeconfig     string
	context        string
	requestTimeout string
}

// addFlags adds --kubeconfig, --context and --request-timeout, as
// kubectl's; kubeconfigMore ends --kubeconfig's help, timeoutMore
// --request-timeout's.
func (o *connectionOptions) addFlags(cmd *cobra.Command, kubeconfigMore, timeoutMore string) {
	cmd.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file"+kubeconfigMore+" (default: $KUBECONFIG or ~/.kube/config)")
	cmd.Flags().StringVar(&o.context, "context", "", "kubeconfig context (default: the current one)")
	o.addRequestTimeoutFlag(cmd, timeoutMore)
}

func (o *connectionOptions) addRequestTimeoutFlag(cmd *cobra.Command, more string) {
	cmd.Flags().StringVar(&o.requestTimeout, "request-timeout", kubeclient.DefaultRequestTimeout.String(),
		"the longest wait for the apiserver's answer to one request, as kubectl's: a duration (1s, 2m) or seconds; 0 waits forever"+more)
}

// connect reaches a cluster: from inside a pod, or with a kubeconfig found
// as kubectl finds it (the file given, else $KUBECONFIG, else
// ~/.kube/config) and its current context or the one named.
func (o *connectionOptions) connect(inCluster bool) (*kubeclient.Clients, time.Duration, error) {
	timeout, err := clientcmd.ParseTimeout(o.requestTimeout)
	if err != nil {
		return nil, 0, fmt.Errorf("--request-timeout: %w", err)
	}
	clients, err := kubeclient.Connect(kubeclient.Options{Kubeconfig: o.kubeconfig, Context: o.context, InCluster: inCluster, RequestTimeout: timeout})
	return clients, timeout, err
}

// authorizationOptions choose who decides policy use in a cluster.
type authorizationOptions struct {
	mode  string
	sar   sar.Options
	qps   float32
	burst int
}

// The SubjectAccessReview client's default rate: a cold decision at 100
// policies asks about 600 questions (3 API groups, the ServiceAccount and
// the user, each policy until one may be used), which must fit the
// decision budget. A review costs the apiserver no storage; its API
// Priority and Fairness still bounds kube-psp's share.
const (
	defaultSARQPS   = 500
	defaultSARBurst = 1000
)

func (o *authorizationOptions) addFlags(cmd *cobra.Command, when string) {
	f := cmd.Flags()
	f.StringVar(&o.mode, "authorization", "rbac", when+"who decides whether a user or ServiceAccount may use a policy: rbac (evaluate the cluster's RBAC locally: exact for RBAC, no apiserver call per pod) or subjectaccessreview (ask the apiserver, for clusters with webhook or other authorizers)")
	f.DurationVar(&o.sar.TTL, "sar-cache-ttl", sar.DefaultOptions().TTL, "with --authorization=subjectaccessreview, how long an answer is reused (0: never): an RBAC change drops every answer at once, so this bounds changes no RBAC object shows (a webhook authorizer's)")
	f.IntVar(&o.sar.MaxEntries, "sar-cache-size", sar.DefaultOptions().MaxEntries, "with --authorization=subjectaccessreview, the most answers cached")
	f.DurationVar(&o.sar.Timeout, "sar-timeout", sar.DefaultOptions().Timeout, "with --authorization=subjectaccessreview, the time limit of one SubjectAccessReview")
	f.IntVar(&o.sar.Concurrency, "sar-concurrency", sar.DefaultOptions().Concurrency, "with --authorization=subjectaccessreview, the most SubjectAccessReviews one admission request has in flight at once")
	f.Float32Var(&o.qps, "sar-qps", defaultSARQPS, "with --authorization=subjectaccessreview, the SubjectAccessReviews per second kube-psp's client may send on average (its own client, as kube-controller-manager's --kube-api-qps)")
	f.IntVar(&o.burst, "sar-burst", defaultSARBurst, "with --authorization=subjectaccessreview, the SubjectAccessReviews kube-psp's client may send at once above --sar-qps")
}

func (o *authorizationOptions) subjectAccessReview() bool { return o.mode == "subjectaccessreview" }

func (o *authorizationOptions) validate() error {
	switch o.mode {
	case "rbac", "subjectaccessreview":
	default:
		return fmt.Errorf("--authorization must be rbac or subjectaccessreview, not %q", o.mode)
	}
	if o.sar.TTL < 0 || o.sar.MaxEntries < 0 || o.sar.Timeout <= 0 {
		return fmt.Errorf("--sar-cache-ttl and --sar-cache-size must not be negative, and --sar-timeout must be positive")
	}
	if o.sar.Concurrency <= 0 || o.qps <= 0 || o.burst <= 0 {
		return fmt.Errorf("--sar-concurrency, --sar-qps and --sar-burst must be positive")
	}
	return nil
}

// authorizer is nil for local RBAC evaluation; cfg is the connection the
// SubjectAccessReview client (with its own rate limit) is made from.
func (o *authorizationOptions) authorizer(cfg *rest.Config) (authorizer.Authorizer, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if !o.subjectAccessReview() {
		return nil, nil
	}
	client, err := sar.NewClient(cfg, o.qps, o.burst)
	if err != nil {
		return nil, err
	}
	return sar.New(client, o.sar), nil
}
