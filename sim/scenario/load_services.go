package scenario

import (
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"aviary.dev/aviary/engine/router"
	"aviary.dev/aviary/engine/workload"
	"aviary.dev/aviary/sim/apicheck"
)

// ---------------------------------------------------------------------------------
// The Services Flagger generates from the Canary

// checkServices holds the Services Flagger will create from the Canary (the engine's
// own router.GeneratedServices) against the API server's rules for Services
// (apicheck, which the fast client judges by too). The CRD admits a Canary whose
// service.port is -1; the API server then refuses every Service Flagger makes of
// it, and Flagger retries on every tick and never initializes. The loader says so
// at the Canary's field, in the API server's words, in both cluster modes alike.
func (l *loader) checkServices(ld *Loaded) {
	cd, d := ld.Canary, l.canaryDoc
	key, value := "app", cd.Spec.TargetRef.Name // the target aviary generates
	if ld.Target != nil {
		if k, v, ok := workload.SelectorLabel(ld.Target.Spec.Selector, workload.DefaultSelectorLabels); ok {
			key, value = k, v
		}
	}
	type problem struct {
		services []string
		errs     field.ErrorList // the first Service's
	}
	problems := map[string]*problem{}
	var order []string
	for i, svc := range router.GeneratedServices(cd, key, value) {
		role := [...]string{"canary", "primary", "apex"}[i]
		byField := map[string]field.ErrorList{}
		for _, e := range apicheck.Errors(svc, nil) {
			if f := canaryServiceField(cd.Spec.Service.Name != "", cd.Spec.Service.TargetPort.String() != "0", role, e.Field); f != "" {
				byField[f] = append(byField[f], e)
			}
		}
		for _, f := range sortedMapKeys(byField) {
			p, seen := problems[f]
			if !seen {
				p = &problem{errs: byField[f]}
				problems[f] = p
				order = append(order, f)
			}
			p.services = append(p.services, svc.Name)
		}
	}
	for _, f := range order {
		p := problems[f]
		first := p.services[0]
		l.policyErr(d, nil, f, "the API server refuses the Services Flagger generates from it (%s), so Flagger would retry on every tick and never initialize: %v",
			strings.Join(p.services, ", "), apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, first, p.errs))
	}
}

// canaryServiceField is the Canary field a generated Service's field comes from ("" for
// what the API server or Flagger sets): its name from service.name or targetRef.name,
// its port from service.port, its targetPort from service.targetPort (else the port),
// its port name from service.portName, its labels and annotations from service.apex,
// service.canary or service.primary.
func canaryServiceField(named, targetPort bool, role, path string) string {
	switch {
	case path == "metadata.name" && named:
		return "spec.service.name"
	case path == "metadata.name":
		return "spec.targetRef.name"
	case strings.HasPrefix(path, "metadata.labels"):
		return fmt.Sprintf("spec.service.%s.labels", role)
	case strings.HasPrefix(path, "metadata.annotations"):
		return fmt.Sprintf("spec.service.%s.annotations", role)
	case path == "spec.ports[0].port", path == "spec.ports[0].targetPort" && !targetPort:
		return "spec.service.port"
	case path == "spec.ports[0].targetPort":
		return "spec.service.targetPort"
	case path == "spec.ports[0].name":
		return "spec.service.portName"
	}
	return ""
}
