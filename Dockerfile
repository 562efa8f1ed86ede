# syntax=docker/dockerfile:1
# Build stage: install production dependencies, compiling better-sqlite3's native addon.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src

# Runtime stage: no compiler, non-root user, data on a volume.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
COPY docker/ferry.hcl /etc/ferry/ferry.hcl
RUN mkdir -p /var/lib/ferry && chown node:node /var/lib/ferry
USER node
VOLUME ["/var/lib/ferry"]
EXPOSE 8200
# `docker run IMAGE` starts the persistent server from /etc/ferry/ferry.hcl (listening on 0.0.0.0:8200);
# `docker run -p 8200:8200 IMAGE server -dev -dev-listen-address=0.0.0.0:8200` starts a dev server.
ENTRYPOINT ["node", "/app/bin/ferry.js"]
CMD ["server", "-config=/etc/ferry/ferry.hcl"]
