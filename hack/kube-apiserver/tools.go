//go:build tools

// Package tools pins the kube-apiserver main package as a dependency of this
// module so that `go mod tidy` keeps everything it needs in go.mod/go.sum.
// The binary is built with
//
//	go build k8s.io/kubernetes/cmd/kube-apiserver
//
// from this directory (see hack/envtest-assets.sh).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
