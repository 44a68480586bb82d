# examples/platform as an image, for running it inside the cluster (platform.yaml).
# Build from the repository root:
#   docker build -f examples/k8s/platform.Dockerfile -t forge-platform:dev .
# Not built here (no Docker engine in the environment this was written in).
FROM node:20-slim

RUN corepack enable && corepack prepare pnpm@10.34.8 --activate

WORKDIR /app
COPY . .
# The whole workspace: the platform runs its packages from source through tsx (a root devDependency).
RUN pnpm install --frozen-lockfile

USER node
ENV NODE_ENV=production
EXPOSE 8080
CMD ["node", "--conditions=@forge/source", "--import", "tsx", "examples/platform/src/main.ts"]
