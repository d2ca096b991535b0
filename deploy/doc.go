// Package deploy holds what makes aviary installable — the Helm chart in
// charts/aviary and the kustomize base in kustomize/ — and the code that generates
// their derived files, so that none is written by hand:
//
//   - the chart's CRDs (charts/aviary/files/crds/<group>/), from the one source of
//     aviary's API, fixtures.CRDsInGroup (ChartCRDs);
//   - the kustomize base (kustomize/), from the chart's default render without
//     Helm's own metadata (KustomizeBase, WithoutHelmMetadata).
//
// `make chart-crds kustomize-base` (hack/deploy-gen) writes them; the package's
// tests render, lint and install the chart on a real API server and fail when a
// generated file is stale.
//
// The package reads manifests only: it must not know the controller, the engine or
// the simulator (what the chart passes the controller is checked by its tests).
package deploy
