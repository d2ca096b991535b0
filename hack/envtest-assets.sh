#!/usr/bin/env bash
# Builds the envtest control-plane binaries (kube-apiserver, etcd) from Go
# modules through the Go module proxy, and caches them under
# bin/k8s/<K8S_VERSION>/. Nothing is downloaded besides Go modules, so
# setup-envtest is not needed.
#
# A binary is rebuilt only when it is missing or its stamp file
# (bin/k8s/<ver>/.<name>.stamp) records a different version or tool-module
# go.mod; otherwise the script returns in well under a second.
#
# Usage: hack/envtest-assets.sh [--force] [--update-modules] [--print-dir]
#   --force           rebuild both binaries even if the stamps match
#   --update-modules  regenerate hack/kube-apiserver/go.mod (replace block) and
#                     re-tidy both tool modules (done automatically when the
#                     versions below differ from what the go.mod files pin)
#   --print-dir       print the assets directory (for KUBEBUILDER_ASSETS) on
#                     stdout; progress always goes to stderr
#
# While a binary builds, a progress line goes to stderr every
# $HACK_PROGRESS_INTERVAL seconds (default 30): elapsed time, modules
# downloaded, packages compiled. The go command's full output is kept in
# bin/k8s/<ver>/.<name>.build.log; its errors are shown as they come.
#
# See hack/README.md for how to bump versions.
set -euo pipefail

# ---- versions: the single source of truth (hack/envtest.mk reads these) ----
K8S_VERSION=v1.36.3   # k8s.io/kubernetes release that kube-apiserver is built from
ETCD_VERSION=v3.6.16  # go.etcd.io/etcd/server/v3 release that etcd is built from
# -----------------------------------------------------------------------------

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HACK="$ROOT/hack"
ASSETS_DIR="${ENVTEST_ASSETS_DIR:-$ROOT/bin/k8s/$K8S_VERSION}"

FORCE=0 UPDATE=0 PRINT_DIR=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --update-modules) UPDATE=1 ;;
    --print-dir) PRINT_DIR=1 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "envtest-assets: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

LOG_NAME=envtest-assets
# shellcheck source=gobuild.sh
source "$HACK/gobuild.sh"

update_modules() {
  log "updating tool modules: k8s.io/kubernetes $K8S_VERSION, go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  (cd "$HACK/gen-k8s-replaces" && GOFLAGS= go run . -k8s-version "$K8S_VERSION" -gomod ../kube-apiserver/go.mod) ||
    die "gen-k8s-replaces failed"
  (cd "$HACK/kube-apiserver" && GOFLAGS= go mod tidy) || die "go mod tidy failed in hack/kube-apiserver"
  (cd "$HACK/etcd" && GOFLAGS= go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION" &&
    GOFLAGS= go mod tidy) || die "go mod tidy failed in hack/etcd"
  log "tool modules updated: commit hack/kube-apiserver/go.{mod,sum} and hack/etcd/go.{mod,sum}"
}

if [[ $UPDATE == 1 ]] ||
  [[ "$(pinned "$HACK/kube-apiserver" k8s.io/kubernetes)" != "$K8S_VERSION" ]] ||
  ! grep -q "from k8s.io/kubernetes@$K8S_VERSION go.mod" "$HACK/kube-apiserver/go.mod" ||
  [[ "$(pinned "$HACK/etcd" go.etcd.io/etcd/server/v3)" != "$ETCD_VERSION" ]]; then
  update_modules
fi

lock_assets_dir

# Build metadata as Kubernetes' own build sets it (hack/lib/version.sh); the
# build date is the release's commit time from the module proxy, so rebuilding
# gives the same binary.
k8s_ldflags() {
  local minor="${K8S_VERSION#v1.}" date pkgpath flags="-s -w"
  minor="${minor%%.*}"
  date="$(cd "$HACK/kube-apiserver" && GOFLAGS=-mod=mod go list -m \
    -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes 2>/dev/null || true)"
  for pkgpath in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkgpath.gitVersion=$K8S_VERSION -X $pkgpath.gitMajor=1 -X $pkgpath.gitMinor=$minor"
    flags+=" -X $pkgpath.gitTreeState=clean -X $pkgpath.buildDate=${date:-1970-01-01T00:00:00Z}"
    flags+=" -X $pkgpath.gitCommit="
  done
  echo "$flags"
}
etcd_ldflags() { echo "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=gomod-$ETCD_VERSION"; }

build kube-apiserver "$HACK/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver "$K8S_VERSION" "≈5 min on 2 idle cores, 10–20 min on a busy machine" k8s_ldflags
build etcd "$HACK/etcd" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "≈1 min on 2 idle cores, a few on a busy machine" etcd_ldflags

log "assets ready in $ASSETS_DIR ($(elapsed) total)"
if [[ $PRINT_DIR == 1 ]]; then
  echo "$ASSETS_DIR"
fi
