# One image for every process: `api`, `worker`, `engine` or `serve` (all in one),
# chosen by the command: docker run i2v worker. See docs/deploy.md.

# Build: compile the TypeScript, then keep only the production dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Run: Node 24 with ffmpeg/ffprobe and fonts (captions) from Debian; tini reaps
# ffmpeg children and forwards SIGTERM, so workers hand their jobs back on stop.
FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core fonts-noto-cjk tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 PORT=3000 \
    ENGINE_HOST=0.0.0.0 ENGINE_PORT=8790 \
    STORAGE_DIR=/data ENGINE_DIR=/data/engine
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json openapi.yaml ./
COPY bin ./bin
COPY assets ./assets
COPY public ./public
COPY docker/healthcheck.mjs ./docker/healthcheck.mjs
# the image's own user (uid 1000 "node"), never root; it owns only the data folder
RUN mkdir -p /data/engine && chown -R node:node /data
USER node
VOLUME ["/data"]
# 3000: the API (api, serve); 8790: the engine; a worker's METRICS_PORT when set
EXPOSE 3000 8790
# asks whichever process the container runs (see docker/healthcheck.mjs)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "docker/healthcheck.mjs"]
ENTRYPOINT ["tini", "--", "node", "bin/i2v.js"]
CMD ["serve"]
