//go:build tools

// Package tools pins Prometheus' main package as a dependency of this module
// so that `go mod tidy` keeps everything it needs in go.mod/go.sum. The binary
// is built with
//
//	go build -tags remove_all_sd github.com/prometheus/prometheus/cmd/prometheus
//
// from this directory (see hack/tool-assets.sh).
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
)
