//go:build tools

// Package tools pins the etcd main package as a dependency of this module so
// that `go mod tidy` keeps everything it needs in go.mod/go.sum. The binary is
// built with
//
//	go build go.etcd.io/etcd/server/v3
//
// from this directory (see hack/envtest-assets.sh).
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
