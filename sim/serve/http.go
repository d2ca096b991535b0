package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/model/labels"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/hooks"
	"aviary.dev/aviary/sim/promstore"
	"aviary.dev/aviary/sim/scenario"
)

// ExpositionContentType is the content type of /metrics/<scenario>: Prometheus'
// text format 0.0.4.
const ExpositionContentType = "text/plain; version=0.0.4; charset=utf-8"

// MetricsPath is the path a scenario's series are served at.
func MetricsPath(scenarioName string) string { return "/metrics/" + url.PathEscape(scenarioName) }

// maxBody is the most of a request body the proxy reads: a webhook payload or an
// alert is a few kilobytes.
const maxBody = 1 << 20

// alertProvider is an AlertProvider whose address host the proxy recognizes.
type alertProvider struct {
	scenario, name, namespace, kind string
}

// statusWriter notes the status a handler answered with, for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP answers a request with an absolute URI (or a CONNECT) as the proxy, any
// other as the server of /metrics/<scenario> and /healthz. Every request is one
// log line; scrapes are at debug level.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	attrs := []any{"method", r.Method, "url", r.URL.String()}
	level := slog.LevelInfo
	msg := "proxy request"
	if r.Method == http.MethodConnect || r.URL.IsAbs() {
		attrs = append(attrs, s.proxy(w, r)...)
	} else {
		msg, level = "request", slog.LevelDebug
		switch {
		case strings.HasPrefix(r.URL.Path, "/metrics/"):
			msg = "scrape"
			attrs = append(attrs, s.metrics(w, r)...)
		case r.URL.Path == "/healthz":
			_, _ = io.WriteString(w, "ok\n")
		default:
			http.Error(w, fmt.Sprintf("aviary sim serve: no %s here; scenarios' series are at %s", r.URL.Path, strings.Join(s.metricsPaths(), ", ")), http.StatusNotFound)
		}
	}
	if w.status >= 500 {
		level = slog.LevelWarn
	}
	s.log.Log(r.Context(), level, msg, append(attrs, "status", w.status, "duration", time.Since(start).String())...)
}

// metricsPaths lists every scenario's metrics path.
func (s *Server) metricsPaths() []string {
	out := make([]string, 0, len(s.players))
	for _, p := range s.players {
		out = append(out, MetricsPath(p.name))
	}
	return out
}

// metrics serves a scenario's live series, its world advanced to now first.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) []any {
	name, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/metrics/"))
	p := s.byName[name]
	if err != nil || p == nil {
		http.Error(w, fmt.Sprintf("aviary sim serve: no scenario %q; scenarios' series are at %s", name, strings.Join(s.metricsPaths(), ", ")), http.StatusNotFound)
		return nil
	}
	var buf bytes.Buffer
	series, err := p.exposition(r, &buf)
	if err != nil {
		http.Error(w, fmt.Sprintf("aviary sim serve: scenario %q: %v", name, err), http.StatusInternalServerError)
		return []any{"scenario", name, "error", err.Error()}
	}
	w.Header().Set("Content-Type", ExpositionContentType)
	_, _ = w.Write(buf.Bytes())
	return []any{"scenario", name, "series", series}
}

// exposition advances the world to now and writes its live series.
func (p *player) exposition(r *http.Request, out *bytes.Buffer) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.s.now()
	p.advance(r.Context(), now)
	if err := p.scrape(r.Context(), now); err != nil {
		return 0, err
	}
	return writeExposition(out, p.store)
}

// writeExposition writes the store's live series (promstore.Storage.Latest) in the
// text format, as untyped samples without timestamps: the store knows no metric
// types, and Prometheus stamps a scrape's samples itself, its staleness handling
// then ending the series of a pod that went away.
func writeExposition(out *bytes.Buffer, st *promstore.Storage) (int, error) {
	var mf *dto.MetricFamily
	var err error
	flush := func() {
		if mf != nil && err == nil {
			_, err = expfmt.MetricFamilyToText(out, mf)
		}
	}
	n := 0
	for lset, v := range st.Latest() {
		name := lset.Get(labels.MetricName)
		if mf == nil || mf.GetName() != name {
			flush()
			mf = &dto.MetricFamily{Name: &name, Type: dto.MetricType_UNTYPED.Enum()}
		}
		m := &dto.Metric{Untyped: &dto.Untyped{Value: &v}, Label: make([]*dto.LabelPair, 0, lset.Len()-1)}
		lset.Range(func(l labels.Label) {
			if l.Name != labels.MetricName {
				m.Label = append(m.Label, &dto.LabelPair{Name: &l.Name, Value: &l.Value})
			}
		})
		mf.Metric = append(mf.Metric, m)
		n++
	}
	flush()
	return n, err
}

// proxy answers a proxied request: an alert to an AlertProvider's host is logged and
// answered 200; a webhook call (a POST whose payload names a scenario's Canary) is
// answered from the scenario's script; the Prometheus HTTP API of any host goes to
// Options.Prometheus; anything else is answered 502. It returns what to log.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request) []any {
	if r.Method == http.MethodConnect {
		attrs := []any{"kind", "refused"}
		if a, ok := s.alertHosts[r.Host]; ok {
			attrs = []any{"kind", "alert", "scenario", a.scenario, "provider", a.namespace + "/" + a.name}
		}
		http.Error(w, "aviary sim serve: the proxy answers plain http only (CONNECT "+r.Host+" refused): give webhooks, alert providers and metric templates http:// addresses", http.StatusBadGateway)
		return attrs
	}
	if a, ok := s.alertHosts[r.URL.Host]; ok && r.Method == http.MethodPost {
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
		_, _ = io.WriteString(w, "ok\n")
		return []any{"kind", "alert", "scenario", a.scenario, "provider", a.namespace + "/" + a.name, "type", a.kind, "body", string(body)}
	}
	if r.Method == http.MethodPost && !strings.HasPrefix(r.URL.Path, "/api/v1/") {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		var payload hooks.Payload
		if err == nil && json.Unmarshal(body, &payload) == nil {
			if p := s.byNamespace[payload.Namespace]; p != nil && payload.Name == p.stage.Canary().Name {
				return p.webhook(w, r, payload)
			}
		}
		http.Error(w, fmt.Sprintf("aviary sim serve: a POST to %s whose body is no webhook payload naming a served scenario's Canary (name and namespace)", r.URL), http.StatusBadGateway)
		return []any{"kind", "refused"}
	}
	if strings.HasPrefix(r.URL.Path, "/api/v1/") {
		if s.prometheus == nil {
			http.Error(w, "aviary sim serve: no --prometheus to forward the Prometheus API request to", http.StatusBadGateway)
			return []any{"kind", "prometheus"}
		}
		s.prometheus.ServeHTTP(w, r)
		return []any{"kind", "prometheus"}
	}
	http.Error(w, fmt.Sprintf("aviary sim serve: the proxy only answers webhooks, alerts and the Prometheus HTTP API (/api/v1/...), not %s %s", r.Method, r.URL), http.StatusBadGateway)
	return []any{"kind", "refused"}
}

// forwardTo is the reverse proxy to the real Prometheus at u: the request's path
// and query under u, with no proxy of its own.
func forwardTo(u *url.URL, log *slog.Logger) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		Transport: &http.Transport{Proxy: nil, ResponseHeaderTimeout: time.Minute},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn("prometheus unreachable", "url", r.URL.String(), "error", err.Error())
			http.Error(w, fmt.Sprintf("aviary sim serve: prometheus at %s: %v", u, err), http.StatusBadGateway)
		},
	}
}

// webhook answers a webhook call from the scenario's script: the reply of the
// spec.hooks entry that selects the call (as in the simulator:
// scenario.SelectEndpoint through sim.WebhookScript) in force at the call's offset
// from the start, after its delay. The hook is the live Canary's webhook at the
// request's URL whose metadata the payload carries (a payload does not name its
// hook); 200 at once when the script has no reply for it.
func (p *player) webhook(w http.ResponseWriter, r *http.Request, payload hooks.Payload) []any {
	at := p.s.now().Sub(p.s.start)
	u := r.URL.String()
	hook, found := p.hookAt(r, u, payload)
	reply, scripted := p.script.Reply(hook, u, at)
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	attrs := []any{"kind", "webhook", "scenario", p.name, "hook", hook.Name, "hookFound", found, "phase", payload.Phase,
		"at", at.String(), "scripted", scripted, "delay", reply.Delay.String(), "body", reply.Body}
	if reply.Delay > 0 {
		t := time.NewTimer(reply.Delay)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return append(attrs, "abandoned", true)
		case <-t.C:
		}
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, reply.Body)
	return attrs
}

// hookAt finds the live Canary's webhook a call is for: at url, with metadata the
// payload carries (event hooks' payloads carry more). found is false when none is;
// the hook is then one with the URL and the payload's metadata, which spec.hooks
// entries that select by URL or metadata still select.
func (p *player) hookAt(r *http.Request, u string, payload hooks.Payload) (v1beta1.CanaryWebhook, bool) {
	cd := &v1beta1.Canary{}
	if err := p.client.Get(r.Context(), p.stage.Canary(), cd); err == nil {
		if a := cd.GetAnalysis(); a != nil {
			for _, h := range a.Webhooks {
				if scenario.RequestURL(h.URL) != u {
					continue
				}
				if h.Metadata == nil || containsAll(payload.Metadata, *h.Metadata) {
					return h, true
				}
			}
		}
	} else {
		p.log.Warn("read canary for a webhook call", "error", err.Error())
	}
	md := maps.Clone(payload.Metadata)
	return v1beta1.CanaryWebhook{URL: u, Metadata: &md}, false
}

// containsAll reports whether m holds every pair of sub.
func containsAll(m, sub map[string]string) bool {
	for k, v := range sub {
		if got, ok := m[k]; !ok || got != v {
			return false
		}
	}
	return true
}
