#!/usr/bin/env bash
# Makes headless Chromium available for the HTML report's real-browser test
# (reports/browser_test.go) and prints the browser's path on standard output;
# what it does goes to standard error. `make browser` runs it, and `make test`
# depends on that.
#
#   bash hack/chromium/install.sh      # prints e.g. /usr/bin/chromium
#
# $CHROMIUM, when set to an executable, is used as is. Otherwise an installed
# chromium (Debian package "chromium") is used; when there is none and this runs as
# root on a machine with apt-get (CI), the script installs it (apt-get update first,
# quietly). Anywhere else it says what to install and exits 1. When a browser is
# already there it installs nothing and returns at once.
set -euo pipefail

log() { echo "chromium/install.sh: $*" >&2; }

# The names reports/browser_test.go looks for, in the same order.
NAMES=(chromium chromium-browser google-chrome-stable google-chrome)

find_chromium() {
	if [[ -n "${CHROMIUM:-}" ]]; then
		if [[ -f "${CHROMIUM}" && -x "${CHROMIUM}" ]]; then
			echo "${CHROMIUM}"
			return 0
		fi
		log "\$CHROMIUM=${CHROMIUM} is not an executable file; looking for ${NAMES[*]} on \$PATH"
	fi
	local c
	for c in "${NAMES[@]}"; do
		if command -v "$c" >/dev/null 2>&1; then
			command -v "$c"
			return 0
		fi
	done
	return 1
}

# found PATH: say which browser is used and print its path.
found() {
	local version
	version="$(timeout 20 "$1" --version 2>/dev/null | head -n1 || true)"
	log "using $1 (${version:-its --version printed nothing})"
	echo "$1"
}

if path="$(find_chromium)"; then
	found "$path"
	exit 0
fi

why=""
if [[ "$(id -u)" != 0 ]]; then
	why="this is not running as root"
elif ! command -v apt-get >/dev/null 2>&1; then
	why="there is no apt-get on this machine"
fi

if [[ -z "$why" ]]; then
	log "no Chromium found (${NAMES[*]}); installing Debian's chromium and fonts-liberation with apt-get (takes a minute or two)…"
	export DEBIAN_FRONTEND=noninteractive
	log "apt-get update"
	if apt-get update -qq >&2; then
		log "apt-get install chromium fonts-liberation"
		if apt-get install -y -qq chromium fonts-liberation >/dev/null; then
			if path="$(find_chromium)"; then
				log "installed chromium"
				found "$path"
				exit 0
			fi
			log "ERROR: apt-get installed chromium, but none of ${NAMES[*]} is on \$PATH"
			exit 1
		fi
	fi
	log "ERROR: apt-get could not install chromium (its errors are above)"
	exit 1
fi

log "ERROR: headless Chromium is not installed (none of ${NAMES[*]} is on \$PATH and \$CHROMIUM does not name one), and it cannot be installed here: $why (the script installs it only as root with apt-get)."
cat >&2 <<'MSG'
Install it yourself, then rerun `make test`:
  Debian/Ubuntu:  sudo apt-get install chromium     (Ubuntu may name it chromium-browser)
  Fedora:         sudo dnf install chromium
  macOS:          brew install --cask chromium, then export CHROMIUM=/path/to/Chromium
or point $CHROMIUM at any Chromium or Chrome binary, or run `sudo make browser`.
MSG
exit 1
