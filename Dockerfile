# fhir-gateway container image. Documented in docs/deployment.md; checked by test/deploy/dockerfile.test.ts
# (every path below exists, and the entry command serves /healthz when run the same way outside a container).
#
#   docker build -t fhir-gateway .
#   docker run --rm -p 8080:8080 -e PROXY_TO=... -e TOKEN_ISSUER=... -e ACCESS_CHECKER=permission fhir-gateway
#   docker run --rm -e ... fhir-gateway check-config

# Build stage: dev dependencies and the TypeScript compiler; nothing of it reaches the runtime image but dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no lifecycle script is needed to compile, and none may run before the sources are here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies, the compiled gateway and its default config files.
FROM node:20-bookworm-slim AS runtime
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The config files at the paths the Java images use (relative to the working directory /app):
# resources/hapi_page_url_allowed_queries.json, resources/hapi_sync_filter_ignored_queries.json, and
# resources/opensrp_allowed_queries.json. Mount replacements over them (the OpenSRP chart mounts at /app/resources/...).
COPY resources ./resources

# The Java image's variable names. PROXY_TO, TOKEN_ISSUER and ACCESS_CHECKER have no default here:
# a container started without them stops at once with exit status 2 naming the variable.
ENV PROXY_PORT=8080 \
    PROXY_HOST=0.0.0.0 \
    BACKEND_TYPE=HAPI \
    RUN_MODE=PROD

# Memory (docs/performance.md): V8's young generation at 2 x 8 MB instead of 2 x 16 MB, and two
# malloc arenas instead of up to eight per core: about 35 MB less RSS at 100 connections, no measurable
# CPU cost. (A 64 KiB MALLOC_MMAP_THRESHOLD_ saved about 15 MB more but cost 7% CPU per request: every
# socket read was then an mmap.) `npm start` and the bench set the same two; set them wherever
# `node dist/main.js` runs outside this image.
ENV NODE_OPTIONS=--max-semi-space-size=8 \
    MALLOC_ARENA_MAX=2

# Files are root-owned and read-only to the gateway's user (the image's `node` user, by number so that
# Kubernetes' runAsNonRoot can verify it).
USER 1000:1000
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PROXY_PORT || '8080') + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Exec form: node is PID 1 and receives SIGTERM itself (it drains in-flight requests for SHUTDOWN_GRACE_MS).
# Arguments given to `docker run` are the command: `start` (the default) or `check-config`.
ENTRYPOINT ["node", "dist/main.js"]
