// Package workload is the target controller for Deployment targets, Flagger 1.44-exact
// (pkg/canary/deployment_controller.go, deployment_ready.go, config_tracker.go; see
// docs/flagger-semantics.md#readiness).
//
// It owns the primary copy of the target (<target>-primary and the -primary copies of
// the ConfigMaps and Secrets the target uses): its creation, the promotion of the
// target's pod template to it, the target's scale to and from zero, the readiness
// verdicts of both Deployments, the target's spec hash and the checksums of its tracked
// configs; and, with autoscalerRef, the primary's HorizontalPodAutoscaler (HPA,
// pkg/canary/hpa_reconciler.go). Everything goes through a controller-runtime client.Client and time through a
// clock.PassiveClock, so the same code runs against the fake client, envtest and a real
// cluster.
//
// It must not touch routing (Services, VirtualServices: see package router) nor the
// Canary's status (the engine writes it).
package workload
