#!/usr/bin/env bash
# The chaos soak's own second PostgreSQL server (cluster "15 chaos" on 127.0.0.1:5434, trust auth),
# created and started when missing. The soak stops and starts it as a fault, so it must not be the
# scale suite's 5433, which other test runs may be using at the same time.
set -euo pipefail
PG_VERSION=15
PG_CLUSTER=chaos
PG_PORT=5434
[[ $(id -u) -eq 0 ]] || { echo "ensure-chaos-server: run as root" >&2; exit 1; }
state="already running"
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$PG_VERSION $PG_CLUSTER"; then
  pg_createcluster "$PG_VERSION" "$PG_CLUSTER" --port "$PG_PORT" -- --auth=trust >/dev/null
  printf "listen_addresses = '127.0.0.1'\nport = %s\nmax_connections = 200\n" "$PG_PORT" >"/etc/postgresql/$PG_VERSION/$PG_CLUSTER/conf.d/90-orgms-chaos.conf"
  state="created and started"
fi
if ! pg_isready -h 127.0.0.1 -p "$PG_PORT" -q; then
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start
  [[ $state == "already running" ]] && state="started"
fi
for _ in $(seq 1 100); do pg_isready -h 127.0.0.1 -p "$PG_PORT" -q && break; sleep 0.2; done
pg_isready -h 127.0.0.1 -p "$PG_PORT" -q || { echo "ensure-chaos-server: PostgreSQL $PG_CLUSTER did not start" >&2; exit 1; }
printf '%-34s %s\n' "PostgreSQL 127.0.0.1:$PG_PORT (chaos)" "$state"
