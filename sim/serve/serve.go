package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/scenario"
)

// Options configure a Server.
type Options struct {
	// Client reaches the API server. Its scheme says which group aviary's kinds are
	// created in (cluster.NewSchemeIn).
	Client client.Client
	// Listen is the HTTP address; port 0 picks a free one (Server.Addr says which).
	Listen string
	// Prometheus is where the proxy forwards requests for the Prometheus HTTP API
	// (/api/v1/...) of any host; nil answers them 502.
	Prometheus *url.URL
	// Log receives the JSON lines; nil discards them.
	Log *slog.Logger
	// KeepRunning: Wait returns only when its context ends, not once every
	// scenario's spec.until has passed.
	KeepRunning bool
	// SyncEvery is how often the Deployment simulator looks at the Deployments the
	// controller may have changed (0: DefaultSyncEvery).
	SyncEvery time.Duration
}

// DefaultSyncEvery is how often the Deployment simulator runs without a reason
// of its own: a controller's change to a Deployment starts its pods at most this
// late, a small part of any startup delay or analysis interval.
const DefaultSyncEvery = 250 * time.Millisecond

// Ready describes a server that is serving, every scenario's objects created: what
// `aviary sim serve --ready-file` writes, as JSON.
type Ready struct {
	// Listen is the address the listener took, e.g. "127.0.0.1:9091".
	Listen    string          `json:"listen"`
	Scenarios []ReadyScenario `json:"scenarios"`
}

// ReadyScenario names one scenario served and the namespace of its Canary.
type ReadyScenario struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

// Server plays scenarios in wall-clock time and serves their metrics, webhooks and
// the proxy (doc.go).
type Server struct {
	opts    Options
	log     *slog.Logger
	players []*player
	// byName and byNamespace find a scenario by its name (a metrics path) and by its
	// Canary's namespace (a webhook payload's).
	byName, byNamespace map[string]*player
	// alertHosts are the hosts of the AlertProviders' addresses: what a POST to them is.
	alertHosts map[string]alertProvider
	prometheus http.Handler

	// start is time zero of every scenario, with a monotonic reading.
	start time.Time
	ln    net.Listener
	http  *http.Server
	// stop ends the players' loops; done closes once every spec.until has passed.
	stop context.CancelFunc
	wg   sync.WaitGroup
	done chan struct{}
}

// CheckNamespaces refuses scenarios that share a namespace: each creates and changes
// the objects of its own (sim.ScenarioNamespaces), which side by side on one API
// server would be the other's. The error names both files, at the object of the
// second that names the namespace.
func CheckNamespaces(loaded []*scenario.Loaded) error {
	owner := map[string]*scenario.Loaded{}
	var errs []error
	for _, l := range loaded {
		for _, ns := range sim.ScenarioNamespaces(l) {
			first, taken := owner[ns]
			if !taken {
				owner[ns] = l
				continue
			}
			err := fmt.Errorf("namespace %q is also scenario %q's (%s): sim serve plays each scenario in namespaces of its own, or both would create and change the same objects",
				ns, first.Scenario.Metadata.Name, first.Scenario.File)
			errs = append(errs, namespaceError(l, ns, err))
		}
	}
	return errors.Join(errs...)
}

// namespaceError is err at the metadata.namespace of l's first object in ns.
func namespaceError(l *scenario.Loaded, ns string, err error) error {
	objs := []client.Object{l.Canary}
	for _, t := range l.Templates {
		objs = append(objs, t)
	}
	for _, a := range l.AlertProviders {
		objs = append(objs, a)
	}
	objs = append(objs, l.Objects...)
	for _, o := range objs {
		if o.GetNamespace() == ns || o.GetNamespace() == "" && o.GetName() == ns {
			path := "metadata.namespace"
			if o.GetNamespace() == "" {
				path = "metadata.name" // a Namespace object
			}
			if e, ok := l.ObjectError(o, path, err); ok {
				return e
			}
		}
	}
	return l.FieldError("metadata.name", err)
}

// Start checks the scenarios (CheckNamespaces), listens, creates every scenario's
// objects and starts playing them: when it returns, the server is serving. Wait
// then runs it until the end.
func Start(ctx context.Context, loaded []*scenario.Loaded, opts Options) (*Server, error) {
	if opts.Client == nil {
		return nil, errors.New("sim serve: no API client")
	}
	if len(loaded) == 0 {
		return nil, errors.New("sim serve: no scenarios")
	}
	if err := CheckNamespaces(loaded); err != nil {
		return nil, err
	}
	if opts.SyncEvery <= 0 {
		opts.SyncEvery = DefaultSyncEvery
	}
	s := &Server{opts: opts, log: opts.Log, byName: map[string]*player{}, byNamespace: map[string]*player{},
		alertHosts: map[string]alertProvider{}, done: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.Prometheus != nil {
		s.prometheus = forwardTo(opts.Prometheus, s.log)
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("sim serve: listen: %w", err)
	}
	s.ln = ln
	// Every instant is whole milliseconds from start (samples are in ms) and keeps
	// the monotonic reading, so that instants never go back.
	now := time.Now()
	s.start = now.Add(-time.Duration(now.Nanosecond() % int(time.Millisecond)))
	for _, l := range loaded {
		p, err := newPlayer(ctx, s, l)
		if err != nil {
			_ = ln.Close()
			return nil, err
		}
		s.players = append(s.players, p)
		s.byName[p.name] = p
		s.byNamespace[l.Canary.Namespace] = p
		for _, a := range l.AlertProviders {
			if u, err := url.Parse(a.Spec.Address); err == nil && u.Host != "" {
				s.alertHosts[u.Host] = alertProvider{scenario: p.name, name: a.Name, namespace: a.Namespace, kind: a.Spec.Type}
			}
		}
	}
	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	s.wg.Go(func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "error", err.Error())
		}
	})
	for _, p := range s.players {
		s.wg.Go(func() { p.loop(loopCtx) })
	}
	s.wg.Go(func() { s.watchUntil(loopCtx) })
	s.log.Info("serving", "listen", s.Addr(), "scenarios", len(s.players))
	return s, nil
}

// now is the current instant: whole milliseconds from start, monotonic.
func (s *Server) now() time.Time {
	return s.start.Add(time.Since(s.start).Truncate(time.Millisecond))
}

// Addr is the address the listener took.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Ready describes the server (what the ready file holds).
func (s *Server) Ready() Ready {
	r := Ready{Listen: s.Addr(), Scenarios: []ReadyScenario{}}
	for _, p := range s.players {
		r.Scenarios = append(r.Scenarios, ReadyScenario{Name: p.name, Namespace: p.stage.Canary().Namespace})
	}
	return r
}

// Done is closed once every scenario's spec.until has passed.
func (s *Server) Done() <-chan struct{} { return s.done }

// watchUntil closes done once the last spec.until has passed, noting each.
func (s *Server) watchUntil(ctx context.Context) {
	byUntil := slices.SortedStableFunc(slices.Values(s.players), func(a, b *player) int { return a.until.Compare(b.until) })
	for _, p := range byUntil {
		t := time.NewTimer(time.Until(p.until))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		s.log.Info("until passed", "scenario", p.name, "until", p.l.Scenario.Spec.Until.Duration.String())
	}
	close(s.done)
}

// Wait serves until ctx ends or, unless Options.KeepRunning, every scenario's
// spec.until has passed; then it stops the loops and the listener (requests in
// flight get a few seconds) and returns.
func (s *Server) Wait(ctx context.Context) error {
	done := s.done
	if s.opts.KeepRunning {
		done = nil
	}
	select {
	case <-ctx.Done():
		s.log.Info("stopping", "reason", context.Cause(ctx).Error())
	case <-done:
		s.log.Info("stopping", "reason", "every scenario's until has passed")
	}
	return s.Close()
}

// Close stops the loops and the listener.
func (s *Server) Close() error {
	s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("sim serve: stop: %w", err)
	}
	return nil
}
