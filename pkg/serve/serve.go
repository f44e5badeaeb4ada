// Package serve runs kube-psp's admission webhook server: HTTPS (TLS 1.2 or
// newer) with certificates reloaded on rotation, /mutate and /validate,
// /healthz, /readyz and /metrics, policies and RBAC reloaded from files on
// change and on SIGHUP, and a graceful shutdown on SIGTERM that finishes the
// requests in flight.
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/kube-psp/kube-psp/pkg/authorizer"
	"github.com/kube-psp/kube-psp/pkg/engine"
	"github.com/kube-psp/kube-psp/pkg/loader"
	"github.com/kube-psp/kube-psp/pkg/source"
	"github.com/kube-psp/kube-psp/pkg/webhook"
)

// Config is what `psp serve` is told.
type Config struct {
	// PolicyPaths and RBACPaths are the files policies and RBAC come from,
	// unless Cluster is set.
	PolicyPaths, RBACPaths []string
	// Cluster, when set, reads policies (the policy.kube-psp.io CRD) and RBAC
	// from a live cluster through informers instead of files.
	Cluster *ClusterClients
	Strict  bool
	Listen  string
	// MetricsListen, when set, serves /metrics, /healthz and /readyz over
	// plain HTTP there instead of on Listen.
	MetricsListen     string
	CertFile, KeyFile string
	Mode              webhook.Mode
	FailurePolicy     webhook.FailurePolicy
	// UnknownFields says what pod fields unknown to this build do.
	UnknownFields webhook.UnknownFieldPolicy
	// ReloadInterval is how often files (policies, RBAC, certificates) are
	// checked for changes.
	ReloadInterval time.Duration
	// ShutdownTimeout bounds how long in-flight requests may take after SIGTERM.
	ShutdownTimeout time.Duration
	// DevDir, when set (--dev), is where a missing certificate and preset
	// are made; see devFiles.
	DevDir string
	// DecisionTimeout bounds one decision (0: unbounded); see
	// webhook.Reviewer.DecisionTimeout.
	DecisionTimeout time.Duration
	Log             *slog.Logger
}

// ClusterClients reach the cluster whose policies and RBAC are served.
type ClusterClients struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// Authorizer, when set, decides policy use instead of local evaluation
	// of the cluster's RBAC (--authorization=subjectaccessreview). If it
	// has an InvalidateNamespace method and Metadata is set, RBAC objects'
	// metadata is watched and every change calls it; if it is a
	// prometheus.Collector, its metrics are served.
	Authorizer authorizer.Authorizer
	// Metadata watches RBAC objects' metadata for Authorizer's
	// InvalidateNamespace.
	Metadata metadata.Interface
	// Config is the connection, for clients of their own (the
	// SubjectAccessReview client has its own rate limit).
	Config *rest.Config
}

// Run serves until ctx ends or SIGTERM/SIGINT arrives, then shuts down
// gracefully. It returns an error if the server cannot start; policies that
// do not load at start are an error too (the server would deny everything).
// The ports are bound first: an instance that cannot start (address already
// in use) has read and written no file.
func Run(ctx context.Context, cfg Config) error {
	log := cfg.Log
	ln, mln, err := listen(cfg)
	if err != nil {
		return err
	}
	// Closed by Shutdown once serving; here for the errors before that.
	defer func() { _ = ln.Close() }()
	if mln != nil {
		defer func() { _ = mln.Close() }()
	}
	if cfg.DevDir != "" {
		if err := devFiles(&cfg, log); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	lm := newLoadMetrics(reg)

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	var files *source.Files
	var current func() *source.Snapshot
	// notReady says why current is nil; files load before serving starts.
	notReady := func() error { return nil }
	if cfg.Cluster != nil {
		// Serve at once; until the informers have synced the server is not
		// ready and denies (fails closed), as it has nothing to decide with.
		cluster := source.NewCluster(cfg.Cluster.Kube, cfg.Cluster.Dynamic, cfg.Cluster.Authorizer, log, lm.policiesLoaded)
		if inv, ok := cfg.Cluster.Authorizer.(interface{ InvalidateNamespace(string) }); ok && cfg.Cluster.Metadata != nil {
			cluster.InvalidateOnRBACChange(cfg.Cluster.Metadata, inv.InvalidateNamespace)
		}
		if col, ok := cfg.Cluster.Authorizer.(prometheus.Collector); ok {
			reg.MustRegister(col)
		}
		current, notReady = cluster.Current, cluster.NotReady
		go func() {
			if err := cluster.Start(ctx); err != nil && ctx.Err() == nil {
				log.Error("reading policies and RBAC from the cluster failed", "error", err)
			}
		}()
	} else {
		files = source.NewFiles(cfg.PolicyPaths, cfg.RBACPaths, loader.Options{Strict: cfg.Strict}, log, lm.policiesLoaded)
		if err := files.Load(); err != nil {
			return fmt.Errorf("loading policies and RBAC: %w", err)
		}
		current = files.Current
	}
	cert, err := newCertificate(cfg.CertFile, cfg.KeyFile, log, lm.certificateLoaded)
	if err != nil {
		return err
	}

	metrics := webhook.NewMetrics(reg)
	handler := func(phase engine.Phase) http.Handler {
		return &webhook.Handler{
			Reviewer: webhook.Reviewer{Phase: phase, Mode: cfg.Mode, FailurePolicy: cfg.FailurePolicy, UnknownFields: cfg.UnknownFields, DecisionTimeout: cfg.DecisionTimeout},
			Snapshot: current, Log: log, Metrics: metrics,
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/mutate", handler(engine.PhaseAdmit))
	mux.Handle("/validate", handler(engine.PhaseValidate))
	mux.Handle("/validate-policy", &webhook.PolicyHandler{Log: log, Metrics: metrics})
	ops := http.NewServeMux()
	ops.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	ops.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if current() == nil {
			reason := "policies and RBAC are not loaded"
			if err := notReady(); err != nil { // nil if they just were
				reason = err.Error()
			}
			http.Error(w, "not ready: "+reason, http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	ops.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	if cfg.MetricsListen == "" {
		mux.Handle("/healthz", ops)
		mux.Handle("/readyz", ops)
		mux.Handle("/metrics", ops)
	}

	servers := []*http.Server{newServer(mux, log)}
	servers[0].TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cert.get}
	listeners := []net.Listener{tls.NewListener(ln, servers[0].TLSConfig)}
	if mln != nil {
		servers = append(servers, newServer(ops, log))
		listeners = append(listeners, mln)
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go watch(ctx, cfg.ReloadInterval, hup, files, cert, log)

	errs := make(chan error, len(servers))
	for i, s := range servers {
		go func() { errs <- s.Serve(listeners[i]) }()
	}
	metricsAddr := ""
	if len(listeners) > 1 {
		metricsAddr = listeners[1].Addr().String()
	}
	log.Info("serving", "listen", ln.Addr().String(), "metricsListen", metricsAddr, "mode", cfg.Mode, "failurePolicy", cfg.FailurePolicy, "unknownFields", cfg.UnknownFields, "decisionTimeout", cfg.DecisionTimeout)

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down; finishing requests in flight", "timeoutSeconds", cfg.ShutdownTimeout.Seconds())
	case serveErr = <-errs:
		log.Error("server failed", "error", serveErr)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil {
			serveErr = errors.Join(serveErr, fmt.Errorf("shutdown: %w", err))
		}
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	log.Info("stopped")
	return serveErr
}

// listen binds --listen and, when set, --metrics-listen (mln nil otherwise).
func listen(cfg Config) (ln, mln net.Listener, err error) {
	ln, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	if cfg.MetricsListen != "" {
		if mln, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			_ = ln.Close()
			return nil, nil, fmt.Errorf("listening on %s: %w", cfg.MetricsListen, err)
		}
	}
	return ln, mln, nil
}

// newServer has timeouts that bound slow or stuck clients; the apiserver's
// own webhook timeout is at most 30 s.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// watch reloads policies, RBAC (when from files; nil files for a cluster
// source, which follows its informers) and certificates when their files
// change and on SIGHUP.
func watch(ctx context.Context, interval time.Duration, hup <-chan os.Signal, files *source.Files, cert *certificate, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			log.Info("SIGHUP: reloading policies, RBAC and certificates")
			if files != nil {
				_ = files.Load()
			}
		case <-t.C:
			if files != nil {
				files.ReloadIfChanged()
			}
		}
		if err := cert.reload(); err != nil {
			log.Error("certificate reload failed; serving the last good certificate", "error", err)
		}
	}
}

// loadMetrics report loading of policies, RBAC and certificates.
type loadMetrics struct {
	reloads     *prometheus.CounterVec
	lastSuccess prometheus.Gauge
	policies    prometheus.Gauge
	certReloads *prometheus.CounterVec
}

func newLoadMetrics(reg prometheus.Registerer) *loadMetrics {
	m := &loadMetrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_psp_policy_loads_total",
			Help: "Loads of policies and RBAC by result (success, error). On error the last good set stays in force.",
		}, []string{"result"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kube_psp_policy_last_load_success_timestamp_seconds",
			Help: "When policies and RBAC were last loaded successfully.",
		}),
		policies: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kube_psp_policies",
			Help: "Usable policies in force.",
		}),
		certReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_psp_certificate_loads_total",
			Help: "Loads of the serving certificate by result (success, error).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.reloads, m.lastSuccess, m.policies, m.certReloads)
	return m
}

func (m *loadMetrics) policiesLoaded(snap *source.Snapshot, err error) {
	if err != nil {
		m.reloads.WithLabelValues("error").Inc()
		return
	}
	m.reloads.WithLabelValues("success").Inc()
	m.lastSuccess.Set(float64(snap.LoadedAt.Unix()))
	m.policies.Set(float64(snap.Policies.Len()))
}

func (m *loadMetrics) certificateLoaded(err error) {
	if err != nil {
		m.certReloads.WithLabelValues("error").Inc()
		return
	}
	m.certReloads.WithLabelValues("success").Inc()
}
