package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
)

// CanaryState is what the harness compares of a Canary's status: one entry per
// status the API server stored (a watch event), consecutive repeats collapsed.
type CanaryState struct {
	At           time.Time
	Phase        string
	CanaryWeight int
	Iterations   int
	FailedChecks int
}

// Step is the part of a state a rollout's decisions are compared by.
type Step struct {
	Phase        string
	CanaryWeight int
}

func (s Step) String() string { return fmt.Sprintf("%s/%d", s.Phase, s.CanaryWeight) }

// EventRecord is a Kubernetes Event about a Canary as last seen: the API server
// aggregates repeats into one Event with a count.
type EventRecord struct {
	// First is when the recorder first saw the message (the order of Messages).
	First   time.Time
	Type    string
	Reason  string
	Message string
	Count   int32
}

// Recorder watches the Canaries and Events of some namespaces and keeps their
// history, until its context ends.
type Recorder struct {
	mu     sync.Mutex
	states map[string][]CanaryState // by namespace/name
	events map[string][]EventRecord // by the Canary's namespace/name, in first-seen order
	counts map[types.UID]int32      // each Event object's count when last seen
	errs   []error
	wg     sync.WaitGroup
}

// Record starts watching namespaces through c (a client with watch support whose
// scheme serves the Canaries' group).
func Record(ctx context.Context, c client.WithWatch, namespaces ...string) *Recorder {
	r := &Recorder{states: map[string][]CanaryState{}, events: map[string][]EventRecord{}, counts: map[types.UID]int32{}}
	for _, ns := range namespaces {
		r.wg.Add(2)
		go r.watch(ctx, c, &v1beta1.CanaryList{}, ns, r.canary)
		go r.watch(ctx, c, &corev1.EventList{}, ns, r.event)
	}
	return r
}

// Wait waits for the watches to end (after the context passed to Record ends).
func (r *Recorder) Wait() { r.wg.Wait() }

// watch restarts a watch whenever the server ends it, from the last resource
// version seen, until ctx ends.
func (r *Recorder) watch(ctx context.Context, c client.WithWatch, list client.ObjectList, ns string, seen func(client.Object)) {
	defer r.wg.Done()
	rv := ""
	for ctx.Err() == nil {
		w, err := c.Watch(ctx, list, client.InNamespace(ns), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}})
		if err != nil {
			r.fail(fmt.Errorf("watch %T in %s: %w", list, ns, err))
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		for ev := range w.ResultChan() {
			obj, ok := ev.Object.(client.Object)
			if !ok {
				continue
			}
			rv = obj.GetResourceVersion()
			if ev.Type == watch.Added || ev.Type == watch.Modified {
				seen(obj)
			}
			if ev.Type == watch.Error {
				rv = "" // e.g. too old a resource version: start from now
			}
		}
		w.Stop()
	}
}

func (r *Recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) < 20 {
		r.errs = append(r.errs, err)
	}
}

func (r *Recorder) canary(o client.Object) {
	c, ok := o.(*v1beta1.Canary)
	if !ok {
		return
	}
	st := CanaryState{At: time.Now(), Phase: string(c.Status.Phase), CanaryWeight: c.Status.CanaryWeight,
		Iterations: c.Status.Iterations, FailedChecks: c.Status.FailedChecks}
	key := c.Namespace + "/" + c.Name
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.states[key]
	if n := len(h); n > 0 {
		last := h[n-1]
		last.At = st.At
		if last == st {
			return
		}
	}
	r.states[key] = append(h, st)
}

func (r *Recorder) event(o client.Object) {
	e, ok := o.(*corev1.Event)
	if !ok || e.InvolvedObject.Kind != "Canary" {
		return
	}
	key := e.InvolvedObject.Namespace + "/" + e.InvolvedObject.Name
	msg := EventMessage(e.Message)
	r.mu.Lock()
	defer r.mu.Unlock()
	// An Event object counts repeats; once client-go's recorder combines similar
	// events into one object, its message is the latest one's. What the count grew
	// by since the last sight belongs to the message it shows now.
	grew := max(e.Count, 1) - r.counts[e.UID]
	r.counts[e.UID] = max(e.Count, 1)
	if grew <= 0 {
		return
	}
	h := r.events[key]
	for i := range h {
		if h[i].Message == msg && h[i].Reason == e.Reason && h[i].Type == e.Type {
			h[i].Count += grew
			return
		}
	}
	r.events[key] = append(h, EventRecord{First: time.Now(), Type: e.Type, Reason: e.Reason, Message: msg, Count: grew})
}

// States is the status history of the Canary namespace/name.
func (r *Recorder) States(key string) []CanaryState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.states[key])
}

// Steps is States reduced to distinct consecutive (phase, canary weight) pairs.
func (r *Recorder) Steps(key string) []Step {
	return DistinctSteps(r.States(key))
}

// DistinctSteps reduces states to distinct consecutive (phase, canary weight) pairs.
func DistinctSteps(states []CanaryState) []Step {
	var out []Step
	for _, s := range states {
		st := Step{Phase: s.Phase, CanaryWeight: s.CanaryWeight}
		if n := len(out); n == 0 || out[n-1] != st {
			out = append(out, st)
		}
	}
	return out
}

// Events are the Events about the Canary namespace/name, in the order first seen.
func (r *Recorder) Events(key string) []EventRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events[key])
}

// Messages are the distinct event messages about the Canary, in the order first seen.
func (r *Recorder) Messages(key string) []string {
	var out []string
	for _, e := range r.Events(key) {
		out = append(out, e.Message)
	}
	return out
}

// Errors are the watch errors met (at most 20), for a failure message.
func (r *Recorder) Errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}
