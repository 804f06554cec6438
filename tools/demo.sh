#!/bin/bash
# `make demo`: ocf:mirantis:haproxy as a clone on a real (single-node)
# Pacemaker cluster, serving a page on http://127.0.0.1:8080/.
#
#   tools/demo.sh [start]   # cluster + resource up, prints status and the page
#   tools/demo.sh stop      # removes the resource, stops the cluster
#
# Run as root after `make install` (the Makefile's demo target does both).
# The cluster is tools/pcmk-single.sh's (state in $PCMK_STATE, default
# /var/tmp/mirantis-ocf/single); the demo's own files live in $DEMO_DIR.
set -u
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PCMK=$HERE/pcmk-single.sh
DEMO_DIR=${DEMO_DIR:-/var/tmp/mirantis-ocf/demo}
PORT=${DEMO_PORT:-8080}
URL=http://127.0.0.1:$PORT/
AGENT=/usr/lib/ocf/resource.d/mirantis/haproxy
PRIM=p_haproxy
CLONE=clone_p_haproxy
WAIT=60

say() { printf '==> %s\n' "$*"; }
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }

fetch() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsS --max-time 2 "$URL"
    else
        /usr/bin/python3 -c 'import sys, urllib.request as u
sys.stdout.write(u.urlopen(sys.argv[1], timeout=2).read().decode())' "$URL"
    fi
}

configured() { cibadmin -Q --xpath "//clone[@id='$CLONE']" >/dev/null 2>&1; }

# Started, active and not failed on this node, per crm_mon's XML
started() {
    crm_mon -1 --output-as=xml 2>/dev/null |
        grep -E "<resource id=\"$PRIM(:[0-9]+)?\" [^>]*role=\"Started\"" |
        grep -q 'failed="false"'
}

# Anything already listening on the port would answer our checks in place of
# the demo's haproxy (bash's /dev/tcp: no extra tool needed).
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

start() {
    [ "$(id -u)" = 0 ] || die "run as root"
    [ -x "$AGENT" ] || die "$AGENT is not installed: run 'make install' (or 'make demo') first"

    say "starting the single-node cluster"
    "$PCMK" start || die "the cluster did not start"

    if ! configured && port_busy; then
        die "something else already listens on 127.0.0.1:$PORT (set DEMO_PORT=...)"
    fi

    say "writing $DEMO_DIR/haproxy.cfg"
    mkdir -p "$DEMO_DIR" || exit 1
    # no pidfile directive: the agent passes -p from its pidfile parameter
    cat >"$DEMO_DIR/haproxy.cfg" <<EOF
# written by tools/demo.sh
global
    stats socket $DEMO_DIR/haproxy.sock mode 600 level admin

defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend fe_demo
    mode http
    bind 127.0.0.1:$PORT
    http-request return status 200 content-type text/plain string "Hello from HAProxy, started and watched by Pacemaker through ocf:mirantis:haproxy.\n"
EOF
    # a bad config would otherwise only surface as a failed start action
    haproxy -c -q -f "$DEMO_DIR/haproxy.cfg" || die "haproxy rejects $DEMO_DIR/haproxy.cfg"

    say "loading $PRIM + $CLONE (crm configure load update)"
    cat >"$DEMO_DIR/resource.crm" <<EOF
primitive $PRIM ocf:mirantis:haproxy \\
    params conffile=$DEMO_DIR/haproxy.cfg pidfile=$DEMO_DIR/haproxy.pid \\
    op monitor interval=20 timeout=30 \\
    op start interval=0 timeout=30 \\
    op stop interval=0 timeout=30
clone $CLONE $PRIM \\
    meta interleave=true
EOF
    # crmsh warns "Blind faith: not fencing unseen nodes" (stonith is off on
    # purpose in this throw-away cluster): not worth showing
    crm configure load update "$DEMO_DIR/resource.crm" 2>&1 | grep -v 'Blind faith' >&2
    [ "${PIPESTATUS[0]}" = 0 ] && configured || die "could not load $DEMO_DIR/resource.crm"

    printf '==> waiting for %s to start and answer on %s ' "$CLONE" "$URL"
    local i ok=0
    for i in $(seq "$WAIT"); do
        if started && fetch >/dev/null 2>&1; then ok=1; break; fi
        printf '.'
        sleep 1
    done
    if [ "$ok" != 1 ]; then
        printf ' not up after %ss\n' "$WAIT"
        crm_mon -1 -r >&2
        die "the demo did not come up; inspect, then run: $0 stop"
    fi
    printf ' up\n\n'

    say "crm_mon -1 -r"
    crm_mon -1 -r
    echo
    say "curl $URL"
    fetch
    echo
    cat <<EOF
The cluster keeps haproxy running: try
    kill -9 \$(cat $DEMO_DIR/haproxy.pid); sleep 25; crm_mon -1 -r
(monitor interval 20s) and the page comes back, with a failed action shown.

Stop everything with:
    $0 stop        (or: make demo-stop)
EOF
}

stop() {
    [ "$(id -u)" = 0 ] || die "run as root"
    if "$PCMK" status >/dev/null 2>&1 && configured; then
        say "stopping and removing $CLONE"
        crm_resource -r "$CLONE" --meta -p target-role -v Stopped >/dev/null
        # pacemaker would also stop it as an orphan after the delete; stopping
        # first keeps the stop an ordinary, logged action
        crm_resource --wait --timeout=60s || echo "demo: $CLONE still stopping after 60s" >&2
        cibadmin --delete -o resources --xml-text "<clone id='$CLONE'/>"
        crm_resource --cleanup >/dev/null 2>&1
    fi
    "$PCMK" stop || exit 1
    # only our own files: DEMO_DIR can be overridden from the environment
    rm -f "$DEMO_DIR"/{haproxy.cfg,resource.crm,haproxy.pid,haproxy.sock}
    rmdir "$DEMO_DIR" 2>/dev/null
    say "demo stopped"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
