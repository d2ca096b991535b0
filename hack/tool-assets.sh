#!/usr/bin/env bash
# Builds a tool the end-to-end test runs (e2e/) from its Go tool module in
# hack/<tool>/ and caches it as bin/<tool>/<version>/<tool>, with the same
# stamps and progress lines as envtest-assets.sh (hack/README.md).
#
#   prometheus  github.com/prometheus/prometheus/cmd/prometheus at the version
#               the root go.mod requires (aviary's PromQL engine is that
#               module), with -tags remove_all_sd: no service discovery
#               plugins (the e2e test scrapes static targets); the web UI's
#               assets are not embedded either (the test uses the HTTP API)
#   flagger     github.com/fluxcd/flagger/cmd/flagger at FLAGGER_VERSION below,
#               the controller `make e2e-flagger` compares aviary's with
#   helm        helm.sh/helm/v4/cmd/helm at HELM_VERSION below: the chart's
#               tests (deploy/) render and lint deploy/charts/aviary with it
#   kustomize   sigs.k8s.io/kustomize/kustomize/v5 at KUSTOMIZE_VERSION below:
#               the tests build deploy/kustomize with it
#
# Usage: hack/tool-assets.sh [--force] [--print-path] TOOL...
#   --force       rebuild even if the stamp matches
#   --print-path  print each binary's path on stdout; progress goes to stderr
#
# When hack/<tool>/go.mod requires another version than the one wanted, it is
# updated first (go mod edit + go mod tidy); commit hack/<tool>/go.{mod,sum}.
set -euo pipefail

# ---- versions ------------------------------------------------------------
FLAGGER_VERSION=v1.44.0 # github.com/fluxcd/flagger release the e2e test runs
HELM_VERSION=v4.3.2      # helm.sh/helm/v4 release the chart is rendered and linted with
# kustomize v5.8.3 needs a newer Go than 1.26; v5.8.2 is the newest this Go builds.
KUSTOMIZE_VERSION=v5.8.2 # sigs.k8s.io/kustomize/kustomize/v5 release
# Prometheus: whatever the root go.mod requires (read below), so the server the
# e2e test queries runs the PromQL engine the simulator embeds.
# --------------------------------------------------------------------------

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HACK="$ROOT/hack"

FORCE=0 PRINT_PATH=0 TOOLS=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --print-path) PRINT_PATH=1 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    prometheus|flagger|helm|kustomize) TOOLS+=("$arg") ;;
    *) echo "tool-assets: unknown argument: $arg (tools: prometheus, flagger, helm, kustomize)" >&2; exit 2 ;;
  esac
done
[[ ${#TOOLS[@]} -gt 0 ]] || { echo "tool-assets: name a tool: prometheus, flagger, helm or kustomize" >&2; exit 2; }

LOG_NAME=tool-assets
# shellcheck source=gobuild.sh
source "$HACK/gobuild.sh"

# sync_module MODDIR MODULE VERSION: makes MODDIR/go.mod require MODULE@VERSION.
sync_module() {
  [[ "$(pinned "$1" "$2")" == "$3" ]] && return 0
  log "updating ${1#"$ROOT"/}/go.mod to $2 $3 (commit its go.mod and go.sum)"
  (cd "$1" && GOFLAGS= go mod edit -require="$2@$3" && GOFLAGS= go mod tidy) ||
    die "updating ${1#"$ROOT"/} to $2 $3 failed (a changed replace directive in $2's go.mod? copy it into ${1#"$ROOT"/}/go.mod)"
}

# Flagger's release build sets the revision (its Makefile); the version is in its source.
flagger_ldflags() { echo "-s -w -X github.com/fluxcd/flagger/pkg/version.REVISION=gomod-$FLAGGER_VERSION"; }
# Helm's and kustomize's release builds set these (their Makefiles), so
# `helm version` and `kustomize version` name the release.
helm_ldflags() {
  local p=helm.sh/helm/v4/internal/version
  echo "-s -w -X $p.version=$HELM_VERSION -X $p.gitCommit=gomod-$HELM_VERSION -X $p.gitTreeState=clean"
}
kustomize_ldflags() {
  local p=sigs.k8s.io/kustomize/api/provenance
  echo "-s -w -X $p.version=kustomize/$KUSTOMIZE_VERSION -X $p.gitCommit=gomod-$KUSTOMIZE_VERSION -X $p.buildDate=1970-01-01T00:00:00Z"
}
# Prometheus' own release build sets these (its .promu.yml); `prometheus --version`
# and /api/v1/status/buildinfo then report the release.
# The module's v0.MMm.p is release M.mm.p (v0.310.0 is 3.10.0).
prometheus_ldflags() {
  local p=github.com/prometheus/common/version v="${PROMETHEUS_VERSION#v0.}" release
  release="$((10#${v%%.*} / 100)).$((10#${v%%.*} % 100)).${v#*.}"
  echo "-s -w -X $p.Version=$release -X $p.Revision=gomod-$PROMETHEUS_VERSION -X $p.Branch=HEAD -X $p.BuildUser=aviary -X $p.BuildDate=19700101-00:00:00"
}

for tool in "${TOOLS[@]}"; do
  case "$tool" in
    prometheus)
      PROMETHEUS_VERSION="$(pinned "$ROOT" github.com/prometheus/prometheus)"
      [[ -n "$PROMETHEUS_VERSION" ]] || die "$ROOT/go.mod does not require github.com/prometheus/prometheus"
      sync_module "$HACK/prometheus" github.com/prometheus/prometheus "$PROMETHEUS_VERSION"
      ASSETS_DIR="$ROOT/bin/prometheus/$PROMETHEUS_VERSION" BUILD_TAGS=remove_all_sd VERSION_ARGS=""
      lock_assets_dir
      build prometheus "$HACK/prometheus" github.com/prometheus/prometheus/cmd/prometheus "$PROMETHEUS_VERSION" \
        "≈5 min on 2 idle cores, more on a busy machine" prometheus_ldflags
      ;;
    flagger)
      sync_module "$HACK/flagger" github.com/fluxcd/flagger "$FLAGGER_VERSION"
      ASSETS_DIR="$ROOT/bin/flagger/$FLAGGER_VERSION" BUILD_TAGS="" VERSION_ARGS=""
      lock_assets_dir
      build flagger "$HACK/flagger" github.com/fluxcd/flagger/cmd/flagger "$FLAGGER_VERSION" \
        "≈4 min on 2 idle cores, more on a busy machine" flagger_ldflags
      ;;
    helm)
      sync_module "$HACK/helm" helm.sh/helm/v4 "$HELM_VERSION"
      ASSETS_DIR="$ROOT/bin/helm/$HELM_VERSION" BUILD_TAGS="" VERSION_ARGS=version
      lock_assets_dir
      build helm "$HACK/helm" helm.sh/helm/v4/cmd/helm "$HELM_VERSION" \
        "≈3 min on 2 idle cores, more on a busy machine" helm_ldflags
      ;;
    kustomize)
      sync_module "$HACK/kustomize" sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
      ASSETS_DIR="$ROOT/bin/kustomize/$KUSTOMIZE_VERSION" BUILD_TAGS="" VERSION_ARGS=version
      lock_assets_dir
      build kustomize "$HACK/kustomize" sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION" \
        "≈1 min on 2 idle cores, more on a busy machine" kustomize_ldflags
      ;;
  esac
  [[ $PRINT_PATH == 0 ]] || echo "$ASSETS_DIR/$tool"
done
