// Package v1beta1 owns the aviary.dev/v1beta1 API types: Canary, MetricTemplate
// and AlertProvider, a field-for-field mirror of Flagger 1.44's flagger.app/v1beta1
// schema (Go type names and JSON field names included), together with the small
// helper methods whose defaults Flagger defines on those types (analysis interval,
// threshold, ready thresholds, service names, deployment strategy, max weight).
//
// The package holds types and their defaulting helpers and nothing else: it must
// not import the engine, the simulator or any client, and it performs no I/O.
// Documents written against flagger.app/v1beta1 are accepted by the scenario
// loader, which rewrites their group to aviary.dev (see FlaggerGroupVersion).
//
// +kubebuilder:object:generate=true
// +groupName=aviary.dev
package v1beta1
