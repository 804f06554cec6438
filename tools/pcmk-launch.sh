#!/bin/bash
# Per-node launcher for tools/pcmk-single.sh and tools/pcmk-netns.sh.  Runs
# INSIDE a fresh private mount namespace (`unshare -m --propagation private`),
# so the bind mounts below are invisible to the host: the host's
# /etc/corosync, /var/lib/pacemaker etc. are never touched, and every cluster
# start gets its own state.
#
#   pcmk-launch.sh STATEDIR [HOSTNAME]
#
# STATEDIR layout (prepared by pcmk-single.sh / pcmk-netns.sh):
#   etc-corosync/corosync.conf  -> /etc/corosync      (the corosync tools, crmsh
#                                                      and pcs read it from there)
#   var-lib-pacemaker/          -> /var/lib/pacemaker (cib.xml, pengine inputs)
#   var-lib-corosync/           -> /var/lib/corosync
#   log/                        -> /var/log/pacemaker and /var/log/corosync
#   run/                        -> /run, only with PRIVATE_RUN=1 (see below)
#   extra-binds                 optional, "SRC DST" per line: more bind mounts
#   corosync.pid, pacemakerd.pid   written here (host PIDs: no PID namespace)
#   corosync.ready                 written once corosync answers on its IPC
#
# Optional, for several nodes on one machine (tools/pcmk-netns.sh):
#   HOSTNAME      the node gets its own UTS namespace with that hostname, so
#                 `uname -n` (what pacemaker and the agents use as the node
#                 name) differs per node.  The launcher makes that namespace
#                 itself (re-exec under `unshare -u`): it must never set the
#                 hostname of the namespace it was started in.
#   PRIVATE_RUN=1 bind-mount STATEDIR/run on /run (= /var/run).  Needed because
#                 /run/corosync.pid is corosync's single-instance lock, and it
#                 gives each node its own /run/crm, /run/resource-agents
#                 (HA_RSCTMP, where agents keep state), /run/mysqld...
#
# It stays alive as the parent of both daemons (reaps them) and exits once
# they have both exited.
set -u
D=${1:?usage: pcmk-launch.sh STATEDIR [HOSTNAME]}
H=${2:-}

if [ -n "$H" ]; then
    # Step 1: re-exec in a new UTS namespace, remembering the old one so that
    # step 2 can prove it is no longer in it.  (PID 1's namespaces cannot be
    # read on every machine, so "the old one" is the only safe reference.)
    if [ -z "${_PCMK_LAUNCH_OUTER_UTS:-}" ]; then
        outer=$(readlink /proc/self/ns/uts) || exit 1
        exec env _PCMK_LAUNCH_OUTER_UTS="$outer" unshare -u -- "$0" "$@"
    fi
    # Step 2
    if [ "$(readlink /proc/self/ns/uts)" = "$_PCMK_LAUNCH_OUTER_UTS" ]; then
        echo "not in a private UTS namespace: refusing to set the hostname" >&2
        exit 1
    fi
    hostname "$H" || exit 1
fi

# Belt and braces: unshare --propagation private already did this; without it
# our bind mounts could leak back into the host namespace.
mount --make-rprivate / || exit 1

bind() {
    mkdir -p "$2" && mount --bind "$1" "$2" || { echo "bind $1 -> $2 failed" >&2; exit 1; }
}
bind "$D/etc-corosync" /etc/corosync
bind "$D/var-lib-pacemaker" /var/lib/pacemaker
bind "$D/var-lib-corosync" /var/lib/corosync
bind "$D/log" /var/log/pacemaker
bind "$D/log" /var/log/corosync
if [ "${PRIVATE_RUN:-0}" = 1 ]; then
    # What a tmpfs /run holds after boot, as far as the cluster cares (the
    # caller empties STATEDIR/run to simulate a reboot).
    bind "$D/run" /run
    mkdir -p /run/lock /run/resource-agents /run/crm || exit 1
    chmod 1755 /run/resource-agents
    chown hacluster:haclient /run/crm && chmod 750 /run/crm || exit 1
fi
# Per-node extra bind mounts, e.g. a private /etc/mysql and /var/lib/mysql.
# Re-applied at every start: a mount added to a running node by hand is gone
# after its restart, and the node would silently use the host's directory.
# A directory goes over a directory, a file over a file (e.g. /etc/hosts).
# DST must exist, except under a private /run: the root filesystem is the
# host's, so creating a mount point would leave it behind on the host.
if [ -f "$D/extra-binds" ]; then
    while read -r src dst rest; do
        case "$src" in '' | '#'*) continue ;; esac
        if [ -z "$dst" ] || [ -n "$rest" ]; then
            echo "bad line in $D/extra-binds: $src $dst $rest" >&2; exit 1
        fi
        [ -e "$src" ] || { echo "extra-binds: $src does not exist" >&2; exit 1; }
        if [ ! -e "$dst" ]; then
            case "$dst" in
            /run/?*) [ "${PRIVATE_RUN:-0}" = 1 ] ;;
            *) false ;;
            esac || { echo "extra-binds: mount point $dst does not exist (created only under a private /run)" >&2; exit 1; }
            if [ -d "$src" ]; then mkdir -p "$dst"; else mkdir -p "$(dirname "$dst")" && : >"$dst"; fi || exit 1
        fi
        mount --bind "$src" "$dst" || { echo "bind $src -> $dst failed" >&2; exit 1; }
    done <"$D/extra-binds"
fi

# Agents inherit pacemakerd's whole environment, cwd and umask (execd passes
# them on).  Give them what systemd would, not whatever the caller's shell had
# (pyenv shims, virtualenvs, PYTHONPATH, a repo checkout as cwd...), so the
# tests see the agent exactly as production would run it.
cd / || exit 1
umask 022
CLEANENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root)

"${CLEANENV[@]}" corosync -f -c /etc/corosync/corosync.conf \
    >"$D/log/corosync.out" 2>&1 </dev/null &
cpid=$!
echo "$cpid" >"$D/corosync.pid"

# pacemakerd gives up if corosync's IPC is not there yet: wait for cmap.
ok=0
for _ in $(seq 100); do
    if corosync-cmapctl -g totem.cluster_name >/dev/null 2>&1; then ok=1; break; fi
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.1
done
if [ "$ok" != 1 ]; then
    echo "corosync did not come up within 10s (see $D/log/corosync.log)" >&2
    kill -TERM "$cpid" 2>/dev/null
    wait
    exit 1
fi
date +%s.%N >"$D/corosync.ready"

"${CLEANENV[@]}" PCMK_logfile=/var/log/pacemaker/pacemaker.log \
    ${PCMK_debug:+PCMK_debug=$PCMK_debug} \
    pacemakerd >"$D/log/pacemakerd.out" 2>&1 </dev/null &
echo $! >"$D/pacemakerd.pid"

wait
