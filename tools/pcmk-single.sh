#!/bin/bash
# Single-node corosync 3 + pacemaker 2.1 cluster for tests and demos, on a
# machine without systemd (CI containers, VMs whose PID 1 is not an init).
#
#   tools/pcmk-single.sh start       # fresh cluster; waits for node online + DC
#   tools/pcmk-single.sh stop        # clean stop (resources first), idempotent
#   tools/pcmk-single.sh status      # crm_mon -1 -r; exit 3 if not running
#   tools/pcmk-single.sh wait-idle [SECONDS]   # no pending actions (default 60)
#
# Must run as root.  State lives in ${PCMK_STATE:-/var/tmp/mirantis-ocf/single}.
#
# How it works, and why:
#  * corosync/pacemaker hard-code /etc/corosync, /var/lib/pacemaker, ... so
#    the daemons run in a private mount namespace (unshare -m) where those
#    paths are bind-mounted from the state dir (tools/pcmk-launch.sh).  The
#    host's own directories are never touched, and every start gets a fresh
#    CIB.  The network namespace is the host's: the cluster talks knet on
#    127.0.0.1 and the CLI tools (crm_mon, cibadmin, crm, ...) work directly
#    from the host shell, because pacemaker's IPC uses abstract sockets.
#  * The daemons get a clean environment (env -i), as systemd would give
#    them: resource agents inherit pacemakerd's environment.
#  * What this script shares with tools/pcmk-netns.sh (state dirs, finding
#    and stopping their processes, corosync.conf, the CIB seed) is in
#    tools/pcmk-lib.sh.
#  * A pre-seeded cib.xml (stonith off, dc-deadtime=2s) brings start-up from
#    ~22s (default 20s DC election timer) down to ~5s.
#  * "Our" processes are identified by the mount namespace recorded at start
#    (and the PID files), never by process name: another cluster or a
#    developer's haproxy on the same host must survive `stop`.
set -u
umask 022
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=pcmk-single
LAUNCH=$HERE/pcmk-launch.sh
# shellcheck source=tools/pcmk-lib.sh
. "$HERE/pcmk-lib.sh" || exit 1
D=${PCMK_STATE:-/var/tmp/mirantis-ocf/single}
NODE=$(uname -n)
CLUSTER_NAME=mirantis-ocf
START_TIMEOUT=${PCMK_START_TIMEOUT:-90}
# pacemakerd stops every resource before exiting; give slow agents room.
STOP_TIMEOUT=${PCMK_STOP_TIMEOUT:-120}

# exit 2 unless absolute; sets LOCK (next to $D: start wipes $D's contents)
init_state_dir D PCMK_STATE

# --- identifying our processes ----------------------------------------------

# The launcher records its mount namespace at start ($D/mntns); only a
# namespace that differs from ours is trusted (state_mntns, pcmk-lib.sh).

# pid_of NAME -> the PID from $D/NAME.pid if that process is alive and ours.
pid_of() { state_pid "$D" "$1"; }

# ns_pids -> every PID in the cluster's mount namespace: launcher, corosync,
# pacemaker daemons, resource agents and whatever they started (haproxy...).
ns_pids() { state_pids "$D"; }

pidfiles_left() {
    local f
    for f in launcher corosync pacemakerd; do [ -e "$D/$f.pid" ] && return 0; done
    return 1
}

daemons_running() { pid_of corosync >/dev/null || pid_of pacemakerd >/dev/null; }

# A SIGKILLed corosync (or pacemaker daemon) leaves its libqb IPC files, and
# corosync its 16 MiB blackbox, in /dev/shm, which is not namespaced.  Remove
# only those named after PIDs of ours that are now dead.
clean_shm() {
    local p
    for p in "$@"; do
        [ -d "/proc/$p" ] && continue
        rm -rf /dev/shm/qb-"$p"-* /dev/shm/qb-*-"$p"-blackbox-*
    done
}

# --- cluster state ----------------------------------------------------------

mon_xml() { crm_mon -1 --output-as=xml 2>/dev/null; }

# true once our node is online and some node is DC
cluster_ready() {
    local x
    x=$(mon_xml) || return 1
    grep -q "<node name=\"$NODE\"[^>]* online=\"true\"" <<<"$x" &&
        grep -q '<current_dc present="true"' <<<"$x"
}

wait_ready() {
    local t=$1 i
    for i in $(seq $((t * 4))); do
        cluster_ready && return 0
        # fail fast instead of waiting out the timeout for a dead cluster
        daemons_running || { [ "$i" -gt 8 ] && return 1; }
        sleep 0.25
    done
    return 1
}

show_logs() { show_state_logs "$D/log" 25; }

# --- commands ---------------------------------------------------------------

preflight() {
    preflight_cmds corosync corosync-cmapctl pacemakerd crm_mon cibadmin crm_resource unshare setsid flock
}

cmd_start() {
    local t0 pid
    preflight
    take_lock
    if daemons_running; then
        log "already running (state $D)"
        if ! wait_ready "$START_TIMEOUT"; then
            err "running but node $NODE not online with a DC after ${START_TIMEOUT}s"
            show_logs; exit 1
        fi
        return 0
    fi
    # A cluster we did not start (e.g. another state dir) would answer our
    # readiness checks and share the knet port: refuse rather than confuse.
    if mon_xml >/dev/null; then
        err "another pacemaker cluster already answers on this host (not from $D)"
        exit 1
    fi
    # A previous run that did not stop cleanly (daemons killed, machine
    # state lost) can leave an agent's daemon, pacemaker children and /dev/shm
    # files behind: clean those first, as a reboot would.
    if [ -n "$(ns_pids)" ] || pidfiles_left; then
        log "cleaning up after a previous run that did not stop cleanly"
        do_stop || exit 1
    fi

    t0=$(now_ms)
    log "starting corosync + pacemaker (node $NODE, state $D)"
    # (only what we create ourselves: PCMK_STATE could point somewhere shared)
    prepare_state_dir "$D" || { err "cannot prepare $D"; exit 1; }
    write_corosync_conf "$D/etc-corosync/corosync.conf" \
        "short token: faster membership settling (default 3000ms)" "" \
        1 "$NODE" 127.0.0.1
    seed_cib "$D/var-lib-pacemaker/cib/cib.xml" 30s || { err "cannot write the CIB seed"; exit 1; }
    # (launcher.out is new: prepare_state_dir emptied log/)
    spawn_launcher "$D/log/launcher.out" setsid unshare -m --propagation private "$LAUNCH" "$D"
    pid=$LAUNCHER_PID
    echo "$pid" >"$D/launcher.pid"
    # unshare execs the launcher in place: once its namespace differs from
    # ours, record it (this is what `stop` trusts).
    local i ns=""
    for i in $(seq 50); do
        ns=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null) || break
        [ "$ns" != "$(host_mntns)" ] && break
        ns=""
        sleep 0.1
    done
    if [ -z "$ns" ]; then
        err "launcher did not enter its mount namespace"
        show_logs; exit 1
    fi
    echo "$ns" >"$D/mntns"

    if ! wait_ready "$START_TIMEOUT"; then
        err "node $NODE not online with a DC after ${START_TIMEOUT}s (logs in $D/log)"
        show_logs
        do_stop >&2
        exit 1
    fi
    log "cluster up in $(since "$t0") (node $NODE online, DC elected)"
}

# what stop_state (pcmk-lib.sh) says while it stops the cluster
stop_note() {
    local what=$2; shift 2
    case "$what" in
    pacemakerd) log "stopping pacemaker (resources first, up to ${STOP_TIMEOUT}s)" ;;
    leftover) log "killing leftover processes in the cluster namespace: $*" ;;
    corosync) log "stopping corosync" ;;
    stuck) err "processes still alive in the cluster namespace: $*" ;;
    esac
}

do_stop() {
    local t0 rc
    t0=$(now_ms)
    stop_state "$D" "$STOP_TIMEOUT" ""
    rc=$?
    case "$rc" in
    0) log "stopped in $(since "$t0")" ;;
    3) log "not running" ;;
    *) return 1 ;;
    esac
}

cmd_stop() {
    need_root
    take_lock
    do_stop
}

cmd_status() {
    if ! daemons_running; then
        log "not running"
        return 3
    fi
    crm_mon -1 -r
}

cmd_wait_idle() {
    local t=${1:-60}
    daemons_running || { err "not running"; return 1; }
    # crm_resource --wait: until the scheduler has no pending actions
    crm_resource --wait --timeout="${t}s"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
wait-idle) cmd_wait_idle "${2:-60}" ;;
*) echo "usage: $0 start|stop|status|wait-idle [SECONDS]" >&2; exit 2 ;;
esac
