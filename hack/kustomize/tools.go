//go:build tools

// Package tools pins kustomize's command as a dependency of this module so
// that `go mod tidy` keeps everything it needs in go.mod/go.sum. The binary is
// built with
//
//	go build sigs.k8s.io/kustomize/kustomize/v5
//
// from this directory (see hack/tool-assets.sh), for the tests (deploy/) to
// build deploy/kustomize with the real kustomize.
package tools

import (
	_ "sigs.k8s.io/kustomize/kustomize/v5"
)
