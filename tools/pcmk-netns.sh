#!/bin/bash
# A 3-node corosync 3 + pacemaker 2.1 cluster on ONE machine, each node in its
# own network, mount and UTS namespace, for tests that need real membership:
# failover, a node that is killed or loses power, a cluster that loses quorum.
# Works without systemd (CI containers, VMs whose PID 1 is not an init).
#
#   tools/pcmk-netns.sh start            # fresh cluster; waits for 3 online + DC
#   tools/pcmk-netns.sh stop             # clean stop of all nodes, delete the
#                                        # namespaces; idempotent
#   tools/pcmk-netns.sh status           # per-node state + crm_mon; rc 0 all
#                                        # nodes up, 1 some, 3 none
#   tools/pcmk-netns.sh exec N CMD...    # CMD inside node N (net+mount+uts ns,
#                                        # clean env); rc 125 if node N is down
#   tools/pcmk-netns.sh node-stop N...   # clean stop (resources first)
#   tools/pcmk-netns.sh node-kill N      # kill -9 everything of node N
#   tools/pcmk-netns.sh powerloss N...   # all listed nodes die at one instant
#   tools/pcmk-netns.sh node-start N...  # (re)start, fresh /run as after a
#                                        # reboot; waits until online
#   tools/pcmk-netns.sh wait-online [S]  # every running node online + one DC
#   tools/pcmk-netns.sh bind N SRC DST   # per-node bind mount, now and at
#                                        # every later start of node N (until
#                                        # the next `start`); DST must exist,
#                                        # except under /run
#   tools/pcmk-netns.sh pids N           # every PID of node N, one per line
#
# Must run as root.  State lives in ${PCMK_NETNS_STATE:-/var/tmp/mirantis-ocf/netns},
# node N's in $STATE/nN (logs in $STATE/nN/log).
#
# How it works, and why:
#  * Network: namespaces mocf-n1..3, each with lo and eth0 = 10.211.0.1N/24.
#    Each eth0 is a veth whose peer sits on a bridge in ITS OWN namespace
#    (mocf-sw), so the host's network namespace gets no interface, no address
#    and no route: 10.211.0.0/24 exists only inside the nodes, and the nodes
#    have no default route, so nothing they send can leave.
#  * Pacemaker/corosync IPC (libqb) uses abstract unix sockets, which are per
#    network namespace: the host's CLI tools cannot see this cluster (nor can
#    the nodes see a cluster of tools/pcmk-single.sh on the host).  Every
#    crm_mon/cibadmin/crm_resource call must go through `exec N`.
#  * Each node is `ip netns exec mocf-nN unshare -m --propagation private
#    tools/pcmk-launch.sh $STATE/nN nodeN` with PRIVATE_RUN=1: the launcher
#    bind-mounts private /etc/corosync, /var/lib/{pacemaker,corosync},
#    /var/log/{pacemaker,corosync} and /run (corosync.pid is corosync's
#    single-instance lock; /run/resource-agents and /run/mysqld must be per
#    node too), applies $STATE/nN/extra-binds, sets hostname nodeN in its own
#    UTS namespace (agents use `uname -n` as the node name), and starts the
#    daemons with a clean environment.
#  * No PID namespace: PIDs are host PIDs, so pid files and `kill` work from
#    the host.  A node's processes are identified by the mount namespace
#    recorded at its start ($STATE/nN/mntns), never by process name: the
#    other nodes run the very same programs, and a developer's or another
#    test's corosync/mariadbd on the host must survive.  Everything an agent
#    starts (mariadbd...) inherits that mount namespace, so it is found too.
#  * /dev/shm is shared (libqb rings are named after host PIDs, so they do not
#    clash); a SIGKILLed daemon leaves its files there, and we remove those of
#    OUR dead PIDs only.
#  * node-start empties the node's /run, as a tmpfs after a reboot: otherwise
#    the probes find stale agent state and pacemaker decides the resource is
#    "active on 2 nodes".  All the other per-node state (CIB, extra binds and
#    the data behind them) is kept, like a disk.
#  * No fencing (stonith-enabled=false): a node that is only half dead (e.g.
#    corosync killed, the rest alive) keeps its resources running.  Hence
#    node-kill/powerloss kill EVERYTHING of the node at once.
#  * What this script shares with tools/pcmk-single.sh (state dirs, finding
#    and stopping their processes, corosync.conf, the CIB seed) is in
#    tools/pcmk-lib.sh.
set -u
umask 022
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=pcmk-netns
LAUNCH=$HERE/pcmk-launch.sh
# shellcheck source=tools/pcmk-lib.sh
. "$HERE/pcmk-lib.sh" || exit 1
S=${PCMK_NETNS_STATE:-/var/tmp/mirantis-ocf/netns}
# 3 nodes; PCMK_NETNS_NODES=5 (2 to 9) for the scale bench (bench/galera.py --nodes 5)
SIZE=${PCMK_NETNS_NODES:-3}
case "$SIZE" in [2-9]) ;; *) echo "$0: PCMK_NETNS_NODES must be 2 to 9" >&2; exit 2 ;; esac
read -r -a NODES <<<"$(seq -s ' ' 1 "$SIZE")"
NSPFX=mocf            # namespaces mocf-n1..N and mocf-sw
SWNS=$NSPFX-sw
BRIDGE=mocfbr0
NET=10.211.0          # node N = $NET.1N
CLUSTER_NAME=mirantis-netns
START_TIMEOUT=${PCMK_NETNS_START_TIMEOUT:-90}
# pacemakerd stops every resource before exiting; give slow agents room.
STOP_TIMEOUT=${PCMK_NETNS_STOP_TIMEOUT:-120}
# `exec N` on a node that is down: distinct from the codes pacemaker tools
# use (0-113, 124, 190-193), like env(1)/timeout(1) use 125-127 for "could
# not run the command".
RC_DOWN=125

# exit 2 unless absolute; sets LOCK, next to the state dir, not in it:
# nothing of ours may be wiped while held
init_state_dir S PCMK_NETNS_STATE

nd() { echo "$S/n$1"; }
nsname() { echo "$NSPFX-n$1"; }
addr() { echo "$NET.1$1"; }
names() { local n out=""; for n in "$@"; do out+="${out:+, }node$n"; done; echo "$out"; }

valid_node() {
    local n
    for n in "${NODES[@]}"; do [ "$1" = "$n" ] && return 0; done
    err "no such node '$1' (nodes: ${NODES[*]})"
    return 1
}

# --- identifying a node's processes -------------------------------------------

# node N's state dir records its mount namespace at start ($STATE/nN/mntns);
# only one that differs from ours is trusted (state_mntns, pcmk-lib.sh).

# node_pids N -> every live PID in node N's mount namespace: launcher,
# corosync, the pacemaker daemons, the agents and whatever they started, and
# `exec N` commands.  This runs in every `exec`.
node_pids() { state_pids "$(nd "$1")"; }

# pid_of N NAME -> the PID in $STATE/nN/NAME.pid if it is alive and node N's
# (the namespace check guards against a stale PID file whose PID was reused)
pid_of() { state_pid "$(nd "$1")" "$2"; }

# nspid N -> a live process of node N to nsenter (its corosync, else its
# launcher, else any).  rc 1 when the node has no process left: the node is
# down, and callers must not fall back to the host's namespaces.
nspid() {
    local p
    p=$(pid_of "$1" corosync) || p=$(pid_of "$1" launcher) ||
        p=$(node_pids "$1" | head -n 1)
    [ -n "$p" ] && echo "$p"
}

node_has_procs() { [ -n "$(node_pids "$1")" ]; }

# a node is "running" when both daemons are alive; one with only some of its
# processes left is broken and gets cleaned up by node-start/stop
node_running() { pid_of "$1" corosync >/dev/null && pid_of "$1" pacemakerd >/dev/null; }

# A SIGKILLed corosync or pacemaker daemon leaves its libqb IPC files, and
# corosync its 16 MiB blackbox, in /dev/shm, which is not namespaced.  Remove
# only those named after PIDs of ours that are now dead.
clean_shm() {
    local p
    for p in "$@"; do
        case "$p" in '' | *[!0-9]*) continue ;; esac
        # (a zombie's PID cannot be reused yet: its files are still its own)
        alive "$p" && continue
        rm -rf /dev/shm/qb-"$p"-* /dev/shm/qb-*-"$p"-blackbox-*
    done
}

# recorded_pids N -> the PIDs our files name, alive or not: a daemon that died
# before we got here still left its files in /dev/shm
recorded_pids() { state_recorded_pids "$(nd "$1")"; }

forget_node() { state_forget "$(nd "$1")"; }

# --- network ------------------------------------------------------------------

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

net_complete() {
    local n
    ns_exists "$SWNS" || return 1
    for n in "${NODES[@]}"; do
        ns_exists "$(nsname "$n")" || return 1
        ip -n "$(nsname "$n")" -br addr show dev eth0 2>/dev/null | grep -q "$(addr "$n")/" || return 1
    done
}

net_up() {
    local n ns
    ip netns add "$SWNS" &&
        ip -n "$SWNS" link set lo up &&
        ip -n "$SWNS" link add "$BRIDGE" type bridge &&
        ip -n "$SWNS" link set "$BRIDGE" up || return 1
    for n in "${NODES[@]}"; do
        ns=$(nsname "$n")
        # the veth ends are created directly in their namespaces: no
        # interface ever appears in the host's namespace, not even briefly
        ip netns add "$ns" &&
            ip -n "$ns" link set lo up &&
            ip link add eth0 netns "$ns" type veth peer name "n$n" netns "$SWNS" &&
            ip -n "$SWNS" link set "n$n" master "$BRIDGE" up &&
            ip -n "$ns" addr add "$(addr "$n")/24" dev eth0 &&
            ip -n "$ns" link set eth0 up || return 1
    done
}

# Deleting a namespace also deletes its veth ends (and so the peers).  Only
# called once no process of ours is left in them.
net_down() {
    local n ns rc=0 inode p stuck
    for n in "${NODES[@]}" sw; do
        [ "$n" = sw ] && ns=$SWNS || ns=$(nsname "$n")
        ns_exists "$ns" || continue
        # Someone else's process (not in a node's mount namespace, so not
        # ours to kill) would keep the namespace alive after `ip netns del`:
        # say so instead of leaving it silently.
        inode=$(stat -L -c %i "/run/netns/$ns" 2>/dev/null)
        if [ -n "$inode" ]; then
            stuck=$(find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
                awk -v l="net:[$inode]" '$2 == l { split($1, a, "/"); printf "%s ", a[3] }')
            [ -z "$stuck" ] || err "processes still in namespace $ns (not ours, left alone): $stuck"
        fi
        ip netns del "$ns" || rc=1
    done
    return $rc
}

# --- preparing a fresh node ---------------------------------------------------

# Only what we create ourselves, plus extra-binds: a fresh cluster must not
# inherit the bind mounts of an earlier test run (use `bind` after `start`).
# Whatever else lives in $STATE/nN (e.g. a test's datadirs) is left alone.
prepare_node() {
    local d n nodes=()
    d=$(nd "$1")
    prepare_state_dir "$d" || return 1
    rm -rf "$d"/run "$d"/extra-binds
    mkdir -p "$d"/run || return 1
    for n in "${NODES[@]}"; do nodes+=("$n" "node$n" "$(addr "$n")"); done
    write_corosync_conf "$d/etc-corosync/corosync.conf" \
        "Short token (default 3000ms): a dead node is noticed after about
token + consensus (1.2 x token) = 2.2s, so failover tests are fast.
Fine on one machine: the \"network\" is a bridge with no latency." \
        "$((SIZE / 2 + 1)) of $SIZE votes: a minority loses quorum (no-quorum-policy=stop)" \
        "${nodes[@]}" &&
        seed_cib "$d/var-lib-pacemaker/cib/cib.xml" 20s no-quorum-policy=stop
}

# --- starting and stopping nodes ----------------------------------------------

show_logs() {
    local n
    for n in "$@"; do show_state_logs "$(nd "$n")/log" 15; done
}

# launch N -> start node N's launcher in the background; returns once the
# node's mount namespace is known (recorded in $STATE/nN/mntns).
launch() {
    local n=$1 d pid i p ns=""
    d=$(nd "$n")
    # like a reboot: /run is a tmpfs
    rm -rf "$d/run" && mkdir -p "$d/run" && chmod 755 "$d/run" || return 1
    rm -f "$d"/{launcher,corosync,pacemakerd}.pid "$d"/mntns "$d"/corosync.ready
    # setsid, ip netns exec and unshare all exec in place, so the PID ends
    # up being the launcher itself.
    spawn_launcher "$d/log/launcher.out" PRIVATE_RUN=1 \
        setsid ip netns exec "$(nsname "$n")" \
        unshare -m --propagation private "$LAUNCH" "$d" "node$n"
    pid=$LAUNCHER_PID
    echo "$pid" >"$d/launcher.pid"
    # The launcher writes corosync.pid only after all its bind mounts
    # succeeded; corosync lives in the node's final mount namespace (the PID
    # passes through ip-netns-exec's namespace on its way, so the launcher's
    # own namespace is not a safe thing to sample early).
    for i in $(seq 100); do
        p=$(cat "$d/corosync.pid" 2>/dev/null)
        case "$p" in
        '' | *[!0-9]*) ;;
        *)
            ns=$(readlink "/proc/$p/ns/mnt" 2>/dev/null)
            if [ -n "$ns" ] && [ "$ns" != "$(host_mntns)" ]; then
                echo "$ns" >"$d/mntns"
                return 0
            fi
            ;;
        esac
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    err "node$n: launcher did not start corosync (see $d/log/launcher.out)"
    return 1
}

# mon_xml N -> crm_mon's XML as seen from node N
mon_xml() { node_exec "$1" timeout 10 crm_mon -1 --output-as=xml 2>/dev/null; }

# converged [N...] -> true once every node that has processes (plus the
# nodes N, which must) has both daemons running, sees all of them online, and
# they all agree on one DC.  Prints the state either way.  Nodes just
# launched count from their first process on: otherwise the nodes already up
# could "converge" without them before their pacemakerd exists.
converged() {
    local n m x dc dcs="" up=() missing=""
    for n in "${NODES[@]}"; do node_has_procs "$n" && up+=("$n"); done
    for n in "$@"; do
        case " ${up[*]} " in *" $n "*) ;; *) echo "node$n: not running"; return 1 ;; esac
    done
    [ ${#up[@]} -gt 0 ] || { echo "no node running"; return 1; }
    for n in "${up[@]}"; do
        node_running "$n" || { echo "node$n: corosync or pacemakerd not running"; return 1; }
    done
    for n in "${up[@]}"; do
        x=$(mon_xml "$n") || { echo "node$n: crm_mon failed"; return 1; }
        for m in "${up[@]}"; do
            grep -q "<node name=\"node$m\" [^>]*online=\"true\"" <<<"$x" || missing+=" node$m@node$n"
        done
        dc=$(sed -n 's/.*<current_dc present="true"[^>]* name="\([^"]*\)".*/\1/p' <<<"$x" | head -n 1)
        [ -n "$dc" ] || { echo "node$n: no DC"; return 1; }
        case " $dcs " in *" $dc "*) ;; *) dcs+=" $dc" ;; esac
    done
    [ -z "$missing" ] || { echo "not yet online (node@view):$missing"; return 1; }
    [ "$(wc -w <<<"$dcs")" = 1 ] || { echo "DC not agreed:$dcs"; return 1; }
    echo "online: ${up[*]/#/node}; DC$dcs"
}

# wait_converged SECONDS [N...]
wait_converged() {
    local t=$1 deadline state; shift
    deadline=$(( $(now_ms) + t * 1000 ))
    while :; do
        state=$(converged "$@") && { log "$state"; return 0; }
        [ "$(now_ms)" -lt "$deadline" ] || break
        sleep 0.25
    done
    err "not converged after ${t}s: $state"
    return 1
}

# what stop_state (pcmk-lib.sh) says while it stops node N (LABEL nodeN)
stop_note() {
    local label=$1 what=$2; shift 2
    case "$what" in
    leftover) log "$label: killing leftover processes: $*" ;;
    stuck) err "$label: processes still alive: $*" ;;
    esac
}

# stop_node N TIMEOUT -> clean stop: pacemakerd (stops the resources first),
# then leftovers, then corosync; SIGKILL as a last resort.  Also cleans up a
# node that is half dead.
stop_node() { stop_state "$(nd "$1")" "$2" "node$1" || [ $? = 3 ]; }

# powerloss N... -> every process of every listed node stops at the same
# instant (SIGSTOP to all first, so that nothing - e.g. a mysqld_safe whose
# mariadbd died, or a surviving pacemaker child - can react), then SIGKILL.
# Then what a reboot removes: their /dev/shm files and pid files (the node's
# /run is emptied by its next start).  Data behind extra-binds is untouched.
powerloss() {
    local n pids=() recorded=()
    for n in "$@"; do
        pids+=($(node_pids "$n"))
        recorded+=($(recorded_pids "$n"))
    done
    if [ ${#pids[@]} -gt 0 ]; then
        kill -STOP "${pids[@]}" 2>/dev/null
        kill -KILL "${pids[@]}" 2>/dev/null
        wait_gone 10 "${pids[@]}" || err "still alive after SIGKILL: ${pids[*]}"
    fi
    clean_shm "${pids[@]}" "${recorded[@]}"
    for n in "$@"; do
        if node_has_procs "$n"; then
            err "node$n: processes survived: $(node_pids "$n" | tr '\n' ' ')"
            return 1
        fi
        forget_node "$n"
    done
    log "power lost on $(names "$@"): ${#pids[@]} processes killed"
}

# --- commands -----------------------------------------------------------------

# take_lock (pcmk-lib.sh) serialises start/stop/node-*/bind/powerloss (e.g.
# two test runs); `exec` and `status` do not take it.

preflight() {
    preflight_cmds corosync corosync-cmapctl pacemakerd crm_mon cibadmin ip nsenter \
                   unshare setsid flock timeout hostname find
}

# node_exec N CMD... -> CMD inside node N, with the environment the daemons
# get.  Never falls back to the host's namespaces: a command meant for node N
# must not silently read the host's /var/lib/mysql or /run.
node_exec() {
    local n=$1 pid; shift
    pid=$(nspid "$n") || { err "node$n is down: not running '$*'"; return $RC_DOWN; }
    # --wdns=/: cwd resolved inside the node (the caller's cwd may not exist
    # there, and agents run from / too)
    nsenter -t "$pid" -n -m -u --wdns=/ -- "${CLEANENV[@]}" "$@"
}

cmd_exec() {
    local n=${1:-} pid
    [ $# -ge 2 ] || { echo "usage: $0 exec N CMD..." >&2; exit 2; }
    valid_node "$n" || exit 2
    shift
    pid=$(nspid "$n") || { err "node$n is down: not running '$*'"; exit $RC_DOWN; }
    # exec: the command replaces this shell, so a caller's timeout that kills
    # our PID kills the command itself, and its exit code is ours
    exec nsenter -t "$pid" -n -m -u --wdns=/ -- "${CLEANENV[@]}" "$@"
}

cmd_start() {
    local t0 n any=0 down=()
    preflight
    take_lock
    for n in "${NODES[@]}"; do
        if node_running "$n"; then any=1; else down+=("$n"); fi
    done
    if [ "$any" = 1 ]; then
        # Safe to run twice: an existing cluster is completed, not replaced.
        log "already running (state $S)"
        if [ ${#down[@]} -gt 0 ]; then start_nodes "${down[@]}" || exit 1; fi
        wait_converged "$START_TIMEOUT" "${NODES[@]}" || { show_logs "${NODES[@]}"; exit 1; }
        return 0
    fi
    t0=$(now_ms)
    # a previous run that did not stop cleanly (killed test run...): clean up
    # processes, /dev/shm files and namespaces first, as a reboot would
    do_stop >/dev/null || { err "cannot clean up a previous run"; exit 1; }
    log "starting 3 nodes (state $S)"
    if ! net_up; then
        err "cannot create the network namespaces"
        net_down; exit 1
    fi
    for n in "${NODES[@]}"; do
        prepare_node "$n" || { err "cannot prepare $(nd "$n")"; do_stop; exit 1; }
    done
    for n in "${NODES[@]}"; do
        launch "$n" || { show_logs "$n"; do_stop >&2; exit 1; }
    done
    if ! wait_converged "$START_TIMEOUT" "${NODES[@]}"; then
        show_logs "${NODES[@]}"
        do_stop >&2
        exit 1
    fi
    log "cluster up in $(since "$t0")"
}

# start_nodes N... -> (re)start these nodes with their existing state (fresh
# /run), then wait until every running node sees all of them online
start_nodes() {
    local n t0
    t0=$(now_ms)
    net_complete || { err "the network is not up: run '$0 start' first"; return 1; }
    for n in "$@"; do
        if node_running "$n"; then
            log "node$n already running"
            continue
        fi
        # a half-dead node (e.g. corosync killed): finish it off first
        if node_has_procs "$n"; then
            log "node$n is half dead: stopping what is left of it"
            stop_node "$n" 30 || return 1
        fi
        clean_shm $(recorded_pids "$n")
        forget_node "$n"
        [ -f "$(nd "$n")/etc-corosync/corosync.conf" ] ||
            { err "node$n has no state in $(nd "$n"): run '$0 start' first"; return 1; }
        launch "$n" || { show_logs "$n"; return 1; }
    done
    if [ -n "${PCMK_NETNS_NO_CONVERGE:-}" ]; then
        # a partition (a test's) keeps some nodes apart: no common view to wait for
        log "$(names "$@") launched; not waiting for one view (PCMK_NETNS_NO_CONVERGE)"
        return 0
    fi
    if ! wait_converged "$START_TIMEOUT" "$@"; then
        show_logs "$@"
        return 1
    fi
    log "$(names "$@") started in $(since "$t0")"
}

cmd_node_start() {
    local n
    [ $# -ge 1 ] || { echo "usage: $0 node-start N..." >&2; exit 2; }
    for n in "$@"; do valid_node "$n" || exit 2; done
    preflight
    take_lock
    start_nodes "$@" || exit 1
}

cmd_node_stop() {
    local n t0 rc=0
    [ $# -ge 1 ] || { echo "usage: $0 node-stop N..." >&2; exit 2; }
    for n in "$@"; do valid_node "$n" || exit 2; done
    need_root
    take_lock
    t0=$(now_ms)
    for n in "$@"; do stop_node "$n" "$STOP_TIMEOUT" || rc=1; done
    log "$(names "$@") stopped in $(since "$t0")"
    return $rc
}

cmd_powerloss() {
    local n
    [ $# -ge 1 ] || { echo "usage: $0 powerloss N..." >&2; exit 2; }
    for n in "$@"; do valid_node "$n" || exit 2; done
    need_root
    take_lock
    powerloss "$@"
}

do_stop() {
    local n p t0 rc=0 pids=()
    t0=$(now_ms)
    # All pacemakerds get SIGTERM at once: a node whose peers leave one by
    # one would otherwise recover their resources just to stop them again.
    for n in "${NODES[@]}"; do
        if p=$(pid_of "$n" pacemakerd); then
            kill -TERM "$p" 2>/dev/null && pids+=("$p")
        fi
    done
    if [ ${#pids[@]} -gt 0 ]; then
        log "stopping pacemaker on all nodes (resources first, up to ${STOP_TIMEOUT}s)"
        wait_gone "$STOP_TIMEOUT" "${pids[@]}" || err "pacemakerd still alive after ${STOP_TIMEOUT}s"
    fi
    # then each node: leftovers, corosync (SIGKILL fallbacks inside)
    for n in "${NODES[@]}"; do stop_node "$n" 30 || rc=1; done
    [ "$rc" = 0 ] || { err "some node processes survived: namespaces kept"; return 1; }
    net_down || rc=1
    log "stopped in $(since "$t0")"
    return $rc
}

cmd_stop() {
    need_root
    take_lock
    do_stop
}

cmd_status() {
    local n up=0 p
    for n in "${NODES[@]}"; do
        if node_running "$n"; then
            up=$((up + 1))
            echo "node$n: running (corosync $(pid_of "$n" corosync), pacemakerd $(pid_of "$n" pacemakerd), $(node_pids "$n" | wc -l) processes)"
        elif node_has_procs "$n"; then
            echo "node$n: BROKEN, processes left: $(node_pids "$n" | tr '\n' ' ')"
        else
            echo "node$n: down"
        fi
    done
    [ "$up" -gt 0 ] || return 3
    for n in "${NODES[@]}"; do
        node_running "$n" || continue
        echo "--- crm_mon as seen from node$n"
        node_exec "$n" timeout 10 crm_mon -1 -r
        break
    done
    [ "$up" = ${#NODES[@]} ] || return 1
}

# bind N SRC DST -> record in extra-binds (applied at every later start of
# node N, until the next `start`) and, if the node runs, mount it now.  Same
# rules as the launcher: DST must exist, except under /run (private per node).
cmd_bind() {
    local n=${1:-} src=${2:-} dst=${3:-} d pid
    [ $# = 3 ] || { echo "usage: $0 bind N SRC DST" >&2; exit 2; }
    valid_node "$n" || exit 2
    case "$src$dst" in *[[:space:]]*) err "paths with white space are not supported"; exit 2 ;; esac
    case "$src" in /?*) ;; *) err "SRC must be absolute"; exit 2 ;; esac
    case "$dst" in /?*) ;; *) err "DST must be absolute"; exit 2 ;; esac
    [ -e "$src" ] || { err "$src does not exist"; exit 1; }
    need_root
    take_lock
    d=$(nd "$n")
    [ -d "$d" ] || { err "no state for node$n: run '$0 start' first"; exit 1; }
    if pid=$(nspid "$n"); then
        # what the launcher would do at a start, done now in the node's
        # mount namespace
        nsenter -t "$pid" -m -- sh -c '
            src=$1 dst=$2
            if [ ! -e "$dst" ]; then
                case "$dst" in
                /run/?*) ;;
                *) echo "mount point $dst does not exist (created only under /run)" >&2; exit 1 ;;
                esac
                if [ -d "$src" ]; then mkdir -p "$dst"; else mkdir -p "$(dirname "$dst")" && : >"$dst"; fi || exit 1
            fi
            mount --bind "$src" "$dst"' sh "$src" "$dst" || { err "node$n: cannot bind $src on $dst"; exit 1; }
        log "node$n: $src bound on $dst (now and at every start)"
    else
        log "node$n: $src will be bound on $dst at its next start"
    fi
    grep -qxF "$src $dst" "$d/extra-binds" 2>/dev/null || echo "$src $dst" >>"$d/extra-binds" || exit 1
}

cmd_pids() {
    [ $# = 1 ] || { echo "usage: $0 pids N" >&2; exit 2; }
    valid_node "$1" || exit 2
    node_pids "$1"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
exec) shift; cmd_exec "$@" ;;
node-start) shift; cmd_node_start "$@" ;;
node-stop) shift; cmd_node_stop "$@" ;;
# one node losing power: SIGSTOP+SIGKILL of all its processes, like powerloss
node-kill) [ $# = 2 ] || { echo "usage: $0 node-kill N" >&2; exit 2; }; cmd_powerloss "$2" ;;
powerloss) shift; cmd_powerloss "$@" ;;
wait-online)
    case "${2:-$START_TIMEOUT}" in '' | *[!0-9]*) echo "usage: $0 wait-online [SECONDS]" >&2; exit 2 ;; esac
    need_root
    wait_converged "${2:-$START_TIMEOUT}"
    ;;
bind) shift; cmd_bind "$@" ;;
pids) shift; cmd_pids "$@" ;;
*)
    echo "usage: $0 start|stop|status|exec N CMD...|node-start N...|node-stop N...|node-kill N|powerloss N...|wait-online [SECONDS]|bind N SRC DST|pids N" >&2
    exit 2
    ;;
esac
