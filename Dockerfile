# syntax=docker/dockerfile:1
# One image for both processes: the API (default command) and the worker
# (`node apps/worker/dist/main.js`), plus the operator commands (`node apps/cli/dist/<command>.js`).
# Build: docker build -t orgms .   or   podman build --format docker -t orgms .
# (podman's default OCI format has no HEALTHCHECK; see docs/operations/container-image.md)

# --- manifests: what npm needs to resolve the workspaces ------------------------------------
FROM node:20-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/cli/package.json apps/cli/
COPY libs/common/package.json libs/common/
COPY migrations/package.json migrations/
# The typed client is a workspace too (not part of the image; its manifest keeps npm ci consistent).
COPY packages/client/package.json packages/client/

# --- build: all dependencies, compile TypeScript -------------------------------------------
FROM manifests AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY apps apps
COPY libs libs
COPY migrations migrations
RUN npm run build

# --- deps: production dependencies only, without what no process loads ----------------------
FROM manifests AS deps
RUN npm ci --omit=dev --no-audit --no-fund
COPY scripts/image/prune-node-modules.mjs /tmp/
# The root manifest counts too: a dependency declared there (e.g. preloaded with NODE_OPTIONS=--require) is kept.
RUN node /tmp/prune-node-modules.mjs . apps/api apps/worker apps/cli libs/common migrations

# --- pg-client: pg_dump / pg_restore of the servers' major version (bookworm ships 15) ------
# The worker runs them to copy, back up, archive and restore databases. Only the two programs go
# into the runtime: the package's wrappers would bring Perl (~50 MB) along.
FROM debian:bookworm-slim AS pg-client
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15

# --- runtime: Node.js, compiled code, production node_modules, non-root ---------------------
# No npm, no compiler, no package caches: node comes from the node image, libpq from Debian.
FROM debian:bookworm-slim AS runtime
ENV NODE_ENV=production
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /usr/sbin/nologin --no-create-home node
COPY --from=manifests /usr/local/bin/node /usr/local/bin/node
COPY --from=pg-client /usr/lib/postgresql/15/bin/pg_dump /usr/lib/postgresql/15/bin/pg_restore /usr/local/bin/
WORKDIR /app
# Exports, backups and archives default to ./var/*: the one directory the service writes (mount a volume there).
RUN mkdir var && chown node:node var
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/migrations/package.json migrations/
COPY --from=build /app/migrations/dist migrations/dist
COPY --from=build /app/libs/common/package.json libs/common/
COPY --from=build /app/libs/common/dist libs/common/dist
COPY --from=build /app/apps/api/package.json apps/api/
COPY --from=build /app/apps/api/dist apps/api/dist
COPY --from=build /app/apps/worker/package.json apps/worker/
COPY --from=build /app/apps/worker/dist apps/worker/dist
COPY --from=build /app/apps/cli/package.json apps/cli/
COPY --from=build /app/apps/cli/dist apps/cli/dist
USER node
EXPOSE 3000
# The API's /ready or the worker's /health, whichever this container runs (apps/cli/src/container-health.ts).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "apps/cli/dist/container-health.js"]
CMD ["node", "apps/api/dist/main.js"]
