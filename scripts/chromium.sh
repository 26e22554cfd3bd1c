#!/usr/bin/env bash
# Chromium for the staff console's browser test (Playwright drives Debian's chromium; no browser download):
# installs Debian's `chromium` package when /usr/bin/chromium is missing, and a font with Urdu's letters
# (fonts-noto-core) when fontconfig knows none (as root, or through sudo).
#   scripts/chromium.sh install    make sure /usr/bin/chromium and an Urdu font exist
#   scripts/chromium.sh path       print the browser's path (exit 1 if missing)
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

urdu_font() {
  command -v fc-list >/dev/null && [[ -n $(fc-list :lang=ur family 2>/dev/null) ]]
}

install() {
  local packages=()
  [[ -x $CHROMIUM ]] || packages+=(chromium fonts-dejavu-core)
  urdu_font || packages+=(fonts-noto-core)
  [[ ${#packages[@]} -eq 0 ]] && return 0
  "$(dirname "$0")/apt-install.sh" "${packages[@]}"
  [[ -x $CHROMIUM ]] || { echo "error: chromium installed but $CHROMIUM not found" >&2; exit 1; }
}

case ${1:-} in
  install) install ;;
  path) [[ -x $CHROMIUM ]] && echo "$CHROMIUM" ;;
  *) echo "usage: $0 install | path" >&2; exit 2 ;;
esac
