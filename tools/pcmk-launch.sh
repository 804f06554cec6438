#!/bin/bash
# Per-node launcher for tools/pcmk-single.sh.  Runs INSIDE a fresh private
# mount namespace (`unshare -m --propagation private`), so the bind mounts
# below are invisible to the host: the host's /etc/corosync, /var/lib/pacemaker
# etc. are never touched, and every cluster start gets its own state.
#
#   pcmk-launch.sh STATEDIR
#
# STATEDIR layout (prepared by pcmk-single.sh):
#   etc-corosync/corosync.conf  -> /etc/corosync      (the corosync tools, crmsh
#                                                      and pcs read it from there)
#   var-lib-pacemaker/          -> /var/lib/pacemaker (cib.xml, pengine inputs)
#   var-lib-corosync/           -> /var/lib/corosync
#   log/                        -> /var/log/pacemaker and /var/log/corosync
#   corosync.pid, pacemakerd.pid   written here (host PIDs: no PID namespace)
#   corosync.ready                 written once corosync answers on its IPC
#
# It stays alive as the parent of both daemons (reaps them) and exits once
# they have both exited.
set -u
D=${1:?usage: pcmk-launch.sh STATEDIR}

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
