#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/e2e/test_browser_journeys.py), which drive it
# with Playwright: Playwright's own browser download is not reachable from here, so the tests point it at
# the system Chromium (CHROMIUM, default /usr/bin/chromium).
#
# Idempotent and quick: when that Chromium starts and prints its version, nothing is installed.
# Otherwise: `apt-get install chromium` (apt-get update first, sudo when not root).
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

log() { printf 'install-browser: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

chromium_version() { "$CHROMIUM" --version 2>/dev/null | head -n 1; }

if [[ -x "$CHROMIUM" ]] && version=$(chromium_version) && [[ -n "$version" ]]; then
  log "$version already installed at $CHROMIUM"
  exit 0
fi

[[ "$CHROMIUM" == /usr/bin/chromium ]] \
  || die "CHROMIUM=$CHROMIUM does not run; only the Debian package (/usr/bin/chromium) is installed by this script"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install Chromium by hand and set CHROMIUM to its path"

if [[ "$(id -u)" == 0 ]]; then SUDO=(); else SUDO=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
log "installing Debian's chromium and fonts-liberation (Arial's metrics, for the browser tests)"
"${SUDO[@]}" apt-get update -qq >/dev/null || die "apt-get update failed"
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null \
  || die "apt-get install chromium failed"

version=$(chromium_version) || true
[[ -n "${version:-}" ]] || die "chromium was installed but $CHROMIUM --version does not run"
log "installed $version at $CHROMIUM"
