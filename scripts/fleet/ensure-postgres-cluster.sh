#!/usr/bin/env bash
# Makes sure a local PostgreSQL 15 cluster of the test fleet runs (Debian 12, as root): creates it
# when missing (trust auth), keeps its local settings (TCP on 127.0.0.1 only, max_connections 200:
# the main server keeps 100), and starts it when down. Prints one status line.
#   ensure-postgres-cluster.sh <cluster> <port> <label>
# Used for the scale suites' "15 second" (5433, ensure-fleet-services.sh) and the chaos soak's
# "15 chaos" (5434, ensure-chaos-server.sh).
set -euo pipefail

PG_VERSION=15
PG_CLUSTER=$1
PG_PORT=$2
LABEL=$3
# shellcheck source=service-helpers.sh
source "$(dirname "$0")/service-helpers.sh"

[[ $(id -u) -eq 0 ]] || die "run as root (it creates and starts PostgreSQL clusters)"

pg_ready() { pg_isready -h 127.0.0.1 -p "$PG_PORT" -q; }
pg_sql() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc "$1"; }
PG_CONF_DIR=/etc/postgresql/$PG_VERSION/$PG_CLUSTER

pg_state=""
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$PG_VERSION $PG_CLUSTER"; then
  pg_createcluster "$PG_VERSION" "$PG_CLUSTER" --port "$PG_PORT" -- --auth=trust >/dev/null
  pg_state="created and started"
fi
# Local settings: TCP on 127.0.0.1 only, and room for the fleet tests' connections (the main server keeps 100).
settings_file=$PG_CONF_DIR/conf.d/90-orgms-fleet.conf
wanted_settings=$(printf "listen_addresses = '127.0.0.1'\nport = %s\nmax_connections = 200\n" "$PG_PORT")
settings_changed=
if [[ ! -f $settings_file ]] || [[ $(cat "$settings_file") != "$wanted_settings" ]]; then
  printf '%s\n' "$wanted_settings" >"$settings_file"
  settings_changed=1
fi
# Trust for postgres over TCP from 127.0.0.1 (initdb --auth=trust writes it; make sure of it).
hba_file=$PG_CONF_DIR/pg_hba.conf
hba_changed=
if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba_file"; then
  # pg_hba is read top-down: the trust line must come before any other host line.
  sed -i '0,/^host/s//host    all             all             127.0.0.1\/32            trust\nhost/' "$hba_file"
  grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba_file" ||
    echo 'host    all             all             127.0.0.1/32            trust' >>"$hba_file"
  hba_changed=1
fi

if pg_ready; then
  if [[ -n $settings_changed && $(pg_sql 'SHOW max_connections') != 200 ]]; then
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" restart
    pg_state="restarted (settings)"
  elif [[ -n $hba_changed ]]; then
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" reload
    pg_state="reloaded (pg_hba)"
  fi
else
  # Down (or just created): start it. A stale postmaster.pid from a killed server is cleaned by pg_ctl.
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start ||
    die "PostgreSQL $PG_VERSION/$PG_CLUSTER did not start; see /var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log"
  [[ -n $pg_state ]] || pg_state="started"
fi
wait_until "PostgreSQL on 127.0.0.1:$PG_PORT" pg_ready
wait_until "PostgreSQL on 127.0.0.1:$PG_PORT (login as postgres)" pg_sql 'SELECT 1'
say "$LABEL" "${pg_state:-already running}"

