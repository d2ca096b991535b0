package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/go-logr/zapr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"aviary.dev/aviary/api/scheme"
	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/engine/hooks"
)

// Options configure a Controller. Config, Metrics and Log are required.
type Options struct {
	// Config reaches the API server.
	Config *rest.Config
	// APIGroup serves Canaries, MetricTemplates and AlertProviders: "flagger.app"
	// (default, Flagger's objects) or "aviary.dev" (beside Flagger).
	APIGroup string
	// Namespace limits the controller to one namespace (Flagger's -namespace); "" is all.
	Namespace string

	// Metrics is the metric source (controller/promapi).
	Metrics analysis.MetricSource
	// Webhooks calls webhooks; nil is hooks.Caller over the network.
	Webhooks engine.WebhookCaller
	// Alerts posts alerts (controller/notify); nil sends none.
	Alerts engine.AlertSender
	// MeshProvider, MetricsServer and SelectorLabels are the engine's defaults
	// (Flagger's -mesh-provider, -metrics-server, -selector-labels).
	MeshProvider   string
	MetricsServer  string
	SelectorLabels []string
	// EventWebhook is Flagger's -event-webhook (engine.Engine.EventWebhook).
	EventWebhook string

	// ControlLoopInterval is how often the Canaries are listed and their jobs
	// started or stopped (Flagger's -control-loop-interval; default 10s).
	ControlLoopInterval time.Duration
	// Clock ticks the control loop and the jobs and is the engine's clock; nil is
	// the real clock. Tests give a fake one.
	Clock clock.WithTicker

	// Listen is the address of /metrics, /healthz and /readyz (Flagger's -port: ":8080").
	Listen string
	// LeaderElection runs the control loop on one replica at a time, with a Lease
	// named LeaderElectionID in LeaderElectionNamespace.
	LeaderElection          bool
	LeaderElectionNamespace string
	LeaderElectionID        string

	// Log receives Flagger's log lines.
	Log *zap.Logger
}

// DefaultLeaderElectionID is the Lease aviary's replicas share.
const DefaultLeaderElectionID = "aviary-controller-leader-election"

// Controller is the live controller.
type Controller struct {
	mgr      manager.Manager
	sched    *scheduler
	listener net.Listener
	registry *prometheus.Registry
	events   record.EventBroadcaster
	ready    atomic.Bool
	log      *zap.Logger
	// Engine is the engine the jobs tick (its ports as plugged in).
	Engine *engine.Engine
}

// New builds a Controller; Run starts it. The listener is bound here so that a bad
// address is an error before anything runs.
func New(o Options) (*Controller, error) {
	if o.Config == nil || o.Metrics == nil || o.Log == nil {
		return nil, errors.New("controller: Config, Metrics and Log are required")
	}
	group := o.APIGroup
	if group == "" {
		group = v1beta1.FlaggerGroupVersion.Group
	}
	if err := CheckAPIGroup(group); err != nil {
		return nil, err
	}
	s, err := scheme.In(group)
	if err != nil {
		return nil, err
	}
	clk := o.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	interval := o.ControlLoopInterval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	ctrllog.SetLogger(zapr.NewLogger(o.Log.Named("controller-runtime")))

	cacheOpts := cache.Options{}
	if o.Namespace != "" {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{o.Namespace: {}}
	}
	id := o.LeaderElectionID
	if id == "" {
		id = DefaultLeaderElectionID
	}
	mgr, err := ctrl.NewManager(o.Config, manager.Options{
		Scheme:                        s,
		Cache:                         cacheOpts,
		Metrics:                       metricsserver.Options{BindAddress: "0"}, // served on Listen with Flagger's metrics
		HealthProbeBindAddress:        "0",
		LeaderElection:                o.LeaderElection,
		LeaderElectionID:              id,
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return nil, fmt.Errorf("controller: manager: %w", err)
	}

	// The engine reads and writes the API server directly, not through the cache:
	// Flagger's ticks Get the Canary and every other object from the API server, so
	// a tick always sees its own previous writes and everyone else's, and decides as
	// the simulator does (whose client is always current). Only the control loop's
	// list of Canaries comes from the cache, as Flagger's from its informer.
	direct, err := client.New(o.Config, client.Options{Scheme: s, Mapper: mgr.GetRESTMapper()})
	if err != nil {
		return nil, fmt.Errorf("controller: client: %w", err)
	}
	clientset, err := kubernetes.NewForConfig(o.Config)
	if err != nil {
		return nil, fmt.Errorf("controller: clientset: %w", err)
	}
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: clientset.CoreV1().Events("")})
	events := broadcaster.NewRecorder(s, corev1.EventSource{Component: "flagger"})

	registry := prometheus.NewRegistry()
	rec, err := newRecorder(registry, clk)
	if err != nil {
		return nil, err
	}
	webhooks := o.Webhooks
	if webhooks == nil {
		webhooks = &hooks.Caller{}
	}
	e := &engine.Engine{
		Client: direct, Clock: clk, Metrics: o.Metrics, Webhooks: webhooks,
		Events: loggedEvents{recorder: events, log: o.Log}, Observer: rec, Alerts: o.Alerts,
		MeshProvider: o.MeshProvider, MetricsServer: o.MetricsServer, SelectorLabels: o.SelectorLabels,
		EventWebhook: o.EventWebhook,
	}
	provider := o.MeshProvider
	if provider == "" {
		provider = v1beta1.DefaultMeshProvider
	}
	rec.setInfo(provider)

	c := &Controller{mgr: mgr, registry: registry, events: broadcaster, log: o.Log, Engine: e}
	c.sched = &scheduler{list: listFrom(mgr.GetCache(), o.Namespace), engine: e, clock: clk, interval: interval,
		log: o.Log, metrics: rec, jobs: map[string]*job{}}
	if err := mgr.Add(c.sched); err != nil {
		return nil, err
	}
	if o.Listen != "" {
		if c.listener, err = net.Listen("tcp", o.Listen); err != nil {
			return nil, fmt.Errorf("controller: listen on %s: %w", o.Listen, err)
		}
	}
	return c, nil
}

// CheckAPIGroup accepts the API groups a controller can serve: flagger.app and aviary.dev.
func CheckAPIGroup(group string) error {
	if group != v1beta1.FlaggerGroupVersion.Group && group != v1beta1.GroupVersion.Group {
		return fmt.Errorf("api group %q: want %s or %s", group, v1beta1.FlaggerGroupVersion.Group, v1beta1.GroupVersion.Group)
	}
	return nil
}

// Addr is the address /metrics, /healthz and /readyz are served on (nil without Listen).
func (c *Controller) Addr() net.Addr {
	if c.listener == nil {
		return nil
	}
	return c.listener.Addr()
}

// Run serves the probes and metrics and runs the manager (the cache, leader election,
// the control loop) until ctx ends; it returns nil on a clean shutdown.
func (c *Controller) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srvDone := make(chan error, 1)
	var srv *http.Server
	if c.listener != nil {
		srv = &http.Server{Handler: c.handler(), ReadTimeout: 5 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 15 * time.Second}
		c.log.Info("Starting HTTP server on " + c.listener.Addr().String())
		go func() { srvDone <- srv.Serve(c.listener) }()
	}
	go func() {
		if c.mgr.GetCache().WaitForCacheSync(ctx) {
			c.ready.Store(true)
		}
	}()
	err := c.mgr.Start(ctx) // returns once the jobs' ticks in flight have ended
	c.events.Shutdown()
	if srv != nil {
		shutdown, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		if serr := srv.Shutdown(shutdown); serr != nil {
			c.log.Error("HTTP server graceful shutdown failed " + serr.Error())
		} else {
			c.log.Info("HTTP server stopped")
		}
		if serr := <-srvDone; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
	}
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	return nil
}

// handler serves Flagger's /metrics and /healthz, and /readyz once the cache of
// Canaries has synced.
func (c *Controller) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(c.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("OK"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !c.ready.Load() {
			http.Error(w, "cache not synced", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("OK"))
	})
	return mux
}
