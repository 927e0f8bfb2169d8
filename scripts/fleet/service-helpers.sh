# Shared by the scripts that make sure the test fleet's services run (sourced, not run):
# one status line per service, a fatal error naming the script, and waiting for a service.
TIMEOUT_S=${FLEET_SERVICES_TIMEOUT_S:-30}

say() { printf '%-34s %s\n' "$1" "$2"; }
die() { echo "$(basename "$0" .sh): $*" >&2; exit 1; }

wait_until() { # description, command...
  local what=$1; shift
  local deadline=$((SECONDS + TIMEOUT_S))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "$what: not ready after ${TIMEOUT_S}s"
    sleep 0.2
  done
}
