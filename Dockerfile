# The session broker as a container: `docker build -t heygen-avatar-broker .`, then run it with the
# environment variables of docs/broker.md (see docker/broker.env.example). docs/container.md has
# the details; compose.yaml runs two instances behind one port with Redis.

# Build: the package's dist/ (the broker is dist/node/broker), then only the runtime dependencies.
FROM node:20-alpine AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Run: a small base, no build tools, not root.
FROM node:20-alpine
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8787
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist/node ./dist/node
COPY --from=build --chown=node:node /app/bin/heygen-avatar-broker.mjs ./bin/
COPY --chown=node:node docker/healthcheck.mjs ./docker/
USER node
EXPOSE 8787
# The broker's own health route: 200 while it and its store (Redis) answer.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 CMD ["node", "docker/healthcheck.mjs"]
# SIGTERM (docker stop) lets the broker finish: it stops taking requests and, with the in-memory
# store, stops the avatar sessions it started; node runs as PID 1 and gets the signal itself.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/heygen-avatar-broker.mjs"]
