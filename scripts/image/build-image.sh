#!/usr/bin/env bash
# Builds the Dockerfile as it is, with podman on the stand-in base images (base-images.sh), as
# localhost/orgms-image-test:latest, and prints the build time and the image's size.
# The other stages are tagged too (:build, :deps, :pg-client): their layers then stay in podman's
# cache, so the next build only redoes what changed. Images of this name that a rebuild leaves
# untagged are removed, so repeated runs keep just these four (and the stand-in bases).
# `--format docker`: podman's default OCI format has no HEALTHCHECK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
repo=${IMAGE_REPO:-localhost/orgms-image-test}
podman_() { "$here/podman.sh" "$@"; }

"$here/base-images.sh"
previous=$(podman_ images --quiet --no-trunc --filter "reference=$repo" | sort -u)
build() { podman_ build --pull=never --network host --format docker "$@" "$root"; }

start=$(date +%s)
for stage in build deps pg-client; do build --target "$stage" -q -t "$repo:$stage" >/dev/null; done
build -q -t "$repo:latest" >/dev/null
seconds=$(($(date +%s) - start))

for id in $previous; do
  if [[ $(podman_ image inspect --format '{{len .RepoTags}}' "$id" 2>/dev/null) == 0 ]]; then
    podman_ rmi "$id" >/dev/null 2>&1 || true
  fi
done

size=$(podman_ image inspect --format '{{.Size}}' "$repo:latest")
base=$(podman_ image inspect --format '{{.Size}}' localhost/debian:bookworm-slim)
echo "$repo:latest built in ${seconds} s: $((size / 1000000)) MB ($((size - base)) bytes over the debian:bookworm-slim stand-in's $((base / 1000000)) MB)"
