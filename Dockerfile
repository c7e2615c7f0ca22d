# svcbgp: one image with svcbgp-watcher, svcbgp-speaker and svcbgpctl on PATH.
#
#   DOCKER_BUILDKIT=1 docker build -t svcbgp:0.1.0 .
#   # behind a TLS-inspecting proxy, trust its CA for the npm steps:
#   DOCKER_BUILDKIT=1 docker build --secret id=extra-ca,src=/etc/ssl/certs/ca-certificates.crt -t svcbgp:0.1.0 .
#
# Needs BuildKit (RUN --mount). There is deliberately no "# syntax=" line: the
# built-in frontend is enough, and a syntax image would have to be pulled.
# Where no registry is reachable, build node:22-slim locally first (node and
# npm on PATH); see docs/deploy.md.
#
# The build stage installs gcc and libc6-dev (from the Debian mirror the base
# image's apt points at) to compile the TCP-MD5 addon (libs/bgp/native; it also
# sets GTSM's TTLs), and fails when it cannot: the image always signs password
# peers' sessions. Without a reachable mirror, `--build-arg TCP_MD5=off` builds
# an image whose speakers refuse password and ttlSecurity peers instead.
ARG NODE_IMAGE=node:22-slim
ARG TCP_MD5=on

# Only the package manifests, so the npm ci layers below stay cached until a
# dependency changes (not on every source edit).
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -mindepth 1 -type f ! -name package.json ! -name package-lock.json -delete \
 && find . -mindepth 1 -type d -empty -delete

FROM ${NODE_IMAGE} AS build
ARG TCP_MD5
WORKDIR /src
# A C compiler for the addon, in this stage only (the final stage gets the .node).
# Node-API headers come with the Node.js image (<prefix>/include/node); a
# node:22-slim built by an older scripts/docker-env.sh lacks them, and Debian's
# libnode-dev has them (Node-API is ABI-stable: older headers serve).
RUN if [ "$TCP_MD5" != "off" ]; then \
      headers="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node/node_api.h"; \
      packages="gcc libc6-dev"; [ -f "$headers" ] || packages="$packages libnode-dev"; \
      apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=manifests /src/ ./
RUN --mount=type=secret,id=extra-ca,required=false \
    --mount=type=cache,target=/root/.npm \
    if [ -s /run/secrets/extra-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra-ca; fi; \
    npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN if [ "$TCP_MD5" != "off" ]; then export SVCBGP_REQUIRE_TCP_MD5=1; fi; \
    npm run build \
 && if [ "$TCP_MD5" != "off" ]; then test -f libs/bgp/dist/native/tcp_md5.node; fi \
 && mkdir /out \
 && for ws in libs/* services/*; do \
      if [ -d "$ws/dist" ]; then mkdir -p "/out/$ws" && cp -R "$ws/dist" "/out/$ws/dist"; fi; \
    done \
 && find /out \( -name '*.test.js' -o -name '*.test.js.map' -o -name '*.d.ts' -o -name '*.d.ts.map' -o -name '.tsbuildinfo' -o -name '*.tsbuildinfo' \) -delete

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY --from=manifests /src/ ./
RUN --mount=type=secret,id=extra-ca,required=false \
    --mount=type=cache,target=/root/.npm \
    if [ -s /run/secrets/extra-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra-ca; fi; \
    npm ci --omit=dev --workspaces --include-workspace-root --no-audit --no-fund --ignore-scripts
COPY --from=build /out/ ./
# The bins, on PATH whatever the entry points' mode bits or shebangs.
RUN set -e; \
    for pair in svcbgp-watcher:watcher svcbgp-speaker:speaker svcbgpctl:ctl; do \
      bin="${pair%%:*}"; svc="${pair#*:}"; \
      test -f "/app/services/$svc/dist/main.js"; \
      printf '#!/bin/sh\nexec node /app/services/%s/dist/main.js "$@"\n' "$svc" > "/usr/local/bin/$bin"; \
      chmod 0755 "/usr/local/bin/$bin"; \
    done
# Non-root by default (the "nonroot" uid of distroless images). Nothing in
# /app is writable by it; the root filesystem can be mounted read-only.
USER 65532:65532
EXPOSE 50051 50052 9090 9091
CMD ["svcbgpctl", "--help"]
