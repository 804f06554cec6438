#!/bin/bash
# `make demo`, `make demo-failover`, `make demo-powerloss`, `make demo-stop`:
# the seed's whole configuration (Galera behind haproxy and the management
# VIP, the public VIP, the neutron agents) on a 3-node corosync + pacemaker
# cluster in network namespaces.
#
#   tools/demo.sh [start]       cluster + configuration; waits until all is Started
#   tools/demo.sh status        where everything runs; how to connect
#   tools/demo.sh failover      kill the node holding the management VIP, watch it move
#   tools/demo.sh powerloss     all three nodes lose power; watch Galera reassemble
#   tools/demo.sh mysql [ARGS]  the mariadb client, through the VIP and haproxy
#   tools/demo.sh stop          stop everything, delete the namespaces
#
# Run as root after `make install` (the Makefile's demo target also runs
# `make deps`).  The driver is tools/demo.py, under Debian's /usr/bin/python3
# (the agents' interpreter, with python3-pymysql), never a python3 from PATH.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec /usr/bin/python3 -u "$HERE/demo.py" "${@:-start}"
