// Package v1alpha1 owns Traefik's TraefikService and IngressRoute in Traefik's older
// group traefik.containo.us/v1alpha1: the group of Traefik v2 up to v2.9, still
// served by v2.10 and v2.11 next to traefik.io (Traefik v3 dropped it), and the one
// older Flagger versions wrote and many published setups use. Their specs are
// traefik.io's (package aviary.dev/aviary/api/traefik/v1alpha1): only the group
// differs. aviary's router writes traefik.io, as Flagger 1.44 does; objects in this
// group are accepted as users write them.
//
// The package holds types only: it must not import the engine, the simulator or any
// client, and it performs no I/O.
//
// +kubebuilder:object:generate=true
// +groupName=traefik.containo.us
package v1alpha1
