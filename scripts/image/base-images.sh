#!/usr/bin/env bash
# Builds, from Debian's packages and the machine's own Node.js, local stand-ins for the base
# images the Dockerfile names but no registry reachable from the project's machines serves:
#   localhost/debian:bookworm-slim            debootstrap --variant=minbase bookworm
#   docker.io/library/node:20-bookworm-slim   that + this machine's node/npm in /usr/local, user node (uid 1000)
# so that `podman build --pull=never` of the Dockerfile runs unchanged (`FROM debian:bookworm-slim`
# finds the localhost/ one). The node stand-in trusts the machine's CA bundle (the npm registry is
# reached through a TLS proxy there). Idempotent: an image that exists is kept, so they are built
# once per machine and cached by podman between runs (FORCE=1 rebuilds). About 40 s the first time.
# Vendored from the machines' container notes (shared/containers/base-images.sh), so that a clean
# clone needs nothing outside the repository.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
podman_() { "$here/podman.sh" "$@"; }
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
has() { [[ -z ${FORCE:-} ]] && podman_ image exists "$1"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! has localhost/debian:bookworm-slim; then
  debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
    { tail -5 "$work/debootstrap.log"; exit 1; }
  tar -C "$work/rootfs" -c . | podman_ import - localhost/debian:bookworm-slim >/dev/null
  echo "localhost/debian:bookworm-slim           built"
fi
if ! has docker.io/library/node:20-bookworm-slim; then
  ctx=$work/node
  mkdir -p "$ctx"
  cp "$(readlink -f "$(command -v node)")" "$ctx/node"
  cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$ctx/npm"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca-bundle.crt"
  cat >"$ctx/Containerfile" <<'DOCKERFILE'
FROM localhost/debian:bookworm-slim
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY host-ca-bundle.crt /etc/ssl/certs/host-ca-bundle.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca-bundle.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && mkdir -p /usr/local/etc && echo "cafile=/etc/ssl/certs/host-ca-bundle.crt" >/usr/local/etc/npmrc \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node -v >/dev/null && npm -v >/dev/null
CMD ["node"]
DOCKERFILE
  podman_ build --pull=never --network host -q -t docker.io/library/node:20-bookworm-slim "$ctx" >/dev/null
  echo "docker.io/library/node:20-bookworm-slim  built (node $(node -v))"
fi
