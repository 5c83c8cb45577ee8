# kubeflow-mcp for a cluster: `serve --transport http`, as the Helm chart in
# generated/deploy/helm/kubeflow-mcp runs it. Build: docker build -t kubeflow-mcp .
#
# Stage 1 installs every dependency, checks the generated code and builds the bundle. Stage 2
# holds only what serving reads: package.json (the package root), bin/, dist/ (the bundle, every
# dependency but one inlined), the sandbox's manifests (for --sandbox) and node_modules/yaml, the
# one package the bundle imports at run time (config and policy files). test/package.test.ts
# checks that list against the bundle's imports and runs the server from a copy of exactly these
# files. It runs as an unprivileged user on a read-only root filesystem (nothing is written
# outside /tmp).
#
# Size budget: the base image plus at most 10 MB (about 7 MB today: dist 3 MB, manifests 2.4 MB,
# yaml 1.4 MB; the test measures it). Copying the whole node_modules, as before, added 160 MB.
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run gen:check && npm run build && rm dist/cli.inputs.json

FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
COPY --from=build /src/sandbox/manifests ./sandbox/manifests
COPY --from=build /src/node_modules/yaml ./node_modules/yaml
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["node", "/app/bin/kubeflow-mcp.mjs"]
CMD ["serve", "--transport=http", "--host=0.0.0.0", "--port=8000"]
