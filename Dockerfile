# syntax=docker/dockerfile:1
# One image for both processes: the API (default command) and the worker
# (`node apps/worker/dist/main.js`), plus the operator commands (`node apps/cli/dist/<command>.js`).
# Build: docker build -t orgms .

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

# --- deps: production dependencies only ----------------------------------------------------
FROM manifests AS deps
RUN npm ci --omit=dev --no-audit --no-fund

# --- runtime: compiled code + production node_modules, non-root ----------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
# pg_dump / pg_restore of the servers' major version (bookworm ships 15): the worker copies databases
# when it moves an organization to another server.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
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
CMD ["node", "apps/api/dist/main.js"]
