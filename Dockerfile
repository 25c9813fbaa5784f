# Parley container image: the same build as on a workstation (npm ci && npm run build),
# then only the compiled binary in a small runtime image.
#
#   docker build -t parley .
#   docker run -d --name parley -p 8080:8080 -v parley-data:/data parley
#   docker stop -t 15 parley     # allow the 10 s shutdown grace (http.shutdown_grace_ms)
#
# Configuration: PARLEY_* environment variables (docker run -e PARLEY_PUBLIC_URL=...), or
# mount a file and pass it: ... parley serve --config /etc/parley/parley.toml
# This file is not built in Parley's CI (no container engine there); keep it a literal
# mirror of `npm ci` + `npm run build` so the image is what the tested build produces.

# --- Build: Node runs npm and Vite; Bun comes from the npm package `bun` (devDependency).
# Node >= 20.19 is required by Vite; 22 is the current LTS line of this Debian base.
FROM node:22-bookworm-slim AS build
WORKDIR /src
# Dependencies first, so the layer is cached while only sources change. npm ci runs the
# `bun` package's install script, which picks the Bun binary for this CPU.
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# build:web (vite build web) then build:binary (bun build --compile ... --outfile dist/parley)
RUN npm run build

# --- Runtime: the binary needs only glibc (ldd: libc, libm, libpthread, libdl), which rules
# out Alpine (musl) and scratch. Debian slim matches the build stage's glibc and has apt for
# curl, used by HEALTHCHECK; gcr.io/distroless/base-debian12 would also run the binary
# (smaller, no shell) but then there is no HEALTHCHECK, as parley has no probe command.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home parley \
 && mkdir /data \
 && chown parley:parley /data \
 && chmod 0700 /data
COPY --from=build /src/dist/parley /usr/local/bin/parley
# The database and files. Owned by the parley user before VOLUME, so a new named volume
# starts with that owner.
ENV PARLEY_DATA_DIR=/data
VOLUME /data
WORKDIR /data
USER parley
EXPOSE 8080
# /ready answers 503 while Parley cannot serve (e.g. the database is unreachable). Assumes
# plain HTTP inside the container (TLS at a proxy); with tls.cert/tls.key set, change the
# URL to https:// and add curl -k.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${PARLEY_PORT:-8080}/ready" || exit 1
# SIGTERM (docker stop) drains requests and closes the database; Parley is PID 1 here and
# handles the signal itself.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/parley"]
CMD ["serve"]
