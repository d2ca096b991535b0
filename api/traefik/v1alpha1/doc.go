// Package v1alpha1 owns the types of Traefik's Kubernetes CRDs that aviary reads and
// writes, in Traefik's current group traefik.io/v1alpha1 (Traefik v2.10 and later):
// TraefikService, which Flagger's Traefik router writes (Flagger 1.44 writes this
// group only), and IngressRoute, which users write to send traffic to it. Field names
// and JSON are Traefik's (pkg/provider/kubernetes/crd/traefikio/v1alpha1 of Traefik
// v3.6, a superset of v2.11's), so that the objects people apply decode unchanged;
// the CRDs in fixtures/crds are generated from these types by controller-gen and
// keep Traefik's validations for the fields modelled. The older group
// traefik.containo.us has the same objects in package containous/v1alpha1.
//
// The package holds types only: it must not import the engine, the simulator or any
// client, and it performs no I/O.
//
// +kubebuilder:object:generate=true
// +groupName=traefik.io
package v1alpha1
