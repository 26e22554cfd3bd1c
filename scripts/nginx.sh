#!/usr/bin/env bash
# nginx for the local cluster (scripts/cluster.sh) and its test, without Docker: installs Debian's package
# when no nginx binary is found (as root, or through sudo), then runs nginx with its own prefix, config,
# pid file and logs under a state folder, never the system service.
#   scripts/nginx.sh install              make sure the nginx binary exists
#   scripts/nginx.sh start DIR CONF       start nginx (daemon) with prefix DIR and config CONF (pid: DIR/nginx.pid)
#   scripts/nginx.sh stop DIR             graceful stop of the nginx started with prefix DIR
#   scripts/nginx.sh bin                  print the path of the nginx binary
set -euo pipefail

bin() {
  local candidate
  for candidate in "$(command -v nginx 2>/dev/null || true)" /usr/sbin/nginx /usr/local/sbin/nginx; do
    [[ -n $candidate && -x $candidate ]] && { echo "$candidate"; return 0; }
  done
  return 1
}

install() {
  bin >/dev/null && return 0
  "$(dirname "$0")/apt-install.sh" nginx
  bin >/dev/null || { echo "error: nginx installed but no nginx binary found" >&2; exit 1; }
  # the package may start its own server on port 80 (the system service): the cluster runs its own
  if [[ -s /run/nginx.pid ]] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
    if [[ $(id -u) -eq 0 ]]; then "$(bin)" -s quit; else sudo "$(bin)" -s quit; fi 2>/dev/null || true
  fi
}

start() {
  local dir=$1 conf=$2 nginx
  nginx=$(bin) || { install; nginx=$(bin); }
  mkdir -p "$dir/logs" "$dir/tmp"
  # -e: the error log before the config is read (the compiled-in /var/log/nginx may not be writable)
  "$nginx" -t -q -p "$dir" -c "$conf" -e "$dir/logs/error.log" || { echo "error: nginx rejected $conf" >&2; exit 1; }
  "$nginx" -p "$dir" -c "$conf" -e "$dir/logs/error.log"
}

stop() {
  local dir=$1 pid
  [[ -s $dir/nginx.pid ]] || return 0
  pid=$(cat "$dir/nginx.pid")
  kill -QUIT "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -TERM "$pid" 2>/dev/null || true
}

case ${1:-} in
  install) install ;;
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  bin) bin ;;
  *) echo "usage: $0 install | start DIR CONF | stop DIR | bin" >&2; exit 2 ;;
esac
