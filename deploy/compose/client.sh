#!/bin/sh
# The host outside the cluster: reaches the service ranges through the ToR.
set -eu
ip route replace 10.49.0.0/16 via 192.168.2.1
ip route replace 10.48.0.0/16 via 192.168.2.1
ip route replace 192.168.3.0/24 via 192.168.2.1
ip route replace 192.168.1.0/24 via 192.168.2.1
exec sleep infinity
