#!/usr/bin/env bash
# Installs Debian packages without questions, as root or through sudo: what scripts/postgres.sh,
# scripts/nginx.sh and scripts/chromium.sh call when a binary they need is missing.
#   scripts/apt-install.sh PACKAGE...
set -euo pipefail
[[ $# -gt 0 ]] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }
echo "== installing from Debian's packages: $*" >&2
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
