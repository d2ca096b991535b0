// The Prometheus Operator's module, for its CRDs only: deploy's tests install
// example/prometheus-operator-crd/monitoring.coreos.com_{podmonitors,servicemonitors}.yaml
// from the module cache (`go mod download -json` here) before applying the chart's
// PodMonitor and ServiceMonitor. Nothing is built from it; there is no tools.go, so
// do not run `go mod tidy` here (it would drop the requirement).
module aviary.dev/hack/prometheus-operator

go 1.26.0

require github.com/prometheus-operator/prometheus-operator v0.85.0
