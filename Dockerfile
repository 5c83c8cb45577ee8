# kubeflow-mcp for a cluster: `serve --transport http`, as the Helm chart in
# generated/deploy/helm/kubeflow-mcp runs it. Build: docker build -t kubeflow-mcp .
# Stage 1 installs everything and builds the bundle; stage 2 keeps only what serving needs and
# runs as an unprivileged user on a read-only root filesystem (nothing is written outside /tmp).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run gen:check && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
COPY --from=build /src/node_modules ./node_modules
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["node", "/app/bin/kubeflow-mcp.mjs"]
CMD ["serve", "--transport=http", "--host=0.0.0.0", "--port=8000"]
