#!/usr/bin/env bash
# Installs what svcbgp's lab and tests need on a Debian machine, then the npm
# dependencies and the build. Idempotent and quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: BIRD 2, GoBGP and FRR are the interop peers; iproute2 builds the
# namespace lab; curl is the lab's client; kubectl renders the kustomization.
# gcc and libc6-dev compile the TCP-MD5 addon (libs/bgp/native) in `npm run build`.
# package:command — a command already on PATH (from any package) is enough.
# FRR's bgpd is not on PATH (/usr/lib/frr); its vtysh is.
PACKAGES=(bird2:bird gobgpd:gobgpd frr:vtysh iproute2:ip curl:curl openssl:openssl kubernetes-client:kubectl docker-compose:docker-compose gcc:gcc)

missing=()
for entry in "${PACKAGES[@]}"; do
  command -v "${entry#*:}" >/dev/null 2>&1 || missing+=("${entry%%:*}")
done
[[ -f /usr/include/netinet/tcp.h ]] || missing+=(libc6-dev)
[[ -x /usr/lib/frr/bgpd ]] || [[ " ${missing[*]} " == *" frr "* ]] || missing+=(frr)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The packages may start daemons of their own where an init system runs; the
# tests start their own instances with their own configs (FRR's bgpd without
# zebra, each on its own loopback address, port and vty socket).
for daemon in bird gobgpd frr; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$daemon" 2>/dev/null; then systemctl disable --now "$daemon" || true
  elif [[ -x /etc/init.d/$daemon ]] && command -v service >/dev/null && service "$daemon" status >/dev/null 2>&1; then service "$daemon" stop || true; fi
done

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
