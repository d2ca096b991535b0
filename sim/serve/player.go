package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"aviary.dev/aviary/sim"
	"aviary.dev/aviary/sim/cluster"
	"aviary.dev/aviary/sim/promstore"
	"aviary.dev/aviary/sim/scenario"
)

// keepSamples is how much of each series the store keeps: the exposition reads only
// the last sample, and a minute is many scrapes at any scrape interval a scenario
// may have in real time.
const keepSamples = time.Minute

// player plays one scenario in wall-clock time.
type player struct {
	s      *Server
	l      *scenario.Loaded
	name   string
	log    *slog.Logger
	client client.Client
	stage  *sim.Stage
	store  *promstore.Storage
	script cluster.WebhookScript
	// until is when spec.until has passed.
	until time.Time

	// mu guards the stage's world (not safe for concurrent use) and what follows:
	// the loop and the scrapes advance the same world.
	mu sync.Mutex
	// next is the next timeline action; boundaries are the readiness faults' edges,
	// bi the next one; wake is when the Deployment simulator asked to run again.
	next       int
	boundaries []time.Time
	bi         int
	wake       time.Time
	// scraped is the last scrape's instant, truncated when the store last dropped
	// old samples.
	scraped, truncated time.Time
	// pods are the pods last seen and whether each was ready, for the log.
	pods map[string]bool
}

// newPlayer creates l's objects through the API server and plays its first instant.
func newPlayer(ctx context.Context, s *Server, l *scenario.Loaded) (*player, error) {
	p := &player{s: s, l: l, name: l.Scenario.Metadata.Name, client: s.opts.Client, store: promstore.NewStorage(),
		script: sim.WebhookScript(l.Scenario.Spec.Hooks), pods: map[string]bool{}}
	p.log = s.log.With("scenario", p.name)
	p.until = s.start.Add(l.Scenario.Spec.Until.Duration)
	stage, err := sim.NewStage(l, p.client, s.start, p.store, nil)
	if err != nil {
		return nil, err
	}
	p.stage = stage
	p.boundaries = stage.ReadyFaultBoundaries()
	if err := stage.Setup(ctx); err != nil {
		return nil, err
	}
	p.log.Info("created", "file", l.Scenario.File, "namespaces", stage.Namespaces(), "objects", p.objectNames())
	p.mu.Lock()
	defer p.mu.Unlock()
	now := s.now()
	p.advance(ctx, now)
	if err := p.scrape(ctx, now); err != nil {
		return nil, err
	}
	return p, nil
}

// objectNames lists what Setup created, as Kind/namespace/name.
func (p *player) objectNames() []string {
	l := p.l
	objs := append([]client.Object{}, l.Objects...)
	if l.Target != nil {
		objs = append(objs, l.Target)
	}
	for _, t := range l.Templates {
		objs = append(objs, t)
	}
	for _, a := range l.AlertProviders {
		objs = append(objs, a)
	}
	objs = append(objs, l.Canary)
	out := make([]string, 0, len(objs)+1)
	if l.Target == nil {
		out = append(out, "Deployment.apps/"+l.Canary.Namespace+"/"+l.Canary.Spec.TargetRef.Name)
	}
	for _, o := range objs {
		kind := fmt.Sprintf("%T", o)
		if gvk, err := apiutil.GVKForObject(o, p.client.Scheme()); err == nil {
			kind = gvk.Kind + "." + gvk.Group
			if gvk.Group == "" {
				kind = gvk.Kind
			}
		}
		name := o.GetName()
		if ns := o.GetNamespace(); ns != "" {
			name = ns + "/" + name
		}
		out = append(out, kind+"/"+name)
	}
	return out
}

// loop plays the scenario until ctx ends: the timeline's actions at their offsets,
// the Deployment simulator every Options.SyncEvery (a controller may have changed a
// Deployment) and whenever it or a readiness fault says something changes.
func (p *player) loop(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		p.mu.Lock()
		next := p.s.now().Add(p.s.opts.SyncEvery)
		if p.next < len(p.l.Scenario.Spec.Timeline) {
			next = earliest(next, p.s.start.Add(p.l.Scenario.Spec.Timeline[p.next].At.Duration))
		}
		if p.bi < len(p.boundaries) {
			next = earliest(next, p.boundaries[p.bi])
		}
		if !p.wake.IsZero() {
			next = earliest(next, p.wake)
		}
		p.mu.Unlock()
		t.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		p.advance(ctx, p.s.now())
		p.mu.Unlock()
	}
}

// earliest is the earlier of a and b.
func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// advance brings the scenario to now: the timeline's actions due, then the
// Deployment simulator. A failure is logged and tried again on the next round (the
// API server may be away for a while), except an action the API server refuses,
// which is logged and left. Called with p.mu held.
func (p *player) advance(ctx context.Context, now time.Time) {
	timeline := p.l.Scenario.Spec.Timeline
	for p.next < len(timeline) && !p.s.start.Add(timeline[p.next].At.Duration).After(now) {
		a := timeline[p.next]
		attrs := []any{"index", p.next, "at", a.At.Duration.String(), "late", now.Sub(p.s.start.Add(a.At.Duration)).String()}
		switch {
		case a.Image != "":
			attrs = append(attrs, "image", a.Image)
		case a.Patch != nil:
			attrs = append(attrs, "patch", a.Patch)
		case a.ConfigMap != nil:
			attrs = append(attrs, "configMap", a.ConfigMap.Name)
		case a.Secret != nil:
			attrs = append(attrs, "secret", a.Secret.Name)
		}
		if err := p.stage.Apply(ctx, p.next); err != nil {
			if !refused(err) {
				p.log.Error("timeline action failed, will try again", append(attrs, "error", err.Error())...)
				break
			}
			p.log.Error("timeline action refused", append(attrs, "error", err.Error())...)
		} else {
			p.log.Info("timeline action", attrs...)
		}
		p.next++
	}
	for p.bi < len(p.boundaries) && !p.boundaries[p.bi].After(now) {
		p.bi++
	}
	wake, err := p.stage.Deployments().Sync(ctx, now)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Error("deployment simulator", "error", err.Error())
		}
		return
	}
	p.wake = wake
	p.notePods()
}

// refused reports whether the API server refused a write for what it was (invalid,
// forbidden, not found), which trying again would not change.
func refused(err error) bool {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return false
	}
	code := int(st.Status().Code)
	return code >= 400 && code < 500 && code != http.StatusConflict && code != http.StatusTooManyRequests
}

// notePods logs the target's and the primary's pods that started, became ready or
// not ready, or went away since the last look. Called with p.mu held.
func (p *player) notePods() {
	target := p.stage.Loaded().Canary.Spec.TargetRef.Name
	seen := make(map[string]bool, len(p.pods))
	for _, d := range []string{target + "-primary", target} {
		for _, pod := range p.stage.Deployments().Pods(d) {
			seen[pod.Name] = true
			ready, known := p.pods[pod.Name]
			if !known {
				p.log.Info("pod started", "deployment", d, "pod", pod.Name, "image", pod.Image)
			}
			if known && ready != pod.Ready || !known && pod.Ready {
				msg := "pod ready"
				if !pod.Ready {
					msg = "pod not ready"
				}
				p.log.Info(msg, "deployment", d, "pod", pod.Name)
			}
			p.pods[pod.Name] = pod.Ready
		}
	}
	for name := range p.pods {
		if !seen[name] {
			p.log.Info("pod gone", "pod", name)
			delete(p.pods, name)
		}
	}
}

// scrape advances the world to now (pods as of now: call advance first), unless it
// was there already, and drops samples no exposition reads any more. Called with
// p.mu held.
func (p *player) scrape(ctx context.Context, now time.Time) error {
	if !now.After(p.scraped) && !p.scraped.IsZero() {
		return nil
	}
	if err := p.stage.World().Scrape(ctx, now); err != nil {
		return p.stage.WorldError(err)
	}
	p.scraped = now
	if p.truncated.IsZero() {
		p.truncated = now
	}
	if now.Sub(p.truncated) >= keepSamples {
		p.store.Truncate(now.Add(-keepSamples).UnixMilli())
		p.truncated = now
	}
	return nil
}
