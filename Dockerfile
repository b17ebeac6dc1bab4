# Kiln built from this repository, serving the blog example (examples/blog) with its seed data:
# `docker build -t kiln-blog .`, or `docker compose up --build` for it with PostgreSQL 15.
# A project made with `kiln init` has its own Dockerfile, which installs kilnjs from npm.

# Build stage: every dependency (TypeScript included) to compile src/ into dist/, then only the runtime ones.
FROM node:20 AS build
WORKDIR /app
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm ci` runs the prepare script, which builds dist/.
RUN npm ci && npm prune --omit=dev

# The runtime image: slim, without the sources, the compiler or npm's cache.
FROM node:20-slim
WORKDIR /app
ENV HOST=0.0.0.0 PORT=3000 KILN_DATA_DIR=/app/.kiln
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY examples/blog ./examples/blog
# The user `node` comes with the image; it owns only the embedded database's folder (used when DATABASE_URL is empty).
RUN mkdir -p /app/.kiln && chown node:node /app/.kiln
USER node
EXPOSE 3000
# /readyz answers 200 while the database answers; slim images have no curl, so Node asks.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Applies pending migrations, loads the seed into an empty database, then serves; SIGTERM (docker stop) drains requests and exits 0.
CMD ["node", "bin/kiln.js", "serve", "--migrate", "--model", "examples/blog/kiln.config.ts", "--seed", "examples/blog/seed.json"]
