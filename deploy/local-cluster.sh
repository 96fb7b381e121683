#!/usr/bin/env bash
# One-machine rehearsal of the multi-process layout (docs/deploy.md):
#   a Prefect server on PostgreSQL, two `journey serve` API processes, two `journey worker` processes and one
#   `journey scheduler run`, all on this machine, all on loopback.
#     deploy/local-cluster.sh up       start everything, wait until each part is ready, print the URLs
#     deploy/local-cluster.sh down     stop every process it started, by its process id
#     deploy/local-cluster.sh status   which processes are alive
# Databases `journey_cluster` and `prefect_cluster` are created on the local PostgreSQL if missing.
# Settings: CLUSTER_DIR, CLUSTER_WORKERS (2), CLUSTER_API_PORTS ("8001 8002"), CLUSTER_PREFECT_PORT (4200),
# CLUSTER_JOURNEY_DB, CLUSTER_PREFECT_DB, CLUSTER_PG (postgresql://postgres@127.0.0.1:5432),
# CLUSTER_WORKER_ARGS (more `journey worker` options, e.g. --process-per-run).
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${CLUSTER_PG:-postgresql://postgres@127.0.0.1:5432}
DIR=${CLUSTER_DIR:-var/cluster}
PREFECT_PORT=${CLUSTER_PREFECT_PORT:-4200}
API_PORTS=(${CLUSTER_API_PORTS:-8001 8002})
WORKERS=${CLUSTER_WORKERS:-2}
JOURNEY_DB=${CLUSTER_JOURNEY_DB:-journey_cluster}
PREFECT_DB=${CLUSTER_PREFECT_DB:-prefect_cluster}
BIN=.venv/bin
mkdir -p "$DIR"

export JOURNEY_DATABASE_URL="postgresql+psycopg://${PG#postgresql://}/$JOURNEY_DB"
export PREFECT_API_URL="http://127.0.0.1:${PREFECT_PORT}/api"
export PREFECT_HOME="$PWD/$DIR/prefect"
export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1 JOURNEY_DEMO=0
export JOURNEY_DATA_DIR="$PWD/$DIR"
if [ -z "${JOURNEY_WEBHOOK_SECRET:-}" ]; then
  [ -f "$DIR/webhook_secret" ] || echo "whsec_$(head -c 32 /dev/urandom | base64)" > "$DIR/webhook_secret"
  export JOURNEY_WEBHOOK_SECRET=$(cat "$DIR/webhook_secret")
fi

create_db() {
  psql "$PG/postgres" -qAtc "SELECT 1 FROM pg_database WHERE datname='$1'" | grep -q 1 || \
    psql "$PG/postgres" -qc "CREATE DATABASE $1"
}

start() {  # name, command... (each in a process group of its own, so its children stop with it)
  local name=$1; shift
  setsid nohup "$@" > "$DIR/$name.log" 2>&1 < /dev/null &
  echo "$! $name" >> "$DIR/pids"
  echo "started $name (pid $!)"
}

wait_http() {  # url, seconds
  for _ in $(seq 1 "$2"); do curl -sf "$1" > /dev/null && return 0; sleep 1; done
  echo "not ready in $2 s: $1" >&2; return 1
}

wait_log() {  # file, pattern, seconds
  for _ in $(seq 1 "$3"); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 1; done
  echo "not ready in $3 s: $1" >&2; tail -5 "$1" >&2; return 1
}

up() {
  [ -f "$DIR/pids" ] && { echo "already up (deploy/local-cluster.sh down first)"; exit 1; }
  create_db "$JOURNEY_DB"; create_db "$PREFECT_DB"
  $BIN/journey db upgrade
  PREFECT_SERVER_DATABASE_CONNECTION_URL="postgresql+asyncpg://${PG#postgresql://}/$PREFECT_DB" \
    start prefect-server $BIN/prefect server start --host 127.0.0.1 --port "$PREFECT_PORT"
  wait_http "http://127.0.0.1:${PREFECT_PORT}/api/health" 120
  for n in $(seq 1 "$WORKERS"); do start "worker-$n" $BIN/journey worker --concurrency 2 ${CLUSTER_WORKER_ARGS:-}; done
  for port in "${API_PORTS[@]}"; do start "api-$port" $BIN/journey serve --host 127.0.0.1 --port "$port"; done
  start scheduler $BIN/journey scheduler run
  for port in "${API_PORTS[@]}"; do wait_http "http://127.0.0.1:$port/readyz" 60; done
  for n in $(seq 1 "$WORKERS"); do wait_log "$DIR/worker-$n.log" "Your deployments are being served" 120; done
  echo
  echo "cluster up: Prefect UI http://127.0.0.1:${PREFECT_PORT}, APIs ${API_PORTS[*]/#/http://127.0.0.1:}"
  echo "  webhook secret in $DIR/webhook_secret; logs and pids in $DIR/"
}

down() {
  [ -f "$DIR/pids" ] || { echo "nothing to stop"; return 0; }
  while read -r pid name; do
    kill -- "-$pid" 2>/dev/null && echo "stopped $name (pid $pid)" || true
  done < "$DIR/pids"
  sleep 2
  while read -r pid name; do kill -9 -- "-$pid" 2>/dev/null || true; done < "$DIR/pids"
  rm -f "$DIR/pids"
}

status() {
  [ -f "$DIR/pids" ] || { echo "not running"; return 0; }
  while read -r pid name; do
    if kill -0 "$pid" 2>/dev/null; then echo "up    $name ($pid)"; else echo "DOWN  $name ($pid)"; fi
  done < "$DIR/pids"
}

case "${1:-}" in
  up) up ;; down) down ;; status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
