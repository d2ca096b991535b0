package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
)

// EventWriter writes the engine's events as Kubernetes Events about the Canary, as
// Flagger's event recorder does (source component "flagger"), stamped with virtual
// time. Envtest runs use it, so `kubectl get events` against the test API server
// shows what a cluster would. Names are deterministic ("<canary>.<n>"). Writing an
// event is best effort: a failure is kept in Err and never changes the run.
type EventWriter struct {
	Client client.Client
	Clock  clock.PassiveClock

	n   int
	Err error
}

// Event implements engine.EventSink.
func (k *EventWriter) Event(obj runtime.Object, eventtype, reason, message string) {
	cd, ok := obj.(*v1beta1.Canary)
	if !ok {
		return
	}
	k.n++
	now := metav1.NewTime(k.Clock.Now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%d", cd.Name, k.n), Namespace: cd.Namespace},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: v1beta1.GroupVersion.String(), Kind: v1beta1.CanaryKind,
			Namespace: cd.Namespace, Name: cd.Name, UID: cd.UID,
		},
		Reason: reason, Message: message, Type: eventtype,
		Source:         corev1.EventSource{Component: "flagger"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
	if err := k.Client.Create(context.Background(), ev); err != nil && k.Err == nil {
		k.Err = fmt.Errorf("write event %q: %w", message, err)
	}
}
