package engine

import (
	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/engine/workload"
)

// Unsupported is a part of a Canary that the engine does not model: a tick would
// refuse it with a Warning event and go no further, where Flagger would run it.
type Unsupported struct {
	// Field is the path of the field in the Canary, e.g. "spec.provider".
	Field string
	// Msg says what is not supported and what is, as the tick's Warning would.
	Msg string
}

// canaryChecker is implemented by mesh routers that refuse some of a canary's fields
// whatever the weights (router.Istio: session affinity).
type canaryChecker interface {
	CheckCanary(cd *v1beta1.Canary) (field string, err error)
}

// Unsupported lists what of cd the engine would refuse at run time, asking the code a
// tick asks: the mesh router for the provider (meshRouterFor), the target controller
// for the target kind (workload.CheckTarget), the reconciler for the autoscalerRef
// kind (autoscalerFor) and the router's own field checks. The scenario loader calls it
// so that such a canary is an error naming the field before a run, never a run that
// sits in Initializing; a router or target kind that becomes supported is accepted by
// both at once. Nothing is read or written: cd is only looked at.
func (e *Engine) Unsupported(cd *v1beta1.Canary) []Unsupported {
	var out []Unsupported
	mesh, err := e.meshRouterFor(e.providerOf(cd))
	if err != nil {
		out = append(out, Unsupported{Field: "spec.provider", Msg: err.Error()})
	}
	if err := workload.CheckTarget(cd); err != nil {
		out = append(out, Unsupported{Field: "spec.targetRef.kind", Msg: err.Error()})
	}
	if ref := cd.Spec.AutoscalerRef; ref != nil {
		if _, err := e.autoscalerFor(ref.Kind); err != nil {
			out = append(out, Unsupported{Field: "spec.autoscalerRef.kind", Msg: err.Error()})
		}
	}
	if c, ok := mesh.(canaryChecker); ok {
		if field, err := c.CheckCanary(cd); err != nil {
			out = append(out, Unsupported{Field: field, Msg: err.Error()})
		}
	}
	return out
}
