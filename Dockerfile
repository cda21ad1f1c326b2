# The kubeha worker, webhook and codec server: Node 26, the current LTS (the line `npm test` also runs the unit tests under; glibc, which the Temporal core bridge's prebuilt binary needs), the
# compiled TypeScript, run as an unprivileged user. docker-compose.yml builds and runs it.

# Build: dev dependencies (TypeScript) are needed to compile, not to run.
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm install, not npm ci: the lock file comes from mirrors that carry only the Linux builds of optional
# packages, which npm ci refuses as out of sync (scripts/setup.sh); npm install keeps the locked versions.
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

# Run.
FROM node:26-slim
ENV NODE_ENV=production \
    KUBEHA_ROOT=/app \
    KUBEHA_DATA_DIR=/var/lib/kubeha \
    TEMPORAL_ADDRESS=temporal:7233
WORKDIR /app
RUN groupadd --system --gid 10001 kubeha \
 && useradd --system --uid 10001 --gid kubeha --home-dir /var/lib/kubeha --shell /usr/sbin/nologin kubeha \
 && mkdir -p /var/lib/kubeha /etc/kubeha/ssh \
 && chown kubeha:kubeha /var/lib/kubeha \
 && chmod 0700 /var/lib/kubeha
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/examples ./examples
USER kubeha
VOLUME ["/var/lib/kubeha"]
CMD ["node", "bin/kubeha.js", "worker"]
