// Package kubeclient connects kube-psp's cluster commands (audit, serve
// --kubeconfig or --in-cluster) to an apiserver as kubectl does (the
// kubeconfig found as kubectl finds it, or the pod's ServiceAccount), with
// every request bounded by --request-timeout, and turns the errors of
// reading the cluster into messages that name what is missing: the
// apiserver, the CRD, a permission. It knows nothing of policies.
package kubeclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/transport"
)

// DefaultRequestTimeout is --request-timeout's default. kubectl's is 0 (no
// limit), which let `psp audit` wait forever on an apiserver that accepts
// connections and never answers; 30 s is the longest a one-shot command
// should sit silent, and far above a healthy apiserver's list latency.
const DefaultRequestTimeout = 30 * time.Second

// Options say how to reach the cluster.
type Options struct {
	// Kubeconfig is the file to read; empty: $KUBECONFIG, then
	// ~/.kube/config, as kubectl.
	Kubeconfig string
	// Context is the kubeconfig context; empty: its current context.
	Context string
	// InCluster uses the pod's ServiceAccount instead of a kubeconfig.
	InCluster bool
	// RequestTimeout bounds each request, as kubectl's --request-timeout:
	// a list until its whole answer is read, a watch until the apiserver
	// starts answering (a watch then lasts as long as the apiserver keeps
	// it). 0: no limit.
	RequestTimeout time.Duration
}

// Clients reach one cluster.
type Clients struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// Metadata reads objects' metadata only (the RBAC change watch of
	// SubjectAccessReview mode).
	Metadata metadata.Interface
	// Config is the connection, for clients of their own (the
	// SubjectAccessReview client has its own rate limit).
	Config *rest.Config
}

// Connect loads the configuration and makes the clients. Nothing is sent
// to the apiserver yet.
func Connect(opts Options) (*Clients, error) {
	var cfg *rest.Config
	var err error
	if opts.InCluster {
		cfg, err = rest.InClusterConfig()
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = opts.Kubeconfig
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: opts.Context}).ClientConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	cfg.UserAgent = "kube-psp"
	if opts.RequestTimeout > 0 {
		// Not rest.Config.Timeout: that is http.Client.Timeout, which also
		// cuts every watch of the informers after that time.
		cfg.WrapTransport = transport.Wrappers(cfg.WrapTransport, func(rt http.RoundTripper) http.RoundTripper {
			return &timeoutTransport{next: rt, timeout: opts.RequestTimeout}
		})
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to the cluster: %w", err)
	}
	return &Clients{Kube: kube, Dynamic: dyn, Metadata: md, Config: cfg}, nil
}

// TimeoutError is a request that got no (complete) answer within
// --request-timeout.
type TimeoutError struct {
	Host    string
	Timeout time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("the apiserver at %s did not answer within %s (--request-timeout)", e.Host, e.Timeout)
}

// timeoutTransport bounds a request by a timeout: until its body is read
// for most requests, until the response starts for a watch.
type timeoutTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (t *timeoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	timedOut := &TimeoutError{Host: req.URL.Scheme + "://" + req.URL.Host, Timeout: t.timeout}
	timer := time.AfterFunc(t.timeout, func() { cancel(timedOut) })
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		timer.Stop()
		cause := context.Cause(ctx)
		cancel(nil)
		if cause == error(timedOut) {
			return nil, timedOut
		}
		return nil, err
	}
	if isWatch(req) {
		timer.Stop()
	}
	resp.Body = &timeoutBody{ReadCloser: resp.Body, ctx: ctx, timedOut: timedOut, done: func() { timer.Stop(); cancel(nil) }}
	return resp, nil
}

// isWatch reports a watch request: ?watch=true, or the old /watch/ paths.
func isWatch(req *http.Request) bool {
	w := req.URL.Query().Get("watch")
	return w == "true" || w == "1" || strings.Contains(req.URL.Path, "/watch/")
}

// timeoutBody ends the request's context when the body is closed, and
// reads a read cut by the timeout as the TimeoutError.
type timeoutBody struct {
	io.ReadCloser
	ctx      context.Context
	timedOut *TimeoutError
	done     func()
}

func (b *timeoutBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && context.Cause(b.ctx) == error(b.timedOut) {
		return n, b.timedOut
	}
	return n, err
}

func (b *timeoutBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}

// Describe turns an error of a request about resource (verb "list",
// "watch" for an informer's list and watch, ...) into one that says what
// is missing:
//   - the apiserver cannot be reached (connection refused, no route, DNS):
//     "cannot reach the apiserver at URL: ...";
//   - it did not answer in time: the TimeoutError;
//   - the resource type is not served (a missing CRD): "the server doesn't
//     have a resource type R", as kubectl says, with hint appended;
//   - the identity may not: the apiserver's "R is forbidden: User "u"
//     cannot list resource ..." message, and the verbs kube-psp needs;
//   - the credentials are refused (401).
//
// Anything else is wrapped with the verb and resource. The result wraps err.
func Describe(err error, verb string, resource schema.GroupResource, hint string) error {
	if err == nil {
		return nil
	}
	var timedOut *TimeoutError
	var urlErr *url.Error
	// The apiserver's own message, without what client-go put before it
	// ("failed to list *v1.Role: ").
	status := err.Error()
	var apiStatus apierrors.APIStatus
	if errors.As(err, &apiStatus) && apiStatus.Status().Message != "" {
		status = apiStatus.Status().Message
	}
	switch {
	case errors.As(err, &timedOut):
		return fmt.Errorf("%s %s: %w", verbing(verb), resource, timedOut)
	case apierrors.IsNotFound(err) && (builtIn(resource) || notKubernetes(apiStatus)):
		// Every apiserver serves the built-in types, and answers 404 with
		// a Status: a server that does neither is not one.
		return &describedError{msg: fmt.Sprintf("the server doesn't have a resource type %s, which every Kubernetes apiserver serves: is the kubeconfig's server (or --context) a Kubernetes apiserver? Check it with kubectl cluster-info", resource), err: err}
	case apierrors.IsNotFound(err):
		msg := fmt.Sprintf("the server doesn't have a resource type %s", resource)
		if hint != "" {
			msg += "; " + hint
		}
		return &describedError{msg: msg, err: err}
	case apierrors.IsForbidden(err):
		needs := verb
		if verb == "watch" {
			needs = "list and watch" // an informer does both
		}
		return &describedError{msg: fmt.Sprintf("%s (kube-psp needs %s on %s)", status, needs, resource), err: err}
	case apierrors.IsUnauthorized(err):
		return &describedError{msg: fmt.Sprintf("the apiserver refused the credentials (check the kubeconfig's user or the ServiceAccount token): %s", status), err: err}
	case errors.As(err, &urlErr):
		host := urlErr.URL
		if u, perr := url.Parse(urlErr.URL); perr == nil {
			host = u.Scheme + "://" + u.Host
		}
		if utilnet.IsConnectionRefused(err) {
			return fmt.Errorf("cannot reach the apiserver at %s (is the kubeconfig's server right, and is the apiserver running?): %w", host, urlErr.Err)
		}
		return fmt.Errorf("cannot reach the apiserver at %s: %w", host, urlErr.Err)
	}
	return fmt.Errorf("%s %s: %w", verbing(verb), resource, err)
}

// builtIn reports whether a resource is one of Kubernetes' own (the core
// group, apps, batch, policy, *.k8s.io), which no missing CRD explains.
func builtIn(r schema.GroupResource) bool {
	return !strings.Contains(r.Group, ".") || strings.HasSuffix(r.Group, ".k8s.io")
}

// notKubernetes reports whether a 404 came without a Kubernetes Status
// body (client-go then makes one, with an UnexpectedServerResponse cause):
// a web server, not an apiserver.
func notKubernetes(status apierrors.APIStatus) bool {
	if status == nil || status.Status().Details == nil {
		return false
	}
	for _, c := range status.Status().Details.Causes {
		if c.Type == metav1.CauseTypeUnexpectedServerResponse {
			return true
		}
	}
	return false
}

// describedError says what is missing in its own words, and wraps the
// error it describes for errors.Is and errors.As.
type describedError struct {
	msg string
	err error
}

func (e *describedError) Error() string { return e.msg }
func (e *describedError) Unwrap() error { return e.err }

func verbing(verb string) string {
	switch verb {
	case "list":
		return "listing"
	case "watch":
		return "watching"
	case "get":
		return "getting"
	case "create":
		return "creating"
	}
	return verb
}
