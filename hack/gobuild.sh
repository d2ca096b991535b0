# Shared by the scripts that build binaries from Go tool modules into bin/
# (envtest-assets.sh, tool-assets.sh): sourced, not run. The caller sets
# LOG_NAME (the prefix of its stderr lines) and, before calling build,
# ASSETS_DIR (where the binary goes) and optionally BUILD_TAGS; FORCE=1
# rebuilds even when the stamp matches. See hack/README.md ("Progress output").
# shellcheck shell=bash

START=$SECONDS
log() { echo "$LOG_NAME: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
mmss() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
elapsed() { mmss $((SECONDS - START)); }

# HACK_PROGRESS_INTERVAL; ENVTEST_PROGRESS_INTERVAL is its older name.
PROGRESS_INTERVAL="${HACK_PROGRESS_INTERVAL:-${ENVTEST_PROGRESS_INTERVAL:-30}}"
[[ "$PROGRESS_INTERVAL" =~ ^[1-9][0-9]*$ ]] ||
  die "HACK_PROGRESS_INTERVAL must be a whole number of seconds, not '$PROGRESS_INTERVAL'"

# A half-written binary is removed however the script ends (failure, Ctrl-C).
TMP_BIN=""
trap '[[ -z "$TMP_BIN" ]] || rm -f "$TMP_BIN"' EXIT

command -v go >/dev/null 2>&1 || die "go is not on PATH"

# The tool modules are built on their own: never through a go.work, and with
# -mod=mod so a go.sum entry the toolchain wants but lacks is fetched rather
# than failing (the committed go.sum files keep the build reproducible).
export GOWORK=off GO111MODULE=on CGO_ENABLED=0
BUILD_GOFLAGS="-mod=mod -buildvcs=false -trimpath"

# pinned MODDIR MODULE: the version MODDIR/go.mod requires MODULE at (cheap, no go command).
pinned() {
  sed -nE "s#^[[:space:]]*(require[[:space:]]+)?${2//./\\.}[[:space:]]+(v[^[:space:]]+).*#\\2#p" "$1/go.mod" | head -n1
}

# lock_assets_dir: creates ASSETS_DIR and serialises concurrent runs (e.g.
# make -j) on it until the script exits.
lock_assets_dir() {
  mkdir -p "$ASSETS_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$ASSETS_DIR/.lock"
    flock 9
  fi
}

PLATFORM="$(go env GOOS)/$(go env GOARCH)"

# stamp NAME PKG VERSION MODDIR: what the binary is built from.
stamp() {
  # go.mod alone fixes the build list; go.sum only holds checksums (and grows
  # with harmless extra lines after e.g. `go list -m all`), so it is left out.
  local sum
  sum="$(sha256sum <"$4/go.mod" | cut -d' ' -f1)"
  printf '%s %s@%s %s go.mod=%s%s\n' "$1" "$2" "$3" "$PLATFORM" "$sum" "${BUILD_TAGS:+ tags=$BUILD_TAGS}"
}

# A bare import path on a line of its own: what `go list -deps` prints on
# stdout and `go build -v` on stderr for each package it compiles. Errors and
# warnings always contain a space or a colon.
PKG_LINE='^[A-Za-z0-9._~+/-]+$'

# progress PHASE NAME T0 LOG [TOTAL]: reads the go command's combined output on
# stdin, appends it all to LOG and reports on stderr:
#   PHASE=list   counts the packages (stdout of go list -deps); other lines are
#                only logged, as go build reports the same problems;
#   PHASE=build  counts the packages compiled (go build -v) and shows every
#                other line (compiler errors, warnings) as it comes.
# Both count "go: downloading" lines. A line every PROGRESS_INTERVAL seconds
# says how far it is (elapsed time counted from T0). It runs as the last command of a
# pipeline, not in the background, so it ends with the go command on every path
# (success, failure, Ctrl-C) and there is nothing to kill.
progress() {
  set +e # reporting must never fail the build; the go command's status decides
  local phase=$1 name=$2 t0=$3 logfile=$4 total=${5:-} line partial="" eof=0
  local pkgs=0 downloads=0 last="" next=$((SECONDS + PROGRESS_INTERVAL)) what
  exec 3>>"$logfile"
  while [[ $eof == 0 ]]; do
    # read -t wakes up every second even when the go command is silent; a
    # line cut by the timeout is kept and completed by the next read.
    if IFS= read -r -t 1 line; then
      line="$partial$line" partial=""
    elif (($? > 128)); then
      partial+="$line" line=""
    else
      line="$partial$line" partial="" eof=1
    fi
    if [[ -n "$line" ]]; then
      printf '%s\n' "$line" >&3
      if [[ "$line" == "go: downloading "* ]]; then
        downloads=$((downloads + 1))
        [[ $downloads == 1 ]] && log "  $name: downloading Go modules through the module proxy (the progress lines count them; the list is in $logfile)"
      elif [[ "$line" =~ $PKG_LINE ]]; then
        pkgs=$((pkgs + 1)) last=$line
      elif [[ $phase == build ]]; then
        printf '%s\n' "$line" >&2
      fi
    fi
    if [[ $eof == 0 && $SECONDS -ge $next ]]; then
      next=$((SECONDS + PROGRESS_INTERVAL))
      if [[ $phase == list ]]; then
        what="resolving the package graph"
      elif [[ -n "$total" ]]; then
        what="$pkgs of $total packages compiled (cached ones are not counted)"
      else
        what="$pkgs packages compiled (cached ones are not counted)"
      fi
      [[ $phase == build && -n "$last" && "$last" == "$PKG" ]] && what="$what; linking"
      [[ $downloads -gt 0 ]] && what="$what; $downloads modules downloaded"
      log "  $name: $(mmss $((SECONDS - t0))) elapsed: $what"
    fi
  done
  exec 3>&-
  return 0
}

# build NAME MODDIR PKG VERSION COLD_ESTIMATE LDFLAGS_FUNC
build() {
  local name=$1 moddir=$2 pkg=$3 version=$4 estimate=$5 ldflags_func=$6
  local bin="$ASSETS_DIR/$name" stampfile="$ASSETS_DIR/.$name.stamp" want ldflags
  want="$(stamp "$name" "$pkg" "$version" "$moddir")"
  if [[ $FORCE == 0 && -x "$bin" && -f "$stampfile" && "$(cat "$stampfile")" == "$want" ]]; then
    log "$name $version up to date ($bin)"
    return 0
  fi
  local t0=$SECONDS tmp="$bin.tmp.$$" logfile="$ASSETS_DIR/.$name.build.log" total="" downloads compiled st
  ldflags="$("$ldflags_func")"
  log "building $name $version from $pkg (cold: $estimate; seconds with a warm Go build cache);" \
    "a progress line every ${PROGRESS_INTERVAL}s…"
  rm -f "$stampfile"
  : >"$logfile"
  PKG=$pkg TMP_BIN=$tmp

  # 1. The package graph, once: the total for the progress lines. This is also
  # where the modules are downloaded on a fresh machine.
  echo "# go list -deps $pkg" >>"$logfile"
  if (cd "$moddir" && GOFLAGS="$BUILD_GOFLAGS" go list -deps ${BUILD_TAGS:+-tags "$BUILD_TAGS"} "$pkg" 2>&1) | progress list "$name" "$t0" "$logfile"; then
    total="$(grep -cE "$PKG_LINE" "$logfile" || true)"
    downloads="$(grep -c '^go: downloading ' "$logfile" || true)"
    [[ $downloads == 0 ]] && downloads="" || downloads=", $downloads modules downloaded"
    log "  $name: $(mmss $((SECONDS - t0))) elapsed: $total packages in the build$downloads; compiling…"
  else
    log "  $name: go list -deps failed (output in $logfile); building anyway, without a package total"
  fi

  # 2. The build, with -v so that each compiled package is reported.
  echo "# go build -v -o $tmp $pkg" >>"$logfile"
  set +e
  (cd "$moddir" && GOFLAGS="$BUILD_GOFLAGS" go build -v ${BUILD_TAGS:+-tags "$BUILD_TAGS"} -ldflags "$ldflags" -o "$tmp" "$pkg" 2>&1) |
    progress build "$name" "$t0" "$logfile" "$total"
  st=("${PIPESTATUS[@]}")
  set -e
  if [[ ${st[0]} != 0 || ${st[1]} != 0 ]]; then
    rm -f "$tmp"
    die "building $name $version from $pkg failed after $((SECONDS - t0))s (exit status ${st[0]}; the go command's errors are above, its full output in $logfile)"
  fi
  compiled="$(sed -n '/^# go build -v /,$p' "$logfile" | grep -cE "$PKG_LINE" || true)"
  # VERSION_ARGS: how the tool prints its version (helm and kustomize: `version`).
  "$tmp" ${VERSION_ARGS:---version} >/dev/null 2>&1 || { rm -f "$tmp"; die "built $name does not run ($tmp ${VERSION_ARGS:---version} failed)"; }
  mv -f "$tmp" "$bin"
  TMP_BIN=""
  echo "$want" >"$stampfile"
  log "built $name $version in $((SECONDS - t0))s ($(du -h "$bin" | cut -f1); $compiled packages compiled${total:+ of $total}, the rest cached): $bin"
}

