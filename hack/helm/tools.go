//go:build tools

// Package tools pins Helm's command as a dependency of this module so that
// `go mod tidy` keeps everything it needs in go.mod/go.sum. The binary is
// built with
//
//	go build helm.sh/helm/v4/cmd/helm
//
// from this directory (see hack/tool-assets.sh), for the chart's tests
// (deploy/) to render and lint deploy/charts/aviary with the real Helm.
package tools

import (
	_ "helm.sh/helm/v4/cmd/helm"
)
