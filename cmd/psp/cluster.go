package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
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
	mode string
	sar  sar.Options
}

func (o *authorizationOptions) addFlags(cmd *cobra.Command, when string) {
	f := cmd.Flags()
	f.StringVar(&o.mode, "authorization", "rbac", when+"who decides whether a user or ServiceAccount may use a policy: rbac (evaluate the cluster's RBAC locally: exact for RBAC, no apiserver call per pod) or subjectaccessreview (ask the apiserver, for clusters with webhook or other authorizers)")
	f.DurationVar(&o.sar.TTL, "sar-cache-ttl", sar.DefaultOptions.TTL, "with --authorization=subjectaccessreview, how long an answer is reused (0: never); an RBAC change is in force within this time")
	f.IntVar(&o.sar.MaxEntries, "sar-cache-size", sar.DefaultOptions.MaxEntries, "with --authorization=subjectaccessreview, the most answers cached")
	f.DurationVar(&o.sar.Timeout, "sar-timeout", sar.DefaultOptions.Timeout, "with --authorization=subjectaccessreview, the time limit of one SubjectAccessReview")
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
	return nil
}

// authorizer is nil for local RBAC evaluation.
func (o *authorizationOptions) authorizer(client kubernetes.Interface) (authorizer.Authorizer, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if !o.subjectAccessReview() {
		return nil, nil
	}
	return sar.New(client.AuthorizationV1().SubjectAccessReviews(), o.sar), nil
}
