#!/usr/bin/env bash
# Makes headless Chromium available for the HTML report's real-browser test
# (reports/browser_test.go) and prints the browser's path on standard output.
#
#   bash hack/chromium/install.sh      # prints e.g. /usr/bin/chromium
#
# $CHROMIUM, when set to an executable, is used as is. Otherwise an installed
# chromium (Debian package "chromium") is used; when there is none and this runs as
# root on a machine with apt-get (CI), the script installs it (apt-get update first,
# quietly). Anywhere else it prints how to install it and exits 1.
set -euo pipefail

find_chromium() {
	if [[ -n "${CHROMIUM:-}" && -x "${CHROMIUM}" ]]; then
		echo "${CHROMIUM}"
		return 0
	fi
	local c
	for c in chromium chromium-browser google-chrome-stable google-chrome; do
		if command -v "$c" >/dev/null 2>&1; then
			command -v "$c"
			return 0
		fi
	done
	return 1
}

if find_chromium; then
	exit 0
fi

if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
	echo "install.sh: installing chromium with apt-get (takes a minute)" >&2
	export DEBIAN_FRONTEND=noninteractive
	if apt-get update -qq >&2 && apt-get install -y -qq chromium fonts-liberation >/dev/null; then
		if find_chromium; then
			exit 0
		fi
	fi
	echo "install.sh: apt-get could not install chromium" >&2
	exit 1
fi

cat >&2 <<'MSG'
install.sh: headless Chromium is not installed, and this script installs it only as
root on a machine with apt-get. Install it yourself, then rerun the tests:
  Debian/Ubuntu:  sudo apt-get install chromium     (Ubuntu may name it chromium-browser)
  Fedora:         sudo dnf install chromium
  macOS:          brew install --cask chromium, then export CHROMIUM=/path/to/Chromium
or point $CHROMIUM at any Chromium or Chrome binary.
MSG
exit 1
