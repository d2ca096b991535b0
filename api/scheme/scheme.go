// Package scheme builds the runtime.Scheme of every type aviary reads or writes:
// Kubernetes' built-ins, aviary's v1beta1 API (in aviary.dev or, for a live controller
// or a world served to one, Flagger's flagger.app), Istio's networking API and
// Traefik's TraefikService and IngressRoute in both of Traefik's groups. The
// simulator's clients and the live controller build theirs here, so both decode
// the same kinds.
//
// It must not know anything that runs: clients, the engine, the simulator.
package scheme

import (
	"fmt"

	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	containous "aviary.dev/aviary/api/traefik/containous/v1alpha1"
	traefik "aviary.dev/aviary/api/traefik/v1alpha1"
	"aviary.dev/aviary/api/v1beta1"
)

// In returns the scheme with aviary's types served in group ("aviary.dev" or
// "flagger.app").
func In(group string) (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	addAviary := func(s *runtime.Scheme) error {
		return v1beta1.AddToSchemeAs(s, schema.GroupVersion{Group: group, Version: v1beta1.GroupVersion.Version})
	}
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, addAviary, istionet.AddToScheme,
		traefik.AddToScheme, containous.AddToScheme} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("build scheme: %w", err)
		}
	}
	return s, nil
}
