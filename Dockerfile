# syntax=docker/dockerfile:1
# Build stage: every dependency (TypeScript, Vite and Preact, and the toolchain better-sqlite3's
# native addon falls back to when no prebuilt binary matches), `npm run build` into dist/ and the
# web UI into dist-ui/, then the dev dependencies pruned away.
FROM node:26-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY ui ./ui
COPY scripts/build-ui.ts ./scripts/
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: Node 26 (the Active LTS line), the compiled dist/, the built web UI (dist-ui/)
# and production dependencies only — no TypeScript, tsx, esbuild, Vite, sources or tests;
# nothing is transpiled or bundled at start.
FROM node:26-slim
ENV NODE_ENV=production
# Two glibc malloc arenas instead of up to 8 per core: the threads of V8, libuv and SQLite each
# kept their own arena's freed memory (the sync-scale bench's peak RSS: 316 MB with 2, 410 MB
# with glibc's default, one run each on a busy machine).
ENV MALLOC_ARENA_MAX=2
# V8's settings (its old generation grows to 1.5× what survived a full collection, not up to 4×)
# are applied by bin/ferry.js itself, the entrypoint: see bin/v8-settings.js.
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/dist-ui ./dist-ui
COPY bin ./bin
COPY LICENSE README.md ./
COPY docker/ferry.hcl /etc/ferry/ferry.hcl
RUN mkdir -p /var/lib/ferry && chown node:node /var/lib/ferry
USER node
VOLUME ["/var/lib/ferry"]
EXPOSE 8200
# Liveness: is the server answering HTTP? sealedcode/uninitcode=200 because a fresh container is
# uninitialised and a restarted one sealed until an operator unseals it — states that need a
# person, which restarting the container would not fix. The image has no curl: Node's fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8200/v1/sys/health?standbyok=true&sealedcode=200&uninitcode=200').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
# `docker run IMAGE` starts the persistent server from /etc/ferry/ferry.hcl (listening on 0.0.0.0:8200);
# `docker run -p 8200:8200 IMAGE server -dev -dev-listen-address=0.0.0.0:8200` starts a dev server.
ENTRYPOINT ["node", "/app/bin/ferry.js"]
CMD ["server", "-config=/etc/ferry/ferry.hcl"]
