# shellcheck shell=bash
# Shared by tools/pcmk-single.sh and tools/pcmk-netns.sh, which source it:
# what both need to run corosync + pacemaker without systemd, each daemon set
# in a private mount namespace started by tools/pcmk-launch.sh.  Not a
# command of its own; it only defines functions and runs nothing.
#
# A "state dir" is what one launcher gets: etc-corosync/, var-lib-corosync/,
# var-lib-pacemaker/, log/, the pid files {launcher,corosync,pacemakerd}.pid
# and mntns, the mount namespace recorded at start.  That namespace is how
# the processes of a state dir are found, never their names: another cluster
# on the host runs the very same programs and must survive.
#
# The sourcing script sets, before sourcing:
#   PROG    its name for messages ("pcmk-single")
#   LAUNCH  the launcher (tools/pcmk-launch.sh)
# and defines, before calling stop_state:
#   clean_shm PID...       remove the /dev/shm files of those PIDs now dead
#   stop_note LABEL EVENT [PID...]   what to say while stop_state works
# It runs with `set -u`: everything here works under it.

log() { printf '%s: %s\n' "$PROG" "$*"; }
err() { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
since() { local d=$(( $(now_ms) - $1 )); printf '%d.%02ds' $((d / 1000)) $((d % 1000 / 10)); }

# The daemons get a clean environment (env -i), as systemd would give them:
# resource agents inherit pacemakerd's environment.
CLEANENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root)

# init_state_dir VAR ENVNAME -> exit 2 unless $VAR is an absolute path; strip
# its trailing "/" and set LOCK.  The lock lives next to the state dir, not
# in it: start wipes the state dir's contents.
init_state_dir() {
    local v=${!1}
    case "$v" in
    /?*) ;;
    *) err "$2 must be an absolute path, not '$v'"; exit 2 ;;
    esac
    v=${v%/}
    printf -v "$1" '%s' "$v"
    LOCK=$(dirname "$v")/.$(basename "$v").lock
}

# --- identifying the processes of a state dir ---------------------------------

host_mntns() { readlink /proc/self/ns/mnt; }

# state_mntns DIR -> the mount namespace recorded in DIR/mntns.  Only one that
# differs from ours is trusted: an empty or garbled file must never make us
# match every process on the host.
state_mntns() {
    local ns
    ns=$(cat "$1/mntns" 2>/dev/null) || return 1
    [ -n "$ns" ] && [ "$ns" != "$(host_mntns)" ] || return 1
    echo "$ns"
}

# mntns_pids NS -> every live PID in mount namespace NS.  One find(1) instead
# of a readlink per process.  Zombies have no namespace links, so they are not
# listed.
mntns_pids() {
    find /proc/[0-9]*/ns/mnt -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
        awk -v ns="$1" '$2 == ns { split($1, a, "/"); print a[3] }'
}

# state_pids DIR -> every live PID of DIR: launcher, corosync, the pacemaker
# daemons, the agents and whatever they started (haproxy, mariadbd...)
state_pids() {
    local ns
    ns=$(state_mntns "$1") || return 0
    mntns_pids "$ns"
}

# state_pid DIR NAME -> the PID in DIR/NAME.pid if it is alive and DIR's (the
# namespace check guards against a stale PID file whose PID was reused)
state_pid() {
    local p ns
    p=$(cat "$1/$2.pid" 2>/dev/null) || return 1
    case "$p" in '' | *[!0-9]*) return 1 ;; esac
    ns=$(state_mntns "$1") || return 1
    [ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$ns" ] || return 1
    echo "$p"
}

# state_recorded_pids DIR -> the PIDs DIR's pid files name, alive or not: a
# daemon that died before we got here still left its files in /dev/shm
state_recorded_pids() {
    local f p
    for f in launcher corosync pacemakerd; do
        p=$(cat "$1/$f.pid" 2>/dev/null) || continue
        case "$p" in '' | *[!0-9]*) ;; *) echo "$p" ;; esac
    done
}

state_forget() { rm -f "$1"/{launcher,corosync,pacemakerd}.pid "$1"/mntns; }

# --- stopping -----------------------------------------------------------------

# alive PID -> true if PID exists and is not a zombie.  A zombie counts as
# dead: it holds nothing but its PID, and whoever its parent is reaps it
# sooner or later (orphans are reparented to PID 1, which may take its time).
# The state follows the last ")" because the command name in between may
# contain spaces.
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

# stop_state DIR TIMEOUT LABEL -> clean stop of DIR's processes: pacemakerd
# (it stops the resources first, up to TIMEOUT seconds), then leftovers, then
# corosync; SIGKILL as a last resort.  Also cleans up a half dead one.  Then
# the /dev/shm files of its dead PIDs (clean_shm) and its pid files go.
# LABEL ("node2", or "") prefixes the names in stop_pid's messages; the
# caller's stop_note LABEL EVENT [PID...] says the rest: EVENT pacemakerd,
# corosync (about to be stopped), leftover (being killed), stuck (survived).
# rc 0 stopped, 1 some process survived, 3 nothing was running.
stop_state() {
    local d=$1 t=$2 label=$3 p pid co la seen=() leftover=() recorded=()
    recorded=($(state_recorded_pids "$d"))
    seen=($(state_pids "$d"))
    if [ ${#seen[@]} = 0 ]; then
        clean_shm "${recorded[@]}"
        state_forget "$d"
        return 3
    fi
    if pid=$(state_pid "$d" pacemakerd); then
        stop_note "$label" pacemakerd
        stop_pid "${label:+$label }pacemakerd" "$pid" "$t"
    fi
    # Pacemaker children after a SIGKILLed pacemakerd, daemons an agent left
    # behind: killed before corosync so nothing reacts to the membership
    # going away.
    co=$(state_pid "$d" corosync); la=$(state_pid "$d" launcher)
    for p in $(state_pids "$d"); do
        [ "$p" = "$co" ] || [ "$p" = "$la" ] || leftover+=("$p")
    done
    if [ ${#leftover[@]} -gt 0 ]; then
        stop_note "$label" leftover "${leftover[@]}"
        kill -KILL "${leftover[@]}" 2>/dev/null
        wait_gone 10 "${leftover[@]}"
        seen+=("${leftover[@]}")
    fi
    if pid=$(state_pid "$d" corosync); then
        stop_note "$label" corosync
        stop_pid "${label:+$label }corosync" "$pid" 30
    fi
    # the launcher exits by itself once its children are gone
    if pid=$(state_pid "$d" launcher); then
        wait_gone 5 "$pid" || kill -KILL "$pid" 2>/dev/null
    fi
    leftover=($(state_pids "$d"))
    if [ ${#leftover[@]} -gt 0 ]; then
        kill -KILL "${leftover[@]}" 2>/dev/null
        wait_gone 10 "${leftover[@]}"
        seen+=("${leftover[@]}")
    fi
    clean_shm "${seen[@]}" "${recorded[@]}"
    leftover=($(state_pids "$d"))
    if [ ${#leftover[@]} -gt 0 ]; then
        stop_note "$label" stuck "${leftover[@]}"
        return 1
    fi
    state_forget "$d"
}

# --- preparing a fresh state dir ----------------------------------------------

# prepare_state_dir DIR -> DIR with empty daemon state.  Removes only what we
# create ourselves: DIR could be somewhere shared.
prepare_state_dir() {
    local d=$1
    mkdir -p "$d" || return 1
    rm -rf "$d"/etc-corosync "$d"/var-lib-corosync "$d"/var-lib-pacemaker "$d"/log \
           "$d"/mntns "$d"/{launcher,corosync,pacemakerd}.pid "$d"/corosync.ready
    mkdir -p "$d"/etc-corosync "$d"/var-lib-corosync "$d"/log \
             "$d"/var-lib-pacemaker/{cib,pengine,blackbox,cores,lrm} || return 1
    # pacemaker-based/-controld/-schedulerd/-attrd run as hacluster
    chown -R hacluster:haclient "$d"/var-lib-pacemaker "$d"/log || return 1
    chmod 750 "$d"/var-lib-pacemaker/cib
    chmod 775 "$d"/log
}

# conf_comment TEXT -> TEXT's lines as corosync.conf comments in a section
conf_comment() { [ -z "$1" ] || printf '    # %s\n' "${1//$'\n'/$'\n'    # }"; }

# write_corosync_conf FILE TOKEN_NOTE QUORUM_NOTE [ID NAME ADDR]... -> knet,
# no crypto, short token, votequorum; a node per ID NAME ADDR.  The notes
# (may be empty) become the comments of the token and the quorum settings.
write_corosync_conf() {
    local f=$1 token_note=$2 quorum_note=$3
    shift 3
    {
        cat <<EOF
# written by tools/$PROG.sh
totem {
    version: 2
    cluster_name: $CLUSTER_NAME
    transport: knet
    crypto_cipher: none
    crypto_hash: none
EOF
        conf_comment "$token_note"
        cat <<EOF
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
EOF
        conf_comment "$quorum_note"
        cat <<EOF
    provider: corosync_votequorum
}
nodelist {
EOF
        while [ $# -ge 3 ]; do
            printf '    node {\n        nodeid: %s\n        name: %s\n        ring0_addr: %s\n    }\n' \
                "$1" "$2" "$3"
            shift 3
        done
        echo "}"
    } >"$f"
}

# seed_cib CIB_XML RECHECK [NAME=VALUE]... -> a pre-seeded cib.xml: stonith
# off, dc-deadtime=2s (the first DC election takes ~2s instead of 20s), the
# extra cluster properties NAME=VALUE, cluster-recheck-interval=RECHECK, and
# resource-stickiness=100.  No cib.xml.sig is needed: pacemaker-based logs
# "No on-disk digest present" and writes one.  The <cib> header (schema,
# feature set) comes from the installed pacemaker so the seed stays valid
# across pacemaker versions.
seed_cib() {
    local f=$1 recheck=$2 head prop props=""
    shift 2
    for prop in "$@"; do
        props+="        <nvpair id=\"cib-bootstrap-options-${prop%%=*}\" name=\"${prop%%=*}\" value=\"${prop#*=}\"/>"$'\n'
    done
    head=$(cibadmin --empty 2>/dev/null | grep -o '<cib [^>]*>' | head -n 1)
    [ -n "$head" ] || head='<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">'
    cat >"$f" <<EOF
$head
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="2s"/>
${props}        <nvpair id="cib-bootstrap-options-cluster-recheck-interval" name="cluster-recheck-interval" value="$recheck"/>
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

# --- starting -----------------------------------------------------------------

# spawn_launcher LOG CMD... -> CMD (setsid ... pcmk-launch.sh ...) in the
# background with the daemons' clean environment (plus PCMK_debug if set);
# LAUNCHER_PID is its PID.  CMD may start with VAR=VALUE words for env(1).
# setsid: own session, so a Ctrl-C or a test runner killing its process
# group does not hit the daemons.  Redirections (and 9>&-: the lock fd)
# so that nothing of the caller is held open by the daemons; otherwise a
# caller capturing our output (subprocess.run) would wait forever.
spawn_launcher() {
    local log=$1; shift
    "${CLEANENV[@]}" ${PCMK_debug:+PCMK_debug=$PCMK_debug} "$@" \
        >>"$log" 2>&1 </dev/null 9>&- &
    LAUNCHER_PID=$!
}

# show_state_logs LOGDIR LINES -> the last LINES lines of each daemon log
show_state_logs() {
    local f
    for f in launcher.out corosync.out corosync.log pacemakerd.out pacemaker.log; do
        [ -s "$1/$f" ] || continue
        echo "----- $1/$f (last $2 lines)" >&2
        tail -n "$2" "$1/$f" >&2
    done
}

# --- commands -----------------------------------------------------------------

need_root() { [ "$(id -u)" = 0 ] || { err "must run as root"; exit 1; }; }

# preflight_cmds CMD... -> exit 1 unless root, every CMD exists and the
# launcher is executable
preflight_cmds() {
    local c missing=()
    need_root
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || missing+=("$c")
    done
    if [ ${#missing[@]} -gt 0 ]; then err "missing commands: ${missing[*]}"; exit 1; fi
    [ -x "$LAUNCH" ] || { err "$LAUNCH is not executable"; exit 1; }
}

# take_lock -> exclusive $LOCK on fd 9, held until we exit: serialises
# concurrent start/stop (e.g. two test runs)
take_lock() {
    mkdir -p "$(dirname "$LOCK")" || exit 1
    exec 9>"$LOCK" || exit 1
    flock -w $((STOP_TIMEOUT + 60)) 9 || { err "could not lock $LOCK"; exit 1; }
}
