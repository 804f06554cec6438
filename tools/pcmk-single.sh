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
#  * A pre-seeded cib.xml (stonith off, dc-deadtime=2s) brings start-up from
#    ~22s (default 20s DC election timer) down to ~5s.
#  * "Our" processes are identified by the mount namespace recorded at start
#    (and the PID files), never by process name: another cluster or a
#    developer's haproxy on the same host must survive `stop`.
set -u
umask 022
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAUNCH=$HERE/pcmk-launch.sh
D=${PCMK_STATE:-/var/tmp/mirantis-ocf/single}
NODE=$(uname -n)
CLUSTER_NAME=mirantis-ocf
START_TIMEOUT=${PCMK_START_TIMEOUT:-90}
# pacemakerd stops every resource before exiting; give slow agents room.
STOP_TIMEOUT=${PCMK_STOP_TIMEOUT:-120}
CLEANENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root)

log() { printf 'pcmk-single: %s\n' "$*"; }
err() { printf 'pcmk-single: ERROR: %s\n' "$*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
since() { local d=$(( $(now_ms) - $1 )); printf '%d.%02ds' $((d / 1000)) $((d % 1000 / 10)); }

case "$D" in
/?*) ;;
*) err "PCMK_STATE must be an absolute path, not '$D'"; exit 2 ;;
esac
D=${D%/}
# The lock lives next to the state dir: start wipes the state dir's contents.
LOCK=$(dirname "$D")/.$(basename "$D").lock

# --- identifying our processes ----------------------------------------------

host_ns() { readlink /proc/self/ns/mnt; }

# The launcher records its mount namespace at start.  Only a namespace that
# differs from ours can be trusted (an empty/garbled file must not make us
# match every process on the host).
cluster_ns() {
    local ns
    ns=$(cat "$D/mntns" 2>/dev/null) || return 1
    [ -n "$ns" ] && [ "$ns" != "$(host_ns)" ] || return 1
    echo "$ns"
}

# in_ns PID NS -> true if PID is alive and lives in mount namespace NS
in_ns() {
    [ -n "$1" ] && [ "$(readlink "/proc/$1/ns/mnt" 2>/dev/null)" = "$2" ]
}

# pid_of NAME -> the PID from $D/NAME.pid if that process is alive and ours.
# The namespace check guards against a stale PID file whose PID was reused.
pid_of() {
    local p ns
    p=$(cat "$D/$1.pid" 2>/dev/null) || return 1
    case "$p" in '' | *[!0-9]*) return 1 ;; esac
    ns=$(cluster_ns) || return 1
    in_ns "$p" "$ns" || return 1
    echo "$p"
}

# ns_pids -> every PID in the cluster's mount namespace: launcher, corosync,
# pacemaker daemons, resource agents and whatever they started (haproxy...).
ns_pids() {
    local ns f
    ns=$(cluster_ns) || return 0
    for f in /proc/[0-9]*/ns/mnt; do
        [ "$(readlink "$f" 2>/dev/null)" = "$ns" ] || continue
        f=${f#/proc/}
        echo "${f%%/*}"
    done
}

pidfiles_left() {
    local f
    for f in launcher corosync pacemakerd; do [ -e "$D/$f.pid" ] && return 0; done
    return 1
}

daemons_running() { pid_of corosync >/dev/null || pid_of pacemakerd >/dev/null; }

# wait_gone SECONDS PID... -> true once none of the PIDs is alive
wait_gone() {
    local t=$1 i p alive; shift
    for i in $(seq $((t * 10))); do
        alive=0
        for p in "$@"; do
            # A zombie counts as gone: its parent (the launcher, or PID 1 for
            # orphans) reaps it.  The state follows the last ")" because the
            # command name in between may contain spaces.
            if [ -r "/proc/$p/stat" ] &&
                [ "$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$p/stat" 2>/dev/null)" != Z ]; then
                alive=1; break
            fi
        done
        [ "$alive" = 0 ] && return 0
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

show_logs() {
    local f
    for f in launcher.out corosync.out corosync.log pacemakerd.out pacemaker.log; do
        [ -s "$D/log/$f" ] || continue
        echo "----- $D/log/$f (last 25 lines)" >&2
        tail -n 25 "$D/log/$f" >&2
    done
}

# --- preparing a fresh node -------------------------------------------------

prepare_state() {
    mkdir -p "$D" || return 1
    # Only what we create ourselves: PCMK_STATE could point somewhere shared.
    rm -rf "$D"/etc-corosync "$D"/var-lib-corosync "$D"/var-lib-pacemaker "$D"/log \
           "$D"/mntns "$D"/{launcher,corosync,pacemakerd}.pid "$D"/corosync.ready
    mkdir -p "$D"/etc-corosync "$D"/var-lib-corosync "$D"/log \
             "$D"/var-lib-pacemaker/{cib,pengine,blackbox,cores,lrm} || return 1
    # pacemaker-based/-controld/-schedulerd/-attrd run as hacluster
    chown -R hacluster:haclient "$D"/var-lib-pacemaker "$D"/log || return 1
    chmod 750 "$D"/var-lib-pacemaker/cib
    chmod 775 "$D"/log
}

write_corosync_conf() {
    cat >"$D/etc-corosync/corosync.conf" <<EOF
# written by tools/pcmk-single.sh
totem {
    version: 2
    cluster_name: $CLUSTER_NAME
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    # short token: faster membership settling (default 3000ms)
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
    provider: corosync_votequorum
}
nodelist {
    node {
        nodeid: 1
        name: $NODE
        ring0_addr: 127.0.0.1
    }
}
EOF
}

# No cib.xml.sig is needed: pacemaker-based logs "No on-disk digest present"
# and writes one.  The <cib> header (schema, feature set) comes from the
# installed pacemaker so the seed stays valid across pacemaker versions.
seed_cib() {
    local head f=$D/var-lib-pacemaker/cib/cib.xml
    head=$(cibadmin --empty 2>/dev/null | grep -o '<cib [^>]*>' | head -n 1)
    [ -n "$head" ] || head='<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">'
    cat >"$f" <<EOF
$head
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="2s"/>
        <nvpair id="cib-bootstrap-options-cluster-recheck-interval" name="cluster-recheck-interval" value="30s"/>
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

# --- commands ---------------------------------------------------------------

take_lock() {
    mkdir -p "$(dirname "$LOCK")" || exit 1
    exec 9>"$LOCK" || exit 1
    # serialises concurrent start/stop (e.g. two test runs)
    flock -w $((STOP_TIMEOUT + 60)) 9 || { err "could not lock $LOCK"; exit 1; }
}

preflight() {
    local c missing=()
    [ "$(id -u)" = 0 ] || { err "must run as root"; exit 1; }
    for c in corosync corosync-cmapctl pacemakerd crm_mon cibadmin crm_resource unshare setsid flock; do
        command -v "$c" >/dev/null 2>&1 || missing+=("$c")
    done
    if [ ${#missing[@]} -gt 0 ]; then err "missing commands: ${missing[*]}"; exit 1; fi
    [ -x "$LAUNCH" ] || { err "$LAUNCH is not executable"; exit 1; }
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
    prepare_state || { err "cannot prepare $D"; exit 1; }
    write_corosync_conf
    seed_cib || { err "cannot write the CIB seed"; exit 1; }
    # setsid: own session, so a Ctrl-C or a test runner killing its process
    # group does not hit the daemons.  Redirections (and 9>&-: the lock fd)
    # so that nothing of the caller is held open by the daemons; otherwise a
    # caller capturing our output (subprocess.run) would wait forever.
    "${CLEANENV[@]}" ${PCMK_debug:+PCMK_debug=$PCMK_debug} \
        setsid unshare -m --propagation private "$LAUNCH" "$D" \
        >"$D/log/launcher.out" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$D/launcher.pid"
    # unshare execs the launcher in place: once its namespace differs from
    # ours, record it (this is what `stop` trusts).
    local i ns=""
    for i in $(seq 50); do
        ns=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null) || break
        [ "$ns" != "$(host_ns)" ] && break
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

do_stop() {
    local p pid seen=() leftover recorded=()
    # PIDs our files name, alive or not: a corosync that died (or was killed)
    # before this stop still left its files in /dev/shm
    for p in launcher corosync pacemakerd; do
        pid=$(cat "$D/$p.pid" 2>/dev/null) || continue
        case "$pid" in '' | *[!0-9]*) ;; *) recorded+=("$pid") ;; esac
    done
    seen=($(ns_pids))
    if [ ${#seen[@]} = 0 ]; then
        log "not running"
        clean_shm "${recorded[@]}"
        rm -f "$D"/{launcher,corosync,pacemakerd}.pid "$D"/mntns
        return 0
    fi
    local t0; t0=$(now_ms)
    # pacemakerd first: it stops all resources, then its children, then exits
    if pid=$(pid_of pacemakerd); then
        log "stopping pacemaker (resources first, up to ${STOP_TIMEOUT}s)"
        stop_pid pacemakerd "$pid" "$STOP_TIMEOUT"
    fi
    # Whatever is left except corosync/launcher: pacemaker children after a
    # SIGKILLed pacemakerd, or daemons an agent left behind.  Killed before
    # corosync so nothing reacts to the membership going away.
    leftover=()
    for p in $(ns_pids); do
        [ "$p" = "$(pid_of corosync)" ] || [ "$p" = "$(pid_of launcher)" ] || leftover+=("$p")
    done
    if [ ${#leftover[@]} -gt 0 ]; then
        log "killing leftover processes in the cluster namespace: ${leftover[*]}"
        kill -KILL "${leftover[@]}" 2>/dev/null
        wait_gone 10 "${leftover[@]}"
    fi
    if pid=$(pid_of corosync); then
        log "stopping corosync"
        stop_pid corosync "$pid" 30
    fi
    # the launcher exits by itself once its children are gone
    if pid=$(pid_of launcher); then
        wait_gone 5 "$pid" || kill -KILL "$pid" 2>/dev/null
    fi
    leftover=($(ns_pids))
    if [ ${#leftover[@]} -gt 0 ]; then
        kill -KILL "${leftover[@]}" 2>/dev/null
        wait_gone 10 "${leftover[@]}"
        seen+=("${leftover[@]}")
    fi
    clean_shm "${seen[@]}" "${recorded[@]}"
    leftover=($(ns_pids))
    if [ ${#leftover[@]} -gt 0 ]; then
        err "processes still alive in the cluster namespace: ${leftover[*]}"
        return 1
    fi
    rm -f "$D"/{launcher,corosync,pacemakerd}.pid "$D"/mntns
    log "stopped in $(since "$t0")"
}

cmd_stop() {
    [ "$(id -u)" = 0 ] || { err "must run as root"; exit 1; }
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
