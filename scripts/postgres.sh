#!/usr/bin/env bash
# PostgreSQL for the tests and for local use, without Docker: installs Debian's server package when no
# server binary is found (as root, or through sudo), then runs a throwaway cluster on 127.0.0.1.
#   scripts/postgres.sh install            make sure the server binaries exist
#   scripts/postgres.sh start DIR PORT     initdb DIR if empty, start on 127.0.0.1:PORT (trust auth, user postgres)
#   scripts/postgres.sh stop DIR
#   scripts/postgres.sh bindir             print the directory with initdb/pg_ctl
set -euo pipefail

bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && { echo "$d"; return 0; }
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

install() {
  bindir >/dev/null && return 0
  "$(dirname "$0")/apt-install.sh" postgresql
  # the package starts its own cluster on port 5432; the tests run their own
  bindir >/dev/null || { echo "error: PostgreSQL installed but no initdb/pg_ctl found" >&2; exit 1; }
}

# postgres refuses to run as root: as root, the cluster belongs to the 'postgres' user
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql --shell /bin/bash postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local dir=$1 port=$2 bin
  bin=$(bindir) || { install; bin=$(bindir); }
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres "$dir" && chmod 700 "$dir"
    chmod o+x "$(dirname "$dir")"  # the postgres user must reach its directory
  fi
  if [[ ! -f $dir/PG_VERSION ]]; then
    as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 \
      || { cat "$dir.initdb.log" >&2; exit 1; }
  fi
  as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
}

stop() {
  local bin; bin=$(bindir)
  as_owner "$bin/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1 || true
}

case ${1:-} in
  install) install ;;
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  bindir) bindir ;;
  *) echo "usage: $0 install | start DIR PORT | stop DIR | bindir" >&2; exit 2 ;;
esac
