# envtest control-plane binaries (kube-apiserver, etcd), built from Go modules
# by hack/envtest-assets.sh into bin/k8s/<version>/ (see hack/README.md).
#
# Usage from the main Makefile:
#
#   include hack/envtest.mk
#   test: envtest-assets
#   	go test ./...          # KUBEBUILDER_ASSETS is exported below
#
# The versions live at the top of hack/envtest-assets.sh; they are read from
# there so that the script and make can never disagree.

ENVTEST_SCRIPT := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))/envtest-assets.sh

ENVTEST_K8S_VERSION := $(shell sed -n 's/^K8S_VERSION=\([^[:space:]]*\).*/\1/p' $(ENVTEST_SCRIPT))
ENVTEST_ETCD_VERSION := $(shell sed -n 's/^ETCD_VERSION=\([^[:space:]]*\).*/\1/p' $(ENVTEST_SCRIPT))
ifeq ($(ENVTEST_K8S_VERSION),)
$(error could not read K8S_VERSION from $(ENVTEST_SCRIPT))
endif

ENVTEST_ASSETS_DIR := $(CURDIR)/bin/k8s/$(ENVTEST_K8S_VERSION)

# controller-runtime's envtest looks the binaries up here (it takes precedence
# over envtest.Environment.BinaryAssetsDirectory). Exported for every recipe
# (an explicit KUBEBUILDER_ASSETS from the environment wins),
# so `go test` in any test target finds them once envtest-assets has run.
export KUBEBUILDER_ASSETS ?= $(ENVTEST_ASSETS_DIR)

.PHONY: envtest-assets
envtest-assets: ## Build kube-apiserver and etcd for envtest into bin/k8s/<version>/ (cached)
	@ENVTEST_ASSETS_DIR="$(ENVTEST_ASSETS_DIR)" bash $(ENVTEST_SCRIPT)
