package controller

import (
	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/record"
)

// loggedEvents is the engine's EventSink: each event goes to the Kubernetes event
// recorder and, like Flagger's recordEvent*f, to the log with the event's message as
// msg and the canary as "name.namespace". Flagger logs Warning events at info level
// (recordEventWarningf) except the metric-query failures it records with
// recordEventErrorf; the engine's events do not say which is which, so every event is
// logged at info.
type loggedEvents struct {
	recorder record.EventRecorder
	log      *zap.Logger
}

func (l loggedEvents) Event(obj runtime.Object, eventType, reason, message string) {
	if m, err := meta.Accessor(obj); err == nil {
		l.log.Info(message, zap.String("canary", m.GetName()+"."+m.GetNamespace()))
	} else {
		l.log.Info(message)
	}
	l.recorder.Event(obj, eventType, reason, message)
}
