#!/bin/sh
# Runs in a speaker's network namespace (network_mode: service:speaker-N) and
# plays kube-proxy plus an nginx endpoint on that "node": the seed's service
# IPs on lo, an HTTP server answering on them, and the route back to the
# client network through the ToR. TOR_IP and CLIENTS_NET default to the
# compose stack's addresses.
set -eu
for ip in ${SERVICE_IPS:-10.49.62.131 192.168.3.180}; do
  ip addr add "$ip/32" dev lo 2>/dev/null || true
done
ip route replace "${CLIENTS_NET:-192.168.2.0/24}" via "${TOR_IP:-192.168.1.1}"
mkdir -p /tmp/www
echo "hello from ${NODE_NAME:-$(hostname)}" > /tmp/www/index.html
exec busybox httpd -f -v -p 80 -h /tmp/www
