#!/usr/bin/env bash
# The scale-out topology on this machine, from Debian packages and the project's own environments, no
# Docker: PostgreSQL, Rasa servers, bot workers in webhook mode, the staff console, and nginx in front
# (TLS with a self-signed certificate made here). docker-compose.yml is the same layout in containers.
#
#   scripts/cluster.sh up       start what is not running (idempotent: a worker that died is started
#                               again; the worker count can change); prints the URLs
#   scripts/cluster.sh down     stop everything `up` started
#   scripts/cluster.sh status   what runs, with pids and URLs
#   scripts/cluster.sh config   only render nginx's config (and the certificate) and check it (nginx -t)
#
# Everything listens on 127.0.0.1; state (logs, pids, certificate, database) lives in CLUSTER_DIR.
# Settings (environment, or .env for the application's own variables):
#   CLUSTER_DIR          state folder (default var/cluster)
#   CLUSTER_PORT         nginx's HTTPS port (default 18440); the others follow it: PostgreSQL +1,
#                        the console +2, Rasa server i +10+i, bot worker i +20+i
#   CLUSTER_WORKERS      bot workers (default 2); CLUSTER_RASA: Rasa servers (default 2). Worker i asks
#                        Rasa server ((i-1) mod CLUSTER_RASA)+1, as docker-compose.yml's bot1 -> rasa1
#   CLUSTER_PUBLIC_URL   the address Telegram and staff reach (default https://127.0.0.1:CLUSTER_PORT)
#   TELEGRAM_BOT_TOKEN   required; TELEGRAM_API_BASE_URL points the workers at another Bot API server
#   TELEGRAM_WEBHOOK_SECRET, CONSOLE_SECRET: made once and kept in CLUSTER_DIR when not set
#   TELEGRAM_MAX_RATE    messages/s per worker (default: Telegram's 30 per bot shared by the workers)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${CLUSTER_DIR:-$ROOT/var/cluster}
PORT=${CLUSTER_PORT:-18440}
WORKERS=${CLUSTER_WORKERS:-2}
RASAS=${CLUSTER_RASA:-2}
PUBLIC_URL=${CLUSTER_PUBLIC_URL:-https://127.0.0.1:$PORT}
PG_PORT=$((PORT + 1))
CONSOLE_PORT=$((PORT + 2))
DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/safesafar"
PY=$ROOT/.venv/bin/python
SAFESAFAR=$ROOT/.venv/bin/safesafar

rasa_port() { echo $((PORT + 10 + $1)); }
bot_port() { echo $((PORT + 20 + $1)); }
log() { echo "cluster: $*" >&2; }
die() { echo "cluster: error: $*" >&2; exit 1; }

running() {  # running PID: the process exists and is not a zombie (a killed process whose parent,
  # init after cluster.sh exited, has not reaped it yet still answers kill -0)
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

alive() {  # alive NAME: its pid file names a running process
  local pidfile=$DIR/run/$1.pid
  [[ -s $pidfile ]] && running "$(cat "$pidfile")"
}

launch() {  # launch NAME CMD...: in its own session (pid = process group), output to logs/NAME.log
  local name=$1; shift
  (cd "$ROOT" && exec setsid "$@" >>"$DIR/logs/$name.log" 2>&1 </dev/null) &
  echo $! >"$DIR/run/$name.pid"
}

halt() {  # halt NAME: SIGTERM to its process group, SIGKILL after 20 s
  local name=$1 pidfile=$DIR/run/$1.pid pid
  [[ -s $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  if running "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 200); do running "$pid" || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    log "stopped $name"
  fi
  rm -f "$pidfile"
}

halt_beyond() {  # halt_beyond PREFIX COUNT: stops PREFIX<n> for n > COUNT (CLUSTER_WORKERS went down)
  local pidfile name
  for pidfile in "$DIR/run/$1"*.pid; do
    [[ -e $pidfile ]] || continue
    name=$(basename "$pidfile" .pid)
    if ((${name#"$1"} > $2)); then halt "$name"; fi
  done
}

wait_for() {  # wait_for NAME SECONDS CMD...: until CMD succeeds; fails early when NAME died
  local name=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! alive "$name"; then
      local code=0 pid
      pid=$(cat "$DIR/run/$name.pid" 2>/dev/null || true)
      [[ -n $pid ]] && { wait "$pid" 2>/dev/null || code=$?; }
      tail -n 30 "$DIR/logs/$name.log" >&2 || true
      die "$name (pid ${pid:-?}) exited with status $code (log: $DIR/logs/$name.log)"
    fi
    ((SECONDS < deadline)) || die "$name not ready within $seconds s (log: $DIR/logs/$name.log)"
    sleep 0.5
  done
}

secret() {  # secret NAME: made once, kept in the state folder
  local file=$DIR/$1.secret
  [[ -s $file ]] || (umask 077 && openssl rand -hex 32 >"$file")
  cat "$file"
}

rasa_ready() { curl -sf "http://127.0.0.1:$1/status" | grep -q '"model_file"'; }
listening() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"; }

certificate() {
  local tls=$DIR/tls
  [[ -s $tls/cert.pem && -s $tls/key.pem ]] && return 0
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null
  chmod 600 "$tls/key.pem"
  log "made a self-signed certificate: $tls/cert.pem"
}

postgres() {
  local data=$DIR/pg bin
  if ! { [[ -s $data/postmaster.pid ]] && running "$(head -n 1 "$data/postmaster.pid")"; }; then
    "$ROOT/scripts/postgres.sh" start "$data" "$PG_PORT"
    log "PostgreSQL on 127.0.0.1:$PG_PORT"
  fi
  bin=$("$ROOT/scripts/postgres.sh" bindir)
  local psql="$bin/psql"; [[ -x $psql ]] || psql=psql
  if [[ $("$psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='safesafar'") != 1 ]]; then
    "$psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE safesafar" >/dev/null
  fi
  DATABASE_URL=$DATABASE_URL "$SAFESAFAR" db upgrade >/dev/null
}

nginx_conf() {  # renders the shared template and this cluster's upstreams; true when the config changed
  local dir=$DIR/nginx i new
  mkdir -p "$dir/upstreams" "$dir/tmp" "$dir/logs"
  {
    for ((i = 1; i <= WORKERS; i++)); do echo "server 127.0.0.1:$(bot_port "$i") max_fails=1 fail_timeout=5s;"; done
  } >"$dir/upstreams/bots.conf"
  echo "server 127.0.0.1:$CONSOLE_PORT;" >"$dir/upstreams/console.conf"
  # the template's ${NAME}s, as the nginx image's envsubst fills them in docker-compose.yml
  local SAFESAFAR_HTTPS_LISTEN="127.0.0.1:$PORT" SAFESAFAR_TLS_CERT="$DIR/tls/cert.pem" \
    SAFESAFAR_TLS_KEY="$DIR/tls/key.pem" SAFESAFAR_UPSTREAMS="$dir/upstreams" name fill=()
  for name in SAFESAFAR_HTTPS_LISTEN SAFESAFAR_TLS_CERT SAFESAFAR_TLS_KEY SAFESAFAR_UPSTREAMS; do
    fill+=(-e "s|\${$name}|${!name}|g")
  done
  sed "${fill[@]}" "$ROOT/deploy/nginx/safesafar.conf.template" >"$dir/safesafar.conf"
  new=$(cat <<EOF
# written by scripts/cluster.sh: nginx with its own prefix, pid file, logs and temp folders
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
    log_format upstream '\$remote_addr [\$time_local] "\$request" \$status upstream=\$upstream_addr '
                        'upstream_status=\$upstream_status \$request_time';
    access_log $dir/logs/access.log upstream;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $dir/safesafar.conf;
}
EOF
)
  printf '%s\n' "$new" >"$dir/nginx.conf"
  ! cat "$dir/nginx.conf" "$dir/safesafar.conf" "$dir/upstreams"/*.conf | cmp -s - "$dir/applied"
}

nginx_up() {
  local dir=$DIR/nginx nginx
  nginx=$("$ROOT/scripts/nginx.sh" bin)
  if [[ -s $dir/nginx.pid ]] && running "$(cat "$dir/nginx.pid")"; then
    if nginx_conf; then
      "$nginx" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log"
      kill -HUP "$(cat "$dir/nginx.pid")"
      log "nginx reloaded"
    fi
  else
    nginx_conf || true
    "$ROOT/scripts/nginx.sh" start "$dir" "$dir/nginx.conf"
    log "nginx on 127.0.0.1:$PORT"
  fi
  cat "$dir/nginx.conf" "$dir/safesafar.conf" "$dir/upstreams"/*.conf >"$dir/applied"
}


app_env() {  # the environment every application process shares
  echo DATABASE_URL="$DATABASE_URL" NLU_AUTOSTART=false CONSOLE_AUTOSTART=false RASA_TELEMETRY_ENABLED=false \
    CONSOLE_URL="$PUBLIC_URL" CONSOLE_SECRET="${CONSOLE_SECRET:-$(secret console)}" PYTHONUNBUFFERED=1
}

up() {
  [[ -x $SAFESAFAR && -x $ROOT/.venv-nlu/bin/rasa ]] || die "run \`make setup\` first"
  if [[ -z ${TELEGRAM_BOT_TOKEN:-} ]] && ! grep -qs '^ *\(export \)\?TELEGRAM_BOT_TOKEN=.' "$ROOT/.env"; then
    die "set TELEGRAM_BOT_TOKEN (environment or .env); TELEGRAM_API_BASE_URL may point at a local Bot API server"
  fi
  ((WORKERS >= 1 && RASAS >= 1)) || die "CLUSTER_WORKERS and CLUSTER_RASA must be at least 1"
  mkdir -p "$DIR/run" "$DIR/logs"
  chmod 755 "$DIR"
  "$ROOT/scripts/nginx.sh" install
  certificate
  postgres
  local model i name env
  model=$("$PY" -c 'from bot.config import Settings; from bot.nlu.train import current_model; print(current_model(Settings.from_env()))') \
    || die "no trained NLU model: run \`make setup\`"
  read -r -a env <<<"$(app_env)"
  for ((i = 1; i <= RASAS; i++)); do
    name=rasa$i
    alive "$name" && continue
    launch "$name" env RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1 \
      PYTHONWARNINGS=ignore SANIC_WORKERS=1 PYTHONPATH="$ROOT/nlu" \
      "$ROOT/.venv-nlu/bin/rasa" run --enable-api -m "$model" -i 127.0.0.1 -p "$(rasa_port "$i")" \
      --endpoints "$ROOT/nlu/endpoints.yml" --credentials "$ROOT/nlu/credentials.yml"
    log "starting $name on 127.0.0.1:$(rasa_port "$i") (30-60 s)"
  done
  halt_beyond rasa "$RASAS"
  local replicas=""  # every Rasa server: the console's NLU models page promotes a model on all of them
  for ((i = 1; i <= RASAS; i++)); do replicas+="${replicas:+,}http://127.0.0.1:$(rasa_port "$i")"; done
  if ! alive console; then
    launch console env "${env[@]}" CONSOLE_HOST=127.0.0.1 CONSOLE_PORT="$CONSOLE_PORT" CONSOLE_TRUSTED_PROXIES=127.0.0.1 \
      NLU_URL="http://127.0.0.1:$(rasa_port 1)" NLU_REPLICAS="$replicas" "$SAFESAFAR" console
  fi
  nginx_up
  for ((i = 1; i <= RASAS; i++)); do wait_for "rasa$i" 300 rasa_ready "$(rasa_port "$i")"; done
  local webhook_secret=${TELEGRAM_WEBHOOK_SECRET:-$(secret webhook)} rate=${TELEGRAM_MAX_RATE:-}
  # Telegram's ~30 messages/s per bot is shared by the workers (each limits itself)
  if [[ -z $rate ]] && ! grep -qs '^ *\(export \)\?TELEGRAM_MAX_RATE=.' "$ROOT/.env"; then
    rate=$(awk -v w="$WORKERS" 'BEGIN { printf "%g", 30 / w }')
  fi
  for ((i = 1; i <= WORKERS; i++)); do
    name=bot$i
    alive "$name" && continue
    launch "$name" env "${env[@]}" NLU_URL="http://127.0.0.1:$(rasa_port $(((i - 1) % RASAS + 1)))" \
      TELEGRAM_WEBHOOK_URL="$PUBLIC_URL/telegram" TELEGRAM_WEBHOOK_SECRET="$webhook_secret" \
      TELEGRAM_WEBHOOK_LISTEN=127.0.0.1 TELEGRAM_WEBHOOK_PORT="$(bot_port "$i")" ${rate:+TELEGRAM_MAX_RATE=$rate} \
      "$SAFESAFAR" run --no-staff-console
    log "starting $name on 127.0.0.1:$(bot_port "$i")"
  done
  halt_beyond bot "$WORKERS"
  for ((i = 1; i <= WORKERS; i++)); do wait_for "bot$i" 120 listening "$(bot_port "$i")"; done
  wait_for console 60 curl -sf -o /dev/null "http://127.0.0.1:$CONSOLE_PORT/login"
  urls
}

urls() {
  cat <<EOF
webhook (Telegram):  $PUBLIC_URL/telegram   (secret-token header: $DIR/webhook.secret unless TELEGRAM_WEBHOOK_SECRET is set)
staff console:       $PUBLIC_URL/
TLS certificate:     $DIR/tls/cert.pem (self-signed)
database:            $DATABASE_URL
logs:                $DIR/logs/ and $DIR/nginx/logs/
EOF
}

down() {
  local pidfile
  [[ -d $DIR ]] || return 0
  "$ROOT/scripts/nginx.sh" stop "$DIR/nginx" && rm -f "$DIR/nginx/applied"
  for pidfile in "$DIR"/run/bot*.pid "$DIR"/run/console.pid "$DIR"/run/rasa*.pid; do
    [[ -e $pidfile ]] && halt "$(basename "$pidfile" .pid)"
  done
  [[ -d $DIR/pg ]] && "$ROOT/scripts/postgres.sh" stop "$DIR/pg"
  log "down"
}

status() {
  local pidfile name state
  for pidfile in "$DIR"/run/*.pid; do
    [[ -e $pidfile ]] || continue
    name=$(basename "$pidfile" .pid)
    alive "$name" && state="running (pid $(cat "$pidfile"))" || state="stopped"
    printf '%-10s %s\n' "$name" "$state"
  done
  if [[ -s $DIR/nginx/nginx.pid ]] && running "$(cat "$DIR/nginx/nginx.pid")"; then
    printf '%-10s %s\n' nginx "running (pid $(cat "$DIR/nginx/nginx.pid"))"
  else
    printf '%-10s %s\n' nginx stopped
  fi
  if [[ -s $DIR/pg/postmaster.pid ]] && running "$(head -n 1 "$DIR/pg/postmaster.pid")"; then
    printf '%-10s %s\n' postgres "running (pid $(head -n 1 "$DIR/pg/postmaster.pid"))"
  else
    printf '%-10s %s\n' postgres stopped
  fi
  urls
}

config() {
  mkdir -p "$DIR"
  "$ROOT/scripts/nginx.sh" install
  certificate
  nginx_conf || true
  "$("$ROOT/scripts/nginx.sh" bin)" -t -q -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" -e "$DIR/nginx/logs/error.log"
  echo "$DIR/nginx/nginx.conf"
}

case ${1:-} in
  up) up ;;
  config) config ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up | down | status | config" >&2; exit 2 ;;
esac
