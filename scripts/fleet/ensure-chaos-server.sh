#!/usr/bin/env bash
# The chaos soak's own second PostgreSQL server (cluster "15 chaos" on 127.0.0.1:5434, trust auth),
# created and started when missing. The soak stops and starts it as a fault, so it must not be the
# scale suite's 5433, which other test runs may be using at the same time.
set -euo pipefail
exec bash "$(dirname "$0")/ensure-postgres-cluster.sh" chaos 5434 "PostgreSQL 127.0.0.1:5434 (chaos)"
