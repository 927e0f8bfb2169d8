#!/usr/bin/env bash
# Makes sure the real parts of the scale tests run on this machine (Debian 12, as root), and
# starts only what is missing, so a second run is fast:
#   - a second PostgreSQL 15 server on 127.0.0.1:5433 (cluster "15 second", trust auth);
#   - one PgBouncer on 127.0.0.1:6432 (run as the postgres OS user), fronting both servers,
#     config in /tmp/orgms-fleet/pgbouncer/;
#   - a Redis Cluster of three masters on 127.0.0.1:7001-7003, files in /tmp/orgms-fleet/redis-cluster/.
#
# PgBouncer's [databases] section is `%include`d from databases.ini, which the service writes at
# run time (one line per organization database: `org_x = host=127.0.0.1 port=5433 dbname=org_x`)
# before sending RELOAD on the admin console. This script creates it (a comment only) when it is
# missing and never rewrites it while PgBouncer runs.
#
# Verified with pgbouncer 1.18 and node-postgres 8 / TypeORM 1.1 (see the checks in the comments):
#   - node `pg` through 127.0.0.1:6432 (database listed in databases.ini): a query with
#     parameters (unnamed prepared statement) works under pool_mode=transaction, and a TypeORM
#     DataSource initialize() + query works; node-postgres sends only user, database and
#     client_encoding at startup, which PgBouncer accepts; extra_float_digits is ignored for
#     clients that send it (pgjdbc, psql-based tools).
#   - admin console postgres://postgres@127.0.0.1:6432/pgbouncer with client.query('RELOAD')
#     (simple query protocol) answers RELOAD; a database appended to databases.ini appears in
#     `SHOW DATABASES` right after RELOAD and is reachable; one removed from the file is gone from
#     `SHOW DATABASES` after RELOAD and connecting to it fails with "no such database" (there is
#     no wildcard entry). `RECONNECT <db>` answers RECONNECT, and a TypeORM pool on that database
#     keeps working (its server connections are replaced as they are released).
#   - a query with parameters on the admin console (extended protocol) is refused and the
#     connection is closed ("bad packet"): send plain text there.
#   - each organization logs in as its own role (README "Database roles"). Even with
#     auth_type = trust PgBouncer refuses a user it does not know ("no such user"), so the roles
#     are looked up on the server through auth_user (default auth_query on pg_shadow, run in the
#     database asked for; postgres may read it): an organization's role connects, an unknown one
#     does not, and the userlist keeps only postgres.
set -euo pipefail

FLEET_DIR=/tmp/orgms-fleet
PGB_DIR=$FLEET_DIR/pgbouncer
REDIS_DIR=$FLEET_DIR/redis-cluster
PG_CLUSTER=second
PG_PORT=5433
PGB_PORT=6432
REDIS_PORTS=(7001 7002 7003)
# shellcheck source=service-helpers.sh
source "$(dirname "$0")/service-helpers.sh"

[[ $(id -u) -eq 0 ]] || die "run as root (it creates a PostgreSQL cluster and runs PgBouncer as the postgres user)"

apt_updated=
apt_install() {
  if [[ -z $apt_updated ]]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

mkdir -p "$FLEET_DIR"
chmod 755 "$FLEET_DIR"

# ---------------------------------------------------------------------------------------------
# 1. The second PostgreSQL server
# ---------------------------------------------------------------------------------------------
bash "$(dirname "$0")/ensure-postgres-cluster.sh" "$PG_CLUSTER" "$PG_PORT" "PostgreSQL 127.0.0.1:$PG_PORT"

# ---------------------------------------------------------------------------------------------
# 2. PgBouncer
# ---------------------------------------------------------------------------------------------
PGB_PID=$PGB_DIR/pgbouncer.pid
pgb_admin() { psql -h 127.0.0.1 -p "$PGB_PORT" -U postgres -d pgbouncer -Atqc "$1"; }
pgb_running() { [[ -f $PGB_PID ]] && kill -0 "$(cat "$PGB_PID")" 2>/dev/null; }

pgb_state="already running"
if ! command -v pgbouncer >/dev/null 2>&1 && [[ ! -x /usr/sbin/pgbouncer ]]; then
  apt_install pgbouncer
  pgb_state="installed and started"
fi
PGBOUNCER_BIN=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)

mkdir -p "$PGB_DIR"
cat >"$PGB_DIR/pgbouncer.ini.new" <<EOF
; Written by scripts/fleet/ensure-fleet-services.sh; the databases are in databases.ini (written by the service).
[databases]
%include $PGB_DIR/databases.ini

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir = $PGB_DIR
auth_type = trust
auth_file = $PGB_DIR/userlist.txt
auth_user = postgres
admin_users = postgres
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
max_db_connections = 20
; Idle server connections are kept per database: with hundreds of organization databases touched
; a minute, the default 600 s kept more of them than the servers' max_connections (README, capacity model).
server_idle_timeout = 15
; One failed server login (a database being moved or a server restarting) makes PgBouncer refuse
; that database for server_login_retry; the default 15 s turned a moment into 15 s of 503s.
server_login_retry = 1
ignore_startup_parameters = extra_float_digits
logfile = $PGB_DIR/pgbouncer.log
pidfile = $PGB_PID
EOF
ini_changed=
if ! cmp -s "$PGB_DIR/pgbouncer.ini.new" "$PGB_DIR/pgbouncer.ini"; then
  mv "$PGB_DIR/pgbouncer.ini.new" "$PGB_DIR/pgbouncer.ini"
  ini_changed=1
else
  rm -f "$PGB_DIR/pgbouncer.ini.new"
fi
printf '"postgres" ""\n' >"$PGB_DIR/userlist.txt"
if [[ ! -f $PGB_DIR/databases.ini ]]; then
  printf '; organization databases, one line each, written by the service (then RELOAD)\n' >"$PGB_DIR/databases.ini"
fi
# root writes databases.ini; PgBouncer (postgres) reads it and writes its pid and log files here.
chown postgres:postgres "$PGB_DIR" "$PGB_DIR/pgbouncer.ini" "$PGB_DIR/userlist.txt"
chown root:postgres "$PGB_DIR/databases.ini"
chmod 755 "$PGB_DIR"
chmod 644 "$PGB_DIR/pgbouncer.ini" "$PGB_DIR/userlist.txt" "$PGB_DIR/databases.ini"

if pgb_running; then
  if [[ -n $ini_changed ]]; then
    pgb_admin 'RELOAD' >/dev/null
    pgb_state="reloaded (config)"
  fi
else
  if (echo >"/dev/tcp/127.0.0.1/$PGB_PORT") 2>/dev/null; then
    die "127.0.0.1:$PGB_PORT is taken by another process (not the PgBouncer of $PGB_DIR); stop it first"
  fi
  rm -f "$PGB_PID"
  # -d: daemon; PgBouncer refuses to run as root, so it runs as postgres.
  runuser -u postgres -- "$PGBOUNCER_BIN" -d -q "$PGB_DIR/pgbouncer.ini" ||
    die "PgBouncer did not start; see $PGB_DIR/pgbouncer.log"
  [[ $pgb_state == "already running" ]] && pgb_state="started"
fi
wait_until "PgBouncer on 127.0.0.1:$PGB_PORT (see $PGB_DIR/pgbouncer.log)" pgb_admin 'SHOW VERSION'
say "PgBouncer 127.0.0.1:$PGB_PORT" "$pgb_state"

# ---------------------------------------------------------------------------------------------
# 3. Redis Cluster: three masters
# ---------------------------------------------------------------------------------------------
redis_up() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -qx PONG; }
# Every node knows all three masters and all 16384 slots are served: the cluster we want.
cluster_complete() {
  local port
  for port in "${REDIS_PORTS[@]}"; do
    local info
    info=$(redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | tr -d '\r') || return 1
    grep -qx 'cluster_state:ok' <<<"$info" || return 1
    grep -qx 'cluster_slots_assigned:16384' <<<"$info" || return 1
    grep -qx "cluster_known_nodes:${#REDIS_PORTS[@]}" <<<"$info" || return 1
  done
}
start_redis_node() {
  redis-server --port "$1" --bind 127.0.0.1 --cluster-enabled yes \
    --cluster-config-file "$REDIS_DIR/nodes-$1.conf" --dir "$REDIS_DIR" \
    --save "" --appendonly no --daemonize yes \
    --pidfile "$REDIS_DIR/redis-$1.pid" --logfile "$REDIS_DIR/redis-$1.log"
}

redis_state="already running"
if ! cluster_complete; then
  mkdir -p "$REDIS_DIR"
  # Processes may run with a half-made cluster (never created, or stale nodes files of another
  # layout): start over from empty nodes. Nothing is persisted, so nothing is lost.
  for port in "${REDIS_PORTS[@]}"; do
    if redis_up "$port"; then
      redis-cli -h 127.0.0.1 -p "$port" flushall >/dev/null 2>&1 || true
      redis-cli -h 127.0.0.1 -p "$port" cluster reset hard >/dev/null ||
        die "Redis on 127.0.0.1:$port runs but is not a cluster node (started without --cluster-enabled?); stop it first"
    else
      rm -f "$REDIS_DIR/nodes-$port.conf"
      start_redis_node "$port"
    fi
  done
  for port in "${REDIS_PORTS[@]}"; do wait_until "Redis on 127.0.0.1:$port (see $REDIS_DIR/redis-$port.log)" redis_up "$port"; done
  nodes=()
  for port in "${REDIS_PORTS[@]}"; do nodes+=("127.0.0.1:$port"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$REDIS_DIR/cluster-create.log" 2>&1 ||
    die "redis-cli --cluster create failed; see $REDIS_DIR/cluster-create.log"
  redis_state="started (cluster created)"
  wait_until "Redis Cluster on 127.0.0.1:${REDIS_PORTS[0]}-${REDIS_PORTS[-1]} (cluster_state:ok)" cluster_complete
fi
say "Redis Cluster 127.0.0.1:${REDIS_PORTS[0]}-${REDIS_PORTS[-1]}" "$redis_state"
