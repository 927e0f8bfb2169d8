#!/usr/bin/env bash
# podman as the project's machines allow it: the runc runtime (crun refuses the hybrid cgroups
# there), and resource limits no higher than the machine's own hard limits. Use it like podman:
#   scripts/image/podman.sh build --pull=never -t orgms:latest .
#   scripts/image/podman.sh run --rm --network host orgms:latest node -v
# Installs podman and runc from Debian when they are missing.
# Vendored from the machines' container notes (shared/containers/podman.sh), so that a clean clone
# needs nothing outside the repository.
set -euo pipefail
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc >/dev/null
fi
nofile=$(ulimit -Hn)
limits=(--ulimit "nofile=${nofile}:${nofile}" --ulimit "nproc=4096:4096")
case "${1:-}" in
  build | run | create) cmd=$1; shift; exec podman --runtime runc "$cmd" "${limits[@]}" "$@" ;;
  *) exec podman --runtime runc "$@" ;;
esac
