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

// authorizationOptions are the flags of sar.Authorization: who decides policy use
// in a cluster.
type authorizationOptions struct{ cfg sar.Authorization }

func (o *authorizationOptions) addFlags(cmd *cobra.Command, when string) {
	f, d := cmd.Flags(), sar.DefaultAuthorization()
	f.StringVar(&o.cfg.Mode, "authorization", d.Mode, when+"who decides whether a user or ServiceAccount may use a policy: rbac (evaluate the cluster's RBAC locally: exact for RBAC, no apiserver call per pod) or subjectaccessreview (ask the apiserver, for clusters with webhook or other authorizers)")
	f.DurationVar(&o.cfg.TTL, "sar-cache-ttl", d.TTL, "with --authorization=subjectaccessreview, how long an answer is reused (0: never): an RBAC change drops the answers it may change at once, so this bounds changes no RBAC object shows (a webhook authorizer's)")
	f.IntVar(&o.cfg.MaxEntries, "sar-cache-size", d.MaxEntries, "with --authorization=subjectaccessreview, the most answers cached")
	f.DurationVar(&o.cfg.Timeout, "sar-timeout", d.Timeout, "with --authorization=subjectaccessreview, the time limit of one SubjectAccessReview")
	f.IntVar(&o.cfg.Concurrency, "sar-concurrency", d.Concurrency, "with --authorization=subjectaccessreview, the most SubjectAccessReviews one admission request has in flight at once")
	f.Float32Var(&o.cfg.QPS, "sar-qps", d.QPS, "with --authorization=subjectaccessreview, the SubjectAccessReviews per second kube-psp's client may send on average (its own client, as kube-controller-manager's --kube-api-qps)")
	f.IntVar(&o.cfg.Burst, "sar-burst", d.Burst, "with --authorization=subjectaccessreview, the SubjectAccessReviews kube-psp's client may send at once above --sar-qps")
}

func (o *authorizationOptions) subjectAccessReview() bool { return o.cfg.SubjectAccessReview() }
func (o *authorizationOptions) validate() error           { return o.cfg.Validate() }

// authorizer is nil for local RBAC evaluation (sar.Authorization.Authorizer).
func (o *authorizationOptions) authorizer(cfg *rest.Config) (authorizer.Authorizer, error) {
	return o.cfg.Authorizer(cfg)
}

// addNamespaceFlags adds -n and -A, worded alike on every command that
// reads a live cluster (audit, diff, generate, migrate pss). With
// manifests, -n also names the namespace of objects that have none,
// "default" unless given: that default is for manifests only, so the help
// says so in words instead of pflag's (default "default"), which would
// contradict -A's being the default on a cluster. When namespace is
// already defined (by psp check's input flags), only its help changes.
func addNamespaceFlags(cmd *cobra.Command, namespace *string, all *bool, manifests bool) {
	usage := "on a cluster, this namespace only"
	if manifests {
		usage = `with -f, the namespace of objects that have none (default "default"); ` + usage
	}
	f := cmd.Flags()
	if n := f.Lookup("namespace"); n != nil {
		n.Usage, n.DefValue = usage, ""
	} else {
		f.StringVarP(namespace, "namespace", "n", "", usage)
	}
	f.BoolVarP(all, "all-namespaces", "A", false, "on a cluster, every namespace (the default when --namespace is not given)")
}
