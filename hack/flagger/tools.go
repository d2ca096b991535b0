//go:build tools

// Package tools pins Flagger's main package as a dependency of this module so
// that `go mod tidy` keeps everything it needs in go.mod/go.sum. The binary is
// built with
//
//	go build github.com/fluxcd/flagger/cmd/flagger
//
// from this directory (see hack/tool-build.sh), for the end-to-end test to run
// the real Flagger as the controller under test (make e2e-flagger).
package tools

import (
	_ "github.com/fluxcd/flagger/cmd/flagger"
)
