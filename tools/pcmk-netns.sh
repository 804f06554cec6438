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
set -u
umask 022
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAUNCH=$HERE/pcmk-launch.sh
S=${PCMK_NETNS_STATE:-/var/tmp/mirantis-ocf/netns}
NODES=(1 2 3)
NSPFX=mocf            # namespaces mocf-n1..3 and mocf-sw
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
CLEANENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root)

log() { printf 'pcmk-netns: %s\n' "$*"; }
err() { printf 'pcmk-netns: ERROR: %s\n' "$*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
since() { local d=$(( $(now_ms) - $1 )); printf '%d.%02ds' $((d / 1000)) $((d % 1000 / 10)); }

case "$S" in
/?*) ;;
*) err "PCMK_NETNS_STATE must be an absolute path, not '$S'"; exit 2 ;;
esac
S=${S%/}
# next to the state dir, not in it: nothing of ours may be wiped while held
LOCK=$(dirname "$S")/.$(basename "$S").lock

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

host_mntns() { readlink /proc/self/ns/mnt; }

# node_mntns N -> the mount namespace recorded at node N's start.  Only one
# that differs from ours is trusted: an empty or garbled file must never make
# us match every process on the host.
node_mntns() {
    local ns
    ns=$(cat "$(nd "$1")/mntns" 2>/dev/null) || return 1
    [ -n "$ns" ] && [ "$ns" != "$(host_mntns)" ] || return 1
    echo "$ns"
}

# node_pids N -> every live PID in node N's mount namespace: launcher,
# corosync, the pacemaker daemons, the agents and whatever they started, and
# `exec N` commands.  One find(1) instead of a readlink per process: this runs
# in every `exec`.  Zombies have no namespace links, so they are not listed.
node_pids() {
    local ns
    ns=$(node_mntns "$1") || return 0
    find /proc/[0-9]*/ns/mnt -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
        awk -v ns="$ns" '$2 == ns { split($1, a, "/"); print a[3] }'
}

# pid_of N NAME -> the PID in $STATE/nN/NAME.pid if it is alive and node N's
# (the namespace check guards against a stale PID file whose PID was reused)
pid_of() {
    local p ns
    p=$(cat "$(nd "$1")/$2.pid" 2>/dev/null) || return 1
    case "$p" in '' | *[!0-9]*) return 1 ;; esac
    ns=$(node_mntns "$1") || return 1
    [ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$ns" ] || return 1
    echo "$p"
}

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

# alive PID -> true if PID exists and is not a zombie.  A zombie counts as
# dead: it holds nothing but its PID, and whoever its parent is reaps it
# sooner or later (killed nodes' processes are reparented to PID 1, which may
# take its time).  The state follows the last ")" because the command name
# in between may contain spaces.
alive() {
    local st
    st=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ]
}

# wait_gone SECONDS PID... -> true once none of the PIDs is alive
wait_gone() {
    local t=$1 i p any; shift
    [ $# -gt 0 ] || return 0
    for i in $(seq $((t * 10))); do
        any=0
        for p in "$@"; do alive "$p" && { any=1; break; }; done
        [ "$any" = 0 ] && return 0
        sleep 0.1
    done
    return 1
}

# stop_pid NAME PID TIMEOUT -> TERM, wait, KILL
stop_pid() {
    local name=$1 pid=$2 t=$3
    kill -TERM "$pid" 2>/dev/null || return 0
    wait_gone "$t" "$pid" && return 0
    err "$name ($pid) still alive after ${t}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    wait_gone 10 "$pid"
}

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
recorded_pids() {
    local f p
    for f in launcher corosync pacemakerd; do
        p=$(cat "$(nd "$1")/$f.pid" 2>/dev/null) || continue
        case "$p" in '' | *[!0-9]*) ;; *) echo "$p" ;; esac
    done
}

forget_node() { rm -f "$(nd "$1")"/{launcher,corosync,pacemakerd}.pid "$(nd "$1")"/mntns; }

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
    local d; d=$(nd "$1")
    mkdir -p "$d" || return 1
    rm -rf "$d"/etc-corosync "$d"/var-lib-corosync "$d"/var-lib-pacemaker "$d"/log \
           "$d"/run "$d"/mntns "$d"/{launcher,corosync,pacemakerd}.pid "$d"/corosync.ready \
           "$d"/extra-binds
    mkdir -p "$d"/etc-corosync "$d"/var-lib-corosync "$d"/log "$d"/run \
             "$d"/var-lib-pacemaker/{cib,pengine,blackbox,cores,lrm} || return 1
    # pacemaker-based/-controld/-schedulerd/-attrd run as hacluster
    chown -R hacluster:haclient "$d"/var-lib-pacemaker "$d"/log || return 1
    chmod 750 "$d"/var-lib-pacemaker/cib
    chmod 775 "$d"/log
    write_corosync_conf "$d" && seed_cib "$d"
}

write_corosync_conf() {
    local n
    {
        cat <<EOF
# written by tools/pcmk-netns.sh
totem {
    version: 2
    cluster_name: $CLUSTER_NAME
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    # Short token (default 3000ms): a dead node is noticed after about
    # token + consensus (1.2 x token) = 2.2s, so failover tests are fast.
    # Fine on one machine: the "network" is a bridge with no latency.
    token: 1000
    join: 50
}
logging {
    to_stderr: no
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_syslog: no
    timestamp: on
}
quorum {
    # 2 of 3 votes: a lone node loses quorum (no-quorum-policy=stop)
    provider: corosync_votequorum
}
nodelist {
EOF
        for n in "${NODES[@]}"; do
            printf '    node {\n        nodeid: %s\n        name: node%s\n        ring0_addr: %s\n    }\n' \
                "$n" "$n" "$(addr "$n")"
        done
        echo "}"
    } >"$1/etc-corosync/corosync.conf"
}

# No cib.xml.sig is needed: pacemaker-based logs "No on-disk digest present"
# and writes one.  The <cib> header (schema, feature set) comes from the
# installed pacemaker so the seed stays valid across pacemaker versions.
# dc-deadtime=2s: the first DC election takes ~2s instead of 20s.
seed_cib() {
    local head f=$1/var-lib-pacemaker/cib/cib.xml
    head=$(cibadmin --empty 2>/dev/null | grep -o '<cib [^>]*>' | head -n 1)
    [ -n "$head" ] || head='<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">'
    cat >"$f" <<EOF
$head
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="2s"/>
        <nvpair id="cib-bootstrap-options-no-quorum-policy" name="no-quorum-policy" value="stop"/>
        <nvpair id="cib-bootstrap-options-cluster-recheck-interval" name="cluster-recheck-interval" value="20s"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources/>
    <constraints/>
    <rsc_defaults>
      <meta_attributes id="rsc-defaults-options">
        <nvpair id="rsc-defaults-options-resource-stickiness" name="resource-stickiness" value="100"/>
      </meta_attributes>
    </rsc_defaults>
  </configuration>
  <status/>
</cib>
EOF
    chown hacluster:haclient "$f" && chmod 600 "$f"
}

# --- starting and stopping nodes ----------------------------------------------

show_logs() {
    local n f d
    for n in "$@"; do
        d=$(nd "$n")/log
        for f in launcher.out corosync.out corosync.log pacemakerd.out pacemaker.log; do
            [ -s "$d/$f" ] || continue
            echo "----- $d/$f (last 15 lines)" >&2
            tail -n 15 "$d/$f" >&2
        done
    done
}

# launch N -> start node N's launcher in the background; returns once the
# node's mount namespace is known (recorded in $STATE/nN/mntns).
launch() {
    local n=$1 d pid i p ns=""
    d=$(nd "$n")
    # like a reboot: /run is a tmpfs
    rm -rf "$d/run" && mkdir -p "$d/run" && chmod 755 "$d/run" || return 1
    rm -f "$d"/{launcher,corosync,pacemakerd}.pid "$d"/mntns "$d"/corosync.ready
    # setsid: own session, so a Ctrl-C or a test runner killing its process
    # group does not hit the daemons.  Redirections (and 9>&-: the lock fd)
    # so that nothing of the caller is held open by the daemons; otherwise a
    # caller capturing our output (subprocess.run) would wait forever.
    # setsid, ip netns exec and unshare all exec in place, so $! ends up
    # being the launcher itself.
    "${CLEANENV[@]}" PRIVATE_RUN=1 ${PCMK_debug:+PCMK_debug=$PCMK_debug} \
        setsid ip netns exec "$(nsname "$n")" \
        unshare -m --propagation private "$LAUNCH" "$d" "node$n" \
        >>"$d/log/launcher.out" 2>&1 </dev/null 9>&- &
    pid=$!
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

# stop_node N TIMEOUT -> clean stop: pacemakerd (stops the resources first),
# then leftovers, then corosync; SIGKILL as a last resort.  Also cleans up a
# node that is half dead.
stop_node() {
    local n=$1 t=$2 p pid seen=() leftover=() recorded=() co la
    recorded=($(recorded_pids "$n"))
    seen=($(node_pids "$n"))
    if [ ${#seen[@]} = 0 ]; then
        clean_shm "${recorded[@]}"
        forget_node "$n"
        return 0
    fi
    if pid=$(pid_of "$n" pacemakerd); then
        stop_pid "node$n pacemakerd" "$pid" "$t"
    fi
    # Pacemaker children after a SIGKILLed pacemakerd, daemons an agent left
    # behind: killed before corosync so nothing reacts to the membership
    # going away.
    co=$(pid_of "$n" corosync); la=$(pid_of "$n" launcher)
    for p in $(node_pids "$n"); do
        [ "$p" = "$co" ] || [ "$p" = "$la" ] || leftover+=("$p")
    done
    if [ ${#leftover[@]} -gt 0 ]; then
        log "node$n: killing leftover processes: ${leftover[*]}"
        kill -KILL "${leftover[@]}" 2>/dev/null
        wait_gone 10 "${leftover[@]}"
        seen+=("${leftover[@]}")
    fi
    if pid=$(pid_of "$n" corosync); then
        stop_pid "node$n corosync" "$pid" 30
    fi
    # the launcher exits by itself once its children are gone
    if pid=$(pid_of "$n" launcher); then
        wait_gone 5 "$pid" || kill -KILL "$pid" 2>/dev/null
    fi
    leftover=($(node_pids "$n"))
    if [ ${#leftover[@]} -gt 0 ]; then
        kill -KILL "${leftover[@]}" 2>/dev/null
        wait_gone 10 "${leftover[@]}"
        seen+=("${leftover[@]}")
    fi
    clean_shm "${seen[@]}" "${recorded[@]}"
    leftover=($(node_pids "$n"))
    if [ ${#leftover[@]} -gt 0 ]; then
        err "node$n: processes still alive: ${leftover[*]}"
        return 1
    fi
    forget_node "$n"
}

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

take_lock() {
    mkdir -p "$(dirname "$LOCK")" || exit 1
    exec 9>"$LOCK" || exit 1
    # serialises concurrent start/stop/node-* (e.g. two test runs); `exec`
    # and `status` do not take it
    flock -w $((STOP_TIMEOUT + 60)) 9 || { err "could not lock $LOCK"; exit 1; }
}

need_root() { [ "$(id -u)" = 0 ] || { err "must run as root"; exit 1; }; }

preflight() {
    local c missing=()
    need_root
    for c in corosync corosync-cmapctl pacemakerd crm_mon cibadmin ip nsenter \
             unshare setsid flock timeout hostname find; do
        command -v "$c" >/dev/null 2>&1 || missing+=("$c")
    done
    if [ ${#missing[@]} -gt 0 ]; then err "missing commands: ${missing[*]}"; exit 1; fi
    [ -x "$LAUNCH" ] || { err "$LAUNCH is not executable"; exit 1; }
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
