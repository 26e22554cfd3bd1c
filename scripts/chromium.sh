#!/usr/bin/env bash
# Chromium for the staff console's browser test (Playwright drives Debian's chromium; no browser download):
# installs Debian's `chromium` package when /usr/bin/chromium is missing (as root, or through sudo).
#   scripts/chromium.sh install    make sure /usr/bin/chromium exists
#   scripts/chromium.sh path       print the browser's path (exit 1 if missing)
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

install() {
  [[ -x $CHROMIUM ]] && return 0
  echo "== installing Chromium from Debian's packages (chromium)" >&2
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  [[ -x $CHROMIUM ]] || { echo "error: chromium installed but $CHROMIUM not found" >&2; exit 1; }
}

case ${1:-} in
  install) install ;;
  path) [[ -x $CHROMIUM ]] && echo "$CHROMIUM" ;;
  *) echo "usage: $0 install | path" >&2; exit 2 ;;
esac
