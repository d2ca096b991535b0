// Package router owns the traffic routers, Flagger 1.44-exact (pkg/router): the
// Kubernetes Services every canary gets (KubernetesServices: apex, -primary, -canary,
// Flagger's KubernetesDefaultRouter) and one mesh router per provider behind
// engine.MeshRouter (Istio: VirtualService and DestinationRules; Traefik:
// TraefikService; Nop: provider kubernetes).
//
// Routers read and write only routing objects through a controller-runtime
// client.Client. They must not touch workloads (Deployments, ConfigMaps, Secrets: see
// package workload) nor the Canary's status.
package router
