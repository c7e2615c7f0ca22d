#!/bin/sh
# The host outside the cluster: reaches the service ranges through the ToR.
# TOR_IP and NODES_NET default to the compose stack's addresses.
set -eu
tor=${TOR_IP:-192.168.2.1}
for net in 10.49.0.0/16 10.48.0.0/16 192.168.3.0/24 "${NODES_NET:-192.168.1.0/24}"; do
  ip route replace "$net" via "$tor"
done
exec sleep infinity
